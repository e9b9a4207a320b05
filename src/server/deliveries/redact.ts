import type { IncomingHttpHeaders } from 'node:http';
import { TextDecoder } from 'node:util';
import { SCHEME_SENSITIVE_HEADERS } from '../../common/schemes';

export const REDACTED = '[redacted]';

/**
 * Headers that carry credentials or signatures: the usual ones, and every signature and credential
 * header of the verification schemes (their rows in src/common/schemes.ts).
 */
const SENSITIVE = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-gitlab-token',
  'x-api-key',
  ...SCHEME_SENSITIVE_HEADERS,
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

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The body for the log, cut at `limit` bytes: as text when it is UTF-8 without NUL bytes,
 * otherwise base64 (`bodyEncoding: 'base64'`), so that any bytes can be stored in any database.
 */
export function bodyForLog(
  raw: Buffer | null,
  limit: number,
): { body: string | null; bodyEncoding: 'utf8' | 'base64'; bodyTruncated: boolean; bodyBytes: number } {
  if (!raw || raw.length === 0) return { body: null, bodyEncoding: 'utf8', bodyTruncated: false, bodyBytes: 0 };
  const bodyTruncated = raw.length > limit;
  const kept = raw.subarray(0, limit);
  if (!kept.includes(0)) {
    // A cut may split a multi-byte character at the end: try the few shorter prefixes too.
    const shortest = bodyTruncated ? Math.max(1, kept.length - 3) : kept.length;
    for (let end = kept.length; end >= shortest; end--) {
      try {
        return { body: utf8.decode(kept.subarray(0, end)), bodyEncoding: 'utf8', bodyTruncated, bodyBytes: raw.length };
      } catch {
        // not valid UTF-8 up to here
      }
    }
  }
  return { body: kept.toString('base64'), bodyEncoding: 'base64', bodyTruncated, bodyBytes: raw.length };
}

const ANSWER_BODY_LIMIT = 16 * 1024;
/** The token of a status URL (it is never stored: only its hash). */
const STATUS_TOKEN = /(~status\/)[A-Za-z0-9_-]{16,}/g;
const hideToken = (text: string) => text.replace(STATUS_TOKEN, `$1${REDACTED}`);

/**
 * The answer a caller got, for the log: a status URL's token hidden, and a body longer than
 * 16 KiB (as JSON) cut and marked.
 */
export function answerForLog(answer: { status: number; headers?: Record<string, string>; body?: unknown }): {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  bodyTruncated?: boolean;
} {
  const { status, body } = answer;
  const headers = answer.headers
    ? Object.fromEntries(Object.entries(answer.headers).map(([name, value]) => [name, hideToken(String(value))]))
    : undefined;
  if (body === undefined || body === null) return { status, headers };
  const isText = typeof body === 'string' || Buffer.isBuffer(body);
  const text = hideToken(isText ? String(body) : JSON.stringify(body));
  if (text.length > ANSWER_BODY_LIMIT) {
    return { status, headers, body: text.slice(0, ANSWER_BODY_LIMIT), bodyTruncated: true };
  }
  return { status, headers, body: isText ? text : JSON.parse(text) };
}
