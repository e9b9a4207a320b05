import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (value: string | Buffer): Buffer => createHash('sha256').update(value).digest();

/**
 * Constant-time equality of secrets (tokens, passwords). Both sides are hashed to the same length
 * first, so neither a length mismatch nor the position of the first differing byte shows in the timing.
 */
export function safeEqual(a: string | Buffer, b: string | Buffer): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

const HEX = /^(?:[0-9a-fA-F]{2})+$/;
export const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A signature as sent (hex or base64), decoded to its bytes; null when it is not well formed. */
export function decodeSignature(text: string, encoding: 'hex' | 'base64'): Buffer | null {
  if (text === '' || !(encoding === 'hex' ? HEX : BASE64).test(text)) return null;
  return Buffer.from(text, encoding);
}

/**
 * Constant-time equality of a provided digest with the expected one. A digest's length is
 * public (it follows from the algorithm), so a length mismatch may answer at once.
 */
export function digestsEqual(provided: Buffer, expected: Buffer): boolean {
  return provided.length === expected.length && timingSafeEqual(provided, expected);
}
