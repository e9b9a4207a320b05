import type { IncomingHttpHeaders } from 'node:http';

export const REDACTED = '[redacted]';

/** Headers that carry credentials or signatures in the schemes we know. */
const SENSITIVE = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-hub-signature',
  'x-hub-signature-256',
  'stripe-signature',
  'x-slack-signature',
  'x-shopify-hmac-sha256',
  'webhook-signature',
  'svix-signature',
  'x-gitlab-token',
  'x-api-key',
]);
const SENSITIVE_PATTERN = /token|signature|secret|password|api[-_]?key|auth|session|hmac/i;

/**
 * Headers for the delivery log: Authorization, Cookie and every signature or token header
 * (including the one the webhook's verification names) are replaced by "[redacted]".
 */
export function redactHeaders(headers: IncomingHttpHeaders, extra: string[] = []): Record<string, string> {
  const also = new Set(extra.map((h) => h.toLowerCase()));
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    out[lower] =
      SENSITIVE.has(lower) || also.has(lower) || SENSITIVE_PATTERN.test(lower)
        ? REDACTED
        : Array.isArray(value)
          ? value.join(', ')
          : String(value);
  }
  return out;
}

/** The body for the log: text cut at `limit` bytes. */
export function bodyForLog(
  raw: Buffer | null,
  limit: number,
): { body: string | null; bodyTruncated: boolean; bodyBytes: number } {
  if (!raw || raw.length === 0) return { body: null, bodyTruncated: false, bodyBytes: 0 };
  const cut = raw.length > limit;
  return { body: raw.subarray(0, limit).toString('utf8'), bodyTruncated: cut, bodyBytes: raw.length };
}
