import { createHash } from 'node:crypto';
import { getHeader } from './headers';
import { hmac, signatureInvalid } from './hmac';
import { firstSecret, matchesAnySignature } from './secrets';
import type { RequestSigner, SenderRequest, VerificationConfig, Verifier } from './types';

/**
 * The URL Twilio signed: the configured `url` (the public URL exactly as entered at Twilio); when
 * it has no query, the query this request came with (Twilio adds `bodySHA256` to JSON requests).
 */
function signedUrl(config: VerificationConfig, request: Pick<SenderRequest, 'querystring'>): string {
  const url = typeof config.url === 'string' ? config.url : '';
  return url.includes('?') || request.querystring === '' ? url : `${url}?${request.querystring}`;
}

/** Twilio signs the URL as it called it: with the default port written out or not. */
function portVariants(url: string): string[] {
  const match = /^(https?:\/\/)([^/?#:]+)(:\d+)?(.*)$/i.exec(url);
  if (!match) return [url];
  const [, scheme, host, port, rest] = match;
  const fallback = scheme.toLowerCase() === 'https://' ? ':443' : ':80';
  return port ? [url, scheme + host + rest] : [url, scheme + host + fallback + rest];
}

/** Form parameters sorted by name, each name followed by its value(s) (sorted, without repeats). */
function formData(raw: Buffer): string {
  const params = new URLSearchParams(raw.toString('utf8'));
  const names = [...new Set(params.keys())].sort();
  return names
    .map((name) =>
      [...new Set(params.getAll(name))]
        .sort()
        .map((v) => name + v)
        .join(''),
    )
    .join('');
}

/**
 * Twilio: `X-Twilio-Signature` = base64 HMAC-SHA1 (Auth Token) of the URL followed by the sorted
 * form parameters; a JSON body is instead proved by `bodySHA256` (hex SHA-256) in the signed URL.
 */
export const verifyTwilio: Verifier = (config, headers, raw, _now, request) => {
  const signature = getHeader(headers, 'X-Twilio-Signature');
  if (signature === undefined) throw signatureInvalid('Missing X-Twilio-Signature header');
  const url = signedUrl(config, request);
  const type = (getHeader(headers, 'Content-Type') ?? '').toLowerCase();
  const bodyHash = new URLSearchParams(url.split('?')[1] ?? '').get('bodySHA256');
  const form = bodyHash === null && type.startsWith('application/x-www-form-urlencoded');
  const data = form ? formData(raw) : '';
  const ok = portVariants(url).some((candidate) =>
    matchesAnySignature(config.authToken, [signature], 'base64', (token) => hmac('sha1', token, candidate, data)),
  );
  if (!ok) throw signatureInvalid('X-Twilio-Signature does not match the URL and parameters');
  if (bodyHash !== null && createHash('sha256').update(raw).digest('hex') !== bodyHash.toLowerCase()) {
    throw signatureInvalid('bodySHA256 does not match the request body');
  }
  if (bodyHash === null && !form && raw.length > 0) {
    throw signatureInvalid('A Twilio request with a body that is not a form must carry bodySHA256 in its URL');
  }
};

/**
 * Signs as Twilio does: a form body by its sorted parameters; any other body by `bodySHA256` (hex
 * SHA-256), added to the query, which is part of the signed URL (the configured `url`).
 */
export const signTwilio: RequestSigner = (config, raw, _now, context) => {
  const type = (context.headers['content-type'] ?? '').toLowerCase();
  const form = type.startsWith('application/x-www-form-urlencoded');
  const base = typeof config.url === 'string' ? config.url : '';
  const query: Record<string, string> = {};
  if (!form && raw.length > 0 && !base.includes('?')) query.bodySHA256 = createHash('sha256').update(raw).digest('hex');
  const querystring = [context.querystring, new URLSearchParams(query).toString()].filter(Boolean).join('&');
  const url = signedUrl(config, { querystring });
  const signature = hmac('sha1', firstSecret(config.authToken), url, form ? formData(raw) : '').toString('base64');
  return { headers: { 'x-twilio-signature': signature }, query };
};
