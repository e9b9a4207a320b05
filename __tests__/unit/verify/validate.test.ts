import { describe, expect, it } from 'vitest';
import { formatProblem } from '../../../src/common/checks';
import { WebhookError } from '../../../src/server/answer';
import { SECRET_FIELDS, validateVerification, verifyRequest } from '../../../src/server/verify';

const whsec = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;

describe('validateVerification', () => {
  it('accepts every well-formed type, and a missing verification (none)', () => {
    const good = [
      undefined,
      null,
      { type: 'none' },
      { type: 'basic', username: 'u', password: 'p' },
      { type: 'basic', username: 'u', password: ['p1', 'p2'] },
      { type: 'token', token: 't' },
      { type: 'token', token: ['t1', 't2'], header: 'X-Gitlab-Token' },
      { type: 'token', token: 't', header: '' },
      { type: 'hmac', secret: 's', header: 'X-Signature' },
      {
        type: 'hmac',
        secret: ['a', 'b'],
        header: 'X-Signature',
        algorithm: 'sha512',
        encoding: 'base64',
        prefix: 'v1=',
      },
      { type: 'github', secret: 's' },
      { type: 'stripe', secret: 'whsec_x', toleranceSeconds: 600 },
      { type: 'slack', secret: ['a', 'b'] },
      { type: 'shopify', secret: 's' },
      { type: 'standard', secret: whsec },
      { type: 'standard', secret: [whsec, whsec.slice(6)], toleranceSeconds: 30 },
    ];
    for (const v of good) expect(validateVerification(v), JSON.stringify(v)).toBeNull();
  });

  it('names the faulty field', () => {
    const cases: Array<[unknown, string[]]> = [
      ['basic', ['type']],
      [[], ['type']],
      [{}, ['type']],
      [{ type: 'oauth' }, ['type']],
      [{ type: 'toString' }, ['type']],
      [{ type: 'basic' }, ['username', 'password']],
      [{ type: 'basic', username: 'u', password: '' }, ['password']],
      [{ type: 'token' }, ['token']],
      [{ type: 'token', token: 't', header: 'not a header' }, ['header']],
      [{ type: 'hmac', secret: 's' }, ['header']],
      [{ type: 'hmac', header: 'X-Sig' }, ['secret']],
      [{ type: 'hmac', secret: 's', header: 'X-Sig', algorithm: 'md5' }, ['algorithm']],
      [{ type: 'hmac', secret: 's', header: 'X-Sig', encoding: 'base32' }, ['encoding']],
      [{ type: 'hmac', secret: 's', header: 'X-Sig', prefix: 5 }, ['prefix']],
      [{ type: 'github' }, ['secret']],
      [{ type: 'github', secret: [] }, ['secret']],
      [{ type: 'github', secret: [''] }, ['secret']],
      [{ type: 'github', secret: ['ok', 42] }, ['secret']],
      [{ type: 'shopify', secret: 42 }, ['secret']],
      [{ type: 'stripe', secret: 's', toleranceSeconds: 0 }, ['toleranceSeconds']],
      [{ type: 'slack', secret: 's', toleranceSeconds: -5 }, ['toleranceSeconds']],
      [{ type: 'standard', secret: whsec, toleranceSeconds: '300' }, ['toleranceSeconds']],
      [{ type: 'standard', secret: 'whsec_not base64!' }, ['secret']],
      [{ type: 'standard', secret: [whsec, 'whsec_'] }, ['secret']],
    ];
    for (const [v, fields] of cases) {
      const errors = validateVerification(v);
      expect(Object.keys(errors ?? {}).sort(), JSON.stringify(v)).toEqual([...fields].sort());
      for (const problem of Object.values(errors ?? {})) expect(formatProblem(problem).length).toBeGreaterThan(10);
    }
  });

  it('lists the secret fields to mask', () => {
    expect([...SECRET_FIELDS].sort()).toEqual(
      [
        'password',
        'secret',
        'token',
        'encodingAESKey',
        'aesKey',
        'verificationToken',
        'encryptKey',
        'verifyToken',
        'authToken',
        'clientState',
      ].sort(),
    );
  });
});

describe('verifyRequest', () => {
  it('lets anything through for none', () => {
    expect(() => verifyRequest({ type: 'none' }, {}, Buffer.alloc(0), 0)).not.toThrow();
  });

  it('fails closed, with a plain error, on an unknown type', () => {
    for (const type of ['oauth', 'toString', '__proto__']) {
      const run = () => verifyRequest({ type }, {}, Buffer.alloc(0), 0);
      expect(run).toThrow(/Unknown verification type/);
      expect(run).not.toThrow(WebhookError);
    }
  });
});
