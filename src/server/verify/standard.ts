import { randomUUID, verify } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { MESSAGES } from '../../common/messages';
import { CannotSign } from './cannot-sign';
import { BASE64 } from './compare';
import { ed25519Key } from './discord';
import { getHeader } from './headers';
import { hmac, signatureInvalid } from './hmac';
import { matchesAnySignature, secretList } from './secrets';
import { checkTimestamp, parseTimestamp, toleranceOf } from './timestamp';
import type { Signer, VerificationConfig } from './types';

const PREFIX = 'whsec_';
const PUBLIC_PREFIX = 'whpk_';

const publicKeyOf = (secret: string): Buffer | null => {
  if (!secret.startsWith(PUBLIC_PREFIX)) return null;
  const body = secret.slice(PUBLIC_PREFIX.length);
  const key = BASE64.test(body) ? Buffer.from(body, 'base64') : null;
  return key?.length === 32 ? key : null;
};

/**
 * `whsec_<base64>` (the prefix is optional, as in the official libraries), or an Ed25519 public
 * key `whpk_<base64 of 32 bytes>` for asymmetric `v1a` signatures.
 */
export function isStandardSecret(secret: string): boolean {
  if (secret.startsWith(PUBLIC_PREFIX)) return publicKeyOf(secret) !== null;
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
 * `{webhook-id}.{webhook-timestamp}.{body}` keyed with the base64-decoded secret; or `v1a,<base64>`,
 * an Ed25519 signature of the same message, checked with a `whpk_` public key. Other versions are ignored.
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
  const versioned = (version: string) =>
    signature
      .split(' ')
      .filter((s) => s.startsWith(version))
      .map((s) => s.slice(version.length));
  const signatures = versioned('v1,');
  const asymmetric = versioned('v1a,');
  if (signatures.length === 0 && asymmetric.length === 0) {
    throw signatureInvalid('webhook-signature header has no v1 or v1a signature');
  }
  const secrets = secretList(config.secret);
  const symmetric = secrets.filter((s) => !s.startsWith(PUBLIC_PREFIX));
  const sign = (secret: string) => hmac('sha256', keyOf(secret), `${id}.${ts}.`, raw);
  const message = Buffer.concat([Buffer.from(`${id}.${ts}.`, 'utf8'), raw]);
  const publicKeys = secrets.map(publicKeyOf).filter((k): k is Buffer => k !== null);
  const signedAsymmetric = () =>
    asymmetric
      .filter((a) => BASE64.test(a))
      .map((a) => Buffer.from(a, 'base64'))
      .filter((a) => a.length === 64)
      .some((a) => publicKeys.some((key) => verify(null, message, ed25519Key(key), a)));
  const ok =
    (signatures.length > 0 && matchesAnySignature(symmetric, signatures, 'base64', sign)) ||
    (publicKeys.length > 0 && signedAsymmetric());
  if (!ok) throw signatureInvalid('webhook-signature does not match the request body');
  checkTimestamp(timestamp, nowSeconds, toleranceOf(config));
}

/**
 * Signs as a Standard Webhooks sender does, with a fresh `webhook-id` and the first `whsec_`
 * secret. A `whpk_` public key cannot sign: the private key stays with the sender.
 */
export const signStandard: Signer = (config, raw, nowSeconds) => {
  const secret = secretList(config.secret).find((s) => !s.startsWith(PUBLIC_PREFIX));
  if (secret === undefined) throw new CannotSign(MESSAGES.testCannotSign(String(config.type)));
  const id = `msg_test_${randomUUID().replace(/-/g, '')}`;
  const signature = hmac('sha256', keyOf(secret), `${id}.${nowSeconds}.`, raw).toString('base64');
  return { 'webhook-id': id, 'webhook-timestamp': String(nowSeconds), 'webhook-signature': `v1,${signature}` };
};
