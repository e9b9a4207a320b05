import { TextDecoder } from 'node:util';
import { WebhookError } from '../../answer';

export const NUL_MESSAGE = 'Body contains NUL characters, which cannot be stored as text';

/** True when a string, or any key or string inside an object or array, holds a NUL character. */
export function hasNul(value: unknown): boolean {
  const stack = [value];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (v.includes('\0')) return true;
    } else if (v && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        if (k.includes('\0')) return true;
        stack.push(child);
      }
    }
  }
  return false;
}

/** The body as text in its charset; invalid bytes are INVALID_BODY, an unknown charset 415. */
export function decodeText(raw: Uint8Array, charset = 'utf-8'): string {
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(charset, { fatal: true });
  } catch {
    throw new WebhookError('UNSUPPORTED_MEDIA_TYPE', `Charset ${charset} is not supported`);
  }
  let text: string;
  try {
    text = decoder.decode(raw);
  } catch {
    throw new WebhookError('INVALID_BODY', `Body is not valid ${charset}`);
  }
  // Text with NUL is binary in disguise, and PostgreSQL cannot store it in text or JSON.
  if (text.includes('\0')) throw new WebhookError('INVALID_BODY', NUL_MESSAGE);
  return text;
}
