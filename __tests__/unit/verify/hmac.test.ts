import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { WebhookError } from '../../../src/server/answer';
import { verifyRequest } from '../../../src/server/verify';
import { fails, NOW, nodeHeaders, passes } from './helpers';

// A generic scheme has no provider SDK: the expected signatures are computed with node:crypto.
const body = Buffer.from('{"event":"ping","amount":12.5,"note":"grüße"}');
const sign = (secret: string, algorithm = 'sha256', encoding: 'hex' | 'base64' = 'hex', data: Buffer = body) =>
  createHmac(algorithm, secret).update(data).digest(encoding);

describe('hmac', () => {
  for (const algorithm of ['sha1', 'sha256', 'sha512']) {
    for (const encoding of ['hex', 'base64'] as const) {
      it(`accepts ${algorithm} in ${encoding} and refuses a tampered body`, () => {
        const config = { type: 'hmac', secret: 'k3y', header: 'X-Signature', algorithm, encoding };
        const headers = nodeHeaders({ 'X-Signature': sign('k3y', algorithm, encoding) });
        passes(config, headers, body);
        fails('SIGNATURE_INVALID', config, headers, Buffer.from(body.toString().replace('12.5', '125')));
      });
    }
  }

  it('defaults to sha256 in hex', () => {
    passes({ type: 'hmac', secret: 'k3y', header: 'X-Signature' }, { 'x-signature': sign('k3y') }, body);
  });

  it('checks and strips a prefix; hex is case-insensitive', () => {
    const config = { type: 'hmac', secret: 'k3y', header: 'X-Sig', prefix: 'sha256=' };
    passes(config, nodeHeaders({ 'X-Sig': `sha256=${sign('k3y')}` }), body);
    passes(config, nodeHeaders({ 'X-Sig': `SHA256=${sign('k3y').toUpperCase()}` }), body);
    fails('SIGNATURE_INVALID', config, nodeHeaders({ 'X-Sig': sign('k3y') }), body);
    fails('SIGNATURE_INVALID', config, nodeHeaders({ 'X-Sig': `sha1=${sign('k3y')}` }), body);
  });

  it('signs the exact raw bytes', () => {
    const config = { type: 'hmac', secret: 'k3y', header: 'X-Signature' };
    const reformatted = Buffer.from(JSON.stringify(JSON.parse(body.toString()), null, 2));
    fails('SIGNATURE_INVALID', config, { 'x-signature': sign('k3y') }, reformatted);
    const binary = Buffer.from([0, 255, 128, 10, 13]);
    passes(config, { 'x-signature': sign('k3y', 'sha256', 'hex', binary) }, binary);
  });

  it('refuses a wrong secret or a missing header, without leaking the expected signature', () => {
    const config = { type: 'hmac', secret: 'k3y', header: 'X-Signature' };
    const expected = sign('k3y');
    fails('SIGNATURE_INVALID', config, { 'x-signature': sign('other') }, body, NOW, [expected]);
    fails('SIGNATURE_INVALID', config, {}, body, NOW, [expected]);
    fails('SIGNATURE_INVALID', config, { 'x-signature': '' }, body, NOW, [expected]);
  });

  it('accepts any secret of a rotation', () => {
    const config = { type: 'hmac', secret: ['old', 'new'], header: 'X-Signature' };
    passes(config, { 'x-signature': sign('new') }, body);
    passes(config, { 'x-signature': sign('old') }, body);
    fails('SIGNATURE_INVALID', config, { 'x-signature': sign('newer') }, body);
  });

  it('fails closed on a configuration without header or with an unknown algorithm', () => {
    const run = (config: Record<string, unknown>) => () =>
      verifyRequest({ type: 'hmac', secret: 'k3y', ...config }, { 'x-signature': sign('k3y') }, body, NOW);
    expect(run({})).toThrow(/header/);
    expect(run({ header: 'X-Signature', algorithm: 'md5' })).toThrow(/algorithm/);
    expect(run({})).not.toThrow(WebhookError);
  });
});
