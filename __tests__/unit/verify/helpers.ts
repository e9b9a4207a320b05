import type { IncomingHttpHeaders } from 'node:http';
import { expect } from 'vitest';
import { type ErrorCode, WebhookError } from '../../../src/server/answer';
import { type VerificationConfig, verifyRequest } from '../../../src/server/verify';
import { secretList } from '../../../src/server/verify/secrets';

export const NOW = 1_700_000_000;

/** Headers as Node's IncomingMessage builds them: names lower-cased, whatever case the sender used. */
export function nodeHeaders(sent: Record<string, string>): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(sent).map(([name, value]) => [name.toLowerCase(), value]));
}

export function passes(config: VerificationConfig, headers: IncomingHttpHeaders, body: string | Buffer, now = NOW) {
  expect(() => verifyRequest(config, headers, Buffer.from(body), now)).not.toThrow();
}

/**
 * Expects a WebhookError with `code`, and checks its message leaks none of the configured secrets
 * nor any of `hidden` (e.g. the expected signature).
 */
export function fails(
  code: ErrorCode,
  config: VerificationConfig,
  headers: IncomingHttpHeaders,
  body: string | Buffer,
  now = NOW,
  hidden: string[] = [],
): WebhookError {
  let caught: unknown;
  try {
    verifyRequest(config, headers, Buffer.from(body), now);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(WebhookError);
  const error = caught as WebhookError;
  expect(error.code).toBe(code);
  expect(error.status).toBe(401);
  expect(error.message.length).toBeGreaterThan(10);
  const secrets = [config.secret, config.token, config.password].flatMap(secretList);
  for (const s of [...secrets, ...hidden]) expect(error.message).not.toContain(s);
  return error;
}
