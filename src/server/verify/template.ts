import { createHmac, randomUUID } from 'node:crypto';
import { getHeader } from './headers';
import { ALGORITHMS, type Algorithm, ENCODINGS, type Encoding, signatureInvalid } from './hmac';
import { firstSecret, matchesAnySignature } from './secrets';
import { checkTimestamp, toleranceOf } from './timestamp';
import type { RequestSigner, SenderRequest, VerificationConfig, Verifier } from './types';

export const TEMPLATE_PLACEHOLDERS = ['timestamp', 'id', 'body', 'url'] as const;
const PLACEHOLDER = /\{(timestamp|id|body|url)\}/g;

const pick = <T extends string>(value: unknown, allowed: readonly T[], fallback: T): T =>
  allowed.includes(value as T) ? (value as T) : fallback;

/** The signed message: the template's text with `{timestamp}` `{id}` `{url}` filled in and `{body}` as the raw bytes. */
function messageParts(template: string, values: Record<string, string>, raw: Buffer): Array<string | Buffer> {
  const parts: Array<string | Buffer> = [];
  let at = 0;
  for (const match of template.matchAll(PLACEHOLDER)) {
    parts.push(template.slice(at, match.index));
    parts.push(match[1] === 'body' ? raw : values[match[1]]);
    at = (match.index ?? 0) + match[0].length;
  }
  parts.push(template.slice(at));
  return parts;
}

/** The template's settings, with their defaults. */
function optionsOf(config: VerificationConfig) {
  return {
    header: typeof config.header === 'string' ? config.header : '',
    template: typeof config.message === 'string' && config.message !== '' ? config.message : '{body}',
    prefix: typeof config.prefix === 'string' ? config.prefix : '',
    algorithm: pick(config.algorithm, ALGORITHMS, 'sha256') as Algorithm,
    encoding: pick(config.encoding, ENCODINGS, 'hex') as Encoding,
  };
}

/**
 * `t=1700000000,v1=ab…` / `ts=1700000000;h1=ab…`: a signature header that carries its timestamp
 * too (Paddle, Calendly): its entries, split at `,` or `;`.
 */
function headerEntries(value: string): Array<[string, string]> {
  return value
    .split(/[;,]/)
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const eq = part.indexOf('=');
      return eq < 0 ? [part, ''] : [part.slice(0, eq).toLowerCase(), part.slice(eq + 1)];
    });
}
const TIMESTAMP_KEYS = ['t', 'ts', 'timestamp'];

/** Whether the timestamp is an entry of the signature header itself. */
const timestampInSignature = (config: VerificationConfig, header: string) =>
  typeof config.timestampHeader === 'string' &&
  header !== '' &&
  config.timestampHeader.toLowerCase() === header.toLowerCase();

/** A timestamp header in seconds or milliseconds (13 digits and more). */
function secondsOf(value: string): number | undefined {
  if (!/^\d{1,16}$/.test(value)) return undefined;
  const n = Number(value);
  return value.length >= 13 ? Math.floor(n / 1000) : n;
}

/**
 * Any HMAC sender: `{prefix}{encoded HMAC of message}` in `header`, where `message` is a template
 * over `{timestamp}` (from `timestampHeader`, checked within `toleranceSeconds`), `{id}` (from
 * `idHeader`), `{url}` (the URL as this app sees it) and `{body}` (the exact bytes).
 */
export const verifyTemplate: Verifier = (
  config: VerificationConfig,
  headers,
  raw,
  nowSeconds,
  request: SenderRequest,
) => {
  const { header, template, prefix, algorithm, encoding } = optionsOf(config);
  const value = header ? getHeader(headers, header) : undefined;
  if (value === undefined) throw signatureInvalid(`Missing ${header || 'signature'} header`);
  const values: Record<string, string> = { url: request.url, timestamp: '', id: '' };
  let timestamp: number | undefined;
  let provided: string[];
  if (timestampInSignature(config, header)) {
    // `ts=…;h1=…`: the timestamp and the signatures are entries of the one header.
    const entries = headerEntries(value);
    const ts = entries.find(([key]) => TIMESTAMP_KEYS.includes(key))?.[1];
    timestamp = ts === undefined ? undefined : secondsOf(ts);
    if (ts === undefined || timestamp === undefined) {
      throw signatureInvalid(`${header} header has no timestamp entry (t= or ts=)`);
    }
    values.timestamp = ts;
    const key = prefix.replace(/=$/, '').toLowerCase();
    provided = entries.filter(([k]) => k === key).map(([, v]) => v);
  } else {
    if (!value.toLowerCase().startsWith(prefix.toLowerCase())) {
      throw signatureInvalid(`${header} header must start with "${prefix}"`);
    }
    if (typeof config.timestampHeader === 'string' && config.timestampHeader !== '') {
      const ts = getHeader(headers, config.timestampHeader);
      timestamp = ts === undefined ? undefined : secondsOf(ts);
      if (ts === undefined || timestamp === undefined)
        throw signatureInvalid(`Missing or malformed ${config.timestampHeader} header`);
      values.timestamp = ts;
    }
    // Several signatures may be listed (space- or comma-separated) while the sender rotates.
    provided = value
      .slice(prefix.length)
      .trim()
      .split(/[\s,]+/)
      .filter(Boolean);
  }
  if (typeof config.idHeader === 'string' && config.idHeader !== '') {
    const id = getHeader(headers, config.idHeader);
    if (id === undefined) throw signatureInvalid(`Missing ${config.idHeader} header`);
    values.id = id;
  }
  const parts = messageParts(template, values, raw);
  const sign = (secret: string) => {
    const mac = createHmac(algorithm, secret);
    for (const part of parts) mac.update(part);
    return mac.digest();
  };
  if (!matchesAnySignature(config.secret, provided, encoding, sign)) {
    throw signatureInvalid(`${header} signature does not match the signed message`);
  }
  if (timestamp !== undefined) checkTimestamp(timestamp, nowSeconds, toleranceOf(config));
};

/**
 * Signs as the described sender: the timestamp (now, in seconds) and the id (the admin's, or a
 * fresh one) in their headers, and the HMAC of the message in `header`, after `prefix`.
 */
export const signTemplate: RequestSigner = (config, raw, nowSeconds, context) => {
  const { header, template, prefix, algorithm, encoding } = optionsOf(config);
  if (header === '') throw new Error('template verification needs the name of the signature header');
  const headers: Record<string, string> = {};
  const values: Record<string, string> = { url: context.url, timestamp: '', id: '' };
  if (typeof config.timestampHeader === 'string' && config.timestampHeader !== '') {
    values.timestamp = String(nowSeconds);
    headers[config.timestampHeader.toLowerCase()] = values.timestamp;
  }
  if (typeof config.idHeader === 'string' && config.idHeader !== '') {
    const name = config.idHeader.toLowerCase();
    values.id = context.headers[name] || `msg_test_${randomUUID().replace(/-/g, '')}`;
    headers[name] = values.id;
  }
  const mac = createHmac(algorithm, firstSecret(config.secret));
  for (const part of messageParts(template, values, raw)) mac.update(part);
  const signature = prefix + mac.digest(encoding);
  // A header that carries its timestamp too gets both entries, as Paddle sends them.
  headers[header.toLowerCase()] = timestampInSignature(config, header)
    ? `ts=${values.timestamp};${signature}`
    : signature;
  return { headers };
};
