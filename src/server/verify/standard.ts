import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { BASE64 } from './compare';
import { getHeader } from './headers';
import { hmac, signatureInvalid } from './hmac';
import { firstSecret, matchesAnySignature } from './secrets';
import { checkTimestamp, parseTimestamp, toleranceOf } from './timestamp';
import type { Signer, VerificationConfig } from './types';

const PREFIX = 'whsec_';

/** `whsec_<base64>` (the prefix is optional, as in the official libraries). */
export function isStandardSecret(secret: string): boolean {
  const body = secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret;
  return body !== '' && BASE64.test(body);
}

const keyOf = (secret: string): Buffer =>
  Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, 'base64');

/** `webhook-*` headers, or the `svix-*` headers that Svix sends under its own brand. */
const pair = (headers: IncomingHttpHeaders, name: string) =>
  getHeader(headers, `webhook-${name}`) ?? getHeader(headers, `svix-${name}`);

/**
 * Standard Webhooks and Svix: `webhook-signature: v1,<base64> [v1,<base64>…]`, each an HMAC-SHA256 of
 * `{webhook-id}.{webhook-timestamp}.{body}` keyed with the base64-decoded secret. Other versions
 * (e.g. asymmetric `v1a`) are ignored.
 */
export function verifyStandard(
  config: VerificationConfig,
  headers: IncomingHttpHeaders,
  raw: Buffer,
  nowSeconds: number,
): void {
  const id = pair(headers, 'id');
  const ts = pair(headers, 'timestamp');
  const signature = pair(headers, 'signature');
  if (id === undefined || ts === undefined || signature === undefined) {
    throw signatureInvalid('Missing webhook-id, webhook-timestamp or webhook-signature header');
  }
  const timestamp = parseTimestamp(ts);
  if (timestamp === undefined) throw signatureInvalid('Malformed webhook-timestamp header');
  const signatures = signature
    .split(' ')
    .filter((s) => s.startsWith('v1,'))
    .map((s) => s.slice(3));
  if (signatures.length === 0) throw signatureInvalid('webhook-signature header has no v1 signature');
  const sign = (secret: string) => hmac('sha256', keyOf(secret), `${id}.${ts}.`, raw);
  if (!matchesAnySignature(config.secret, signatures, 'base64', sign)) {
    throw signatureInvalid('webhook-signature does not match the request body');
  }
  checkTimestamp(timestamp, nowSeconds, toleranceOf(config));
}

/** Signs as a Standard Webhooks sender does, with a fresh `webhook-id`. */
export const signStandard: Signer = (config, raw, nowSeconds) => {
  const id = `msg_test_${randomUUID().replace(/-/g, '')}`;
  const signature = hmac('sha256', keyOf(firstSecret(config.secret)), `${id}.${nowSeconds}.`, raw).toString('base64');
  return { 'webhook-id': id, 'webhook-timestamp': String(nowSeconds), 'webhook-signature': `v1,${signature}` };
};
