import { createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { ALGORITHMS, ENCODINGS } from '../../common/schemes';
import { refusal } from '../answer';

export { ALGORITHMS, ENCODINGS };

import { getHeader } from './headers';
import { firstSecret, matchesAnySignature } from './secrets';
import type { Signer, VerificationConfig } from './types';

export type Algorithm = (typeof ALGORITHMS)[number];
export type Encoding = (typeof ENCODINGS)[number];

/** HMAC of the parts in order; Buffers are taken byte for byte, strings as UTF-8. */
export function hmac(algorithm: Algorithm, key: string | Buffer, ...parts: Array<string | Buffer>): Buffer {
  const mac = createHmac(algorithm, key);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

export const signatureInvalid = (message: string) => refusal('SIGNATURE_INVALID', message);

export interface HmacHeaderOptions {
  secret: unknown;
  header: string;
  algorithm: Algorithm;
  encoding: Encoding;
  prefix: string;
}

/** One header carrying `{prefix}{encoded HMAC of the raw body}`: the generic scheme, GitHub and Shopify. */
export function verifyHmacHeader(headers: IncomingHttpHeaders, raw: Buffer, options: HmacHeaderOptions): void {
  const { header, algorithm, encoding, prefix } = options;
  const value = getHeader(headers, header);
  if (value === undefined) throw signatureInvalid(`Missing ${header} header`);
  if (!value.toLowerCase().startsWith(prefix.toLowerCase())) {
    throw signatureInvalid(`${header} header must start with "${prefix}"`);
  }
  const provided = value.slice(prefix.length).trim();
  if (!matchesAnySignature(options.secret, [provided], encoding, (secret) => hmac(algorithm, secret, raw))) {
    throw signatureInvalid(`${header} signature does not match the request body`);
  }
}

function pick<T extends string>(value: unknown, allowed: readonly T[], fallback: T, field: string): T {
  if (value === undefined || value === null || value === '') return fallback;
  if (!allowed.includes(value as T)) throw new Error(`Invalid hmac verification ${field}`);
  return value as T;
}

/** `hmac`: `secret`, `header` (required), `algorithm` (sha256), `encoding` (hex), `prefix` (none). */
export function verifyHmac(config: VerificationConfig, headers: IncomingHttpHeaders, raw: Buffer): void {
  if (typeof config.header !== 'string' || config.header === '') {
    throw new Error('hmac verification needs the name of the signature header');
  }
  verifyHmacHeader(headers, raw, {
    secret: config.secret,
    header: config.header,
    algorithm: pick(config.algorithm, ALGORITHMS, 'sha256', 'algorithm'),
    encoding: pick(config.encoding, ENCODINGS, 'hex', 'encoding'),
    prefix: typeof config.prefix === 'string' ? config.prefix : '',
  });
}

/** Signs like `verifyHmac` checks: `{header}: {prefix}{encoded HMAC of the body}`. */
export const signHmac: Signer = (config, raw) => {
  if (typeof config.header !== 'string' || config.header === '') {
    throw new Error('hmac verification needs the name of the signature header');
  }
  const algorithm = pick(config.algorithm, ALGORITHMS, 'sha256', 'algorithm');
  const encoding = pick(config.encoding, ENCODINGS, 'hex', 'encoding');
  const prefix = typeof config.prefix === 'string' ? config.prefix : '';
  return {
    [config.header.toLowerCase()]: prefix + hmac(algorithm, firstSecret(config.secret), raw).toString(encoding),
  };
};
