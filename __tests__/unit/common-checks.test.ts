import { describe, expect, it } from 'vitest';
import * as clientUtils from '../../src/client/utils';
import {
  checkFields,
  fieldChecks,
  formatProblem,
  headerNameProblem,
  invalidIpEntries,
  isOrigin,
  originProblem,
} from '../../src/common/checks';
import { SECRET_MASK } from '../../src/common/constants';
import { validateConfig } from '../../src/server/config';
import { MASK } from '../../src/server/secrets';

const text = (problem: ReturnType<typeof originProblem>) => (problem ? formatProblem(problem) : null);

// The checks the admin form and the server share (src/common/checks.ts).
describe('shared configuration checks', () => {
  it('the form and the server use the same functions and constants', () => {
    expect(clientUtils.fieldChecks).toBe(fieldChecks);
    expect(clientUtils.isOrigin).toBe(isOrigin);
    expect(clientUtils.invalidIpEntries).toBe(invalidIpEntries);
    expect(clientUtils.SECRET_MASK).toBe(SECRET_MASK);
    expect(MASK).toBe(SECRET_MASK);
  });

  describe('CORS origins: the server rule, and the message says what is wrong', () => {
    it.each(['https://example.com', 'http://localhost:3000', 'https://a.b.example.com:8443', '*'])(
      'accepts %s',
      (o) => {
        expect(originProblem(o)).toBeNull();
      },
    );
    it.each([
      ['https://example.com/', 'use "https://example.com"'],
      ['https://example.com/path', 'use "https://example.com"'],
      ['https://Example.com', 'use "https://example.com"'],
      ['https://example.com:443', 'use "https://example.com"'],
      ['ftp://example.com', 'is not an origin such as'],
      ['example.com', 'is not an origin such as'],
      ['', 'is not an origin such as'],
    ])('refuses %j, naming it', (entry, hint) => {
      const message = text(originProblem(entry));
      expect(message).toContain(`"${entry}"`);
      expect(message).toContain(hint);
    });
    it('names the bad entry of a list', () => {
      const message = text(fieldChecks.cors({ origins: ['https://ok.example', 'https://bad.example/'] }));
      expect(message).toContain('"https://bad.example/"');
      expect(text(fieldChecks.cors({ origins: 'https://x' }))).toMatch(/list of origins/);
      expect(fieldChecks.cors({ origins: ['*', 'https://ok.example'] })).toBeNull();
    });
  });

  describe('positive integers: maxBodyBytes and timeoutMs', () => {
    for (const field of ['maxBodyBytes', 'timeoutMs'] as const) {
      it(`${field}: 1 and 30000 pass, unset passes, 0, -1, 1.5 and "10" are refused with the value`, () => {
        for (const v of [1, 30_000, undefined, null]) expect(fieldChecks[field](v)).toBeNull();
        for (const v of [0, -1, 1.5, '10', Number.NaN]) {
          expect(text(fieldChecks[field](v))).toMatch(/whole number greater than 0, got/);
        }
        expect(text(fieldChecks[field](0))).toContain('got 0');
      });
    }
  });

  it('header names', () => {
    for (const v of ['X-GitHub-Delivery', 'webhook-id', '', undefined]) expect(headerNameProblem(v)).toBeNull();
    for (const v of ['X Delivery', 'X:Id', 'é', 42]) expect(text(headerNameProblem(v))).toBe('Not a header name');
  });

  it('IP addresses and CIDR ranges', () => {
    expect(fieldChecks.ipAllowlist(['10.0.0.0/8', '::1', '[::1]', '2001:db8::/32', '::ffff:1.2.3.4'])).toBeNull();
    expect(text(fieldChecks.ipAllowlist(['10.0.0.300', '1.2.3.4/40', 'x']))).toBe(
      'Not an IP address or CIDR range: 10.0.0.300, 1.2.3.4/40, x',
    );
    expect(text(fieldChecks.trustedProxies('10.0.0.1'))).toMatch(/list of IP/);
  });

  it('key, methods, rate limit and response', () => {
    expect(fieldChecks.key('ok_Key-1')).toBeNull();
    expect(fieldChecks.key('has space')).not.toBeNull();
    expect(fieldChecks.methods(['post', 'PUT'])).toBeNull();
    expect(text(fieldChecks.methods(['FETCH']))).toBe('Choose one or more of GET, HEAD, POST, PUT, PATCH, DELETE');
    expect(fieldChecks.methods([])).not.toBeNull();
    expect(fieldChecks.rateLimit({ requests: 10, perSeconds: 60 })).toBeNull();
    expect(fieldChecks.rateLimit({ requests: 0, perSeconds: 60 })).not.toBeNull();
    expect(fieldChecks.response({ status: 202, headers: { 'X-A': '1' }, body: { a: 1 } })).toBeNull();
    expect(text(fieldChecks.response({ status: 700 }))).toContain('got 700');
    expect(text(fieldChecks.response({ headers: { 'bad name': '1' } }))).toBe('"bad name" is not a header name');
  });

  it("the server's validateConfig answers the same problems, naming the field", () => {
    const config = { key: 'k', timeoutMs: 0, maxBodyBytes: -5, cors: { origins: ['https://x.example/'] } };
    const problems = checkFields(config);
    expect(Object.keys(problems).sort()).toEqual(['cors', 'maxBodyBytes', 'timeoutMs']);
    expect(validateConfig(config)).toEqual({
      timeoutMs: 'timeoutMs: Must be a whole number greater than 0, got 0',
      maxBodyBytes: 'maxBodyBytes: Must be a whole number greater than 0, got -5',
      cors: 'cors: "https://x.example/" is not an origin as browsers send it: use "https://x.example"',
    });
  });
});
