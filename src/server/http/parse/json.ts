import sjson from 'secure-json-parse';
import { WebhookError } from '../../answer';
import { decodeText, hasNul, NUL_MESSAGE } from './text';

/** Deepest nesting a JSON or form body may have; deeper bodies are refused as INVALID_BODY. */
export const MAX_DEPTH = 64;

export interface JsonLimits {
  /** Object keys in the whole body (WEBHOOK_MAX_JSON_KEYS). */
  maxKeys: number;
  /** Array items in the whole body, all arrays together (WEBHOOK_MAX_JSON_ARRAY_ITEMS). */
  maxArrayItems: number;
}

const QUOTE = 34;
const BACKSLASH = 92;
const COLON = 58;
const COMMA = 44;
const OPEN_ARRAY = 91;
const CLOSE_ARRAY = 93;
const OPEN_OBJECT = 123;
const CLOSE_OBJECT = 125;
const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;

/**
 * Counts keys, array items and depth in one pass over the text, before it is parsed: a body
 * past a limit is refused without building its objects (a 1 MiB body can hold 110,000 keys, or
 * 500,000 nested arrays, and every later step — storing the context, cloning it for each node,
 * rendering `$context.data` — pays for each of them). Keys and array items are counted over the
 * whole body, so that together they bound the number of values. Only structure outside strings
 * is counted; invalid JSON is left to the parser.
 */
export function checkJsonShape(text: string, limits: JsonLimits): void {
  // Each key costs at least 4 characters ("":0) and each array item 2 (0,): shorter texts cannot
  // pass a limit (their depth is checked after parsing).
  if (text.length < Math.min(4 * limits.maxKeys, 2 * limits.maxArrayItems)) return;
  const isArray = new Uint8Array(MAX_DEPTH + 2);
  let depth = 0;
  let keys = 0;
  let items = 0;
  // After `[` or an array's `,`: the next character that is not blank starts an item (or ends it).
  let expectingItem = false;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
      continue;
    }
    if (expectingItem && !isSpace(c)) {
      expectingItem = false;
      if (c !== CLOSE_ARRAY && ++items > limits.maxArrayItems) {
        throw new WebhookError(
          'PAYLOAD_TOO_LARGE',
          `Body has more than ${limits.maxArrayItems} array items (WEBHOOK_MAX_JSON_ARRAY_ITEMS)`,
        );
      }
    }
    if (c === QUOTE) inString = true;
    else if (c === COLON) {
      if (++keys > limits.maxKeys) {
        throw new WebhookError(
          'PAYLOAD_TOO_LARGE',
          `Body has more than ${limits.maxKeys} JSON keys (WEBHOOK_MAX_JSON_KEYS)`,
        );
      }
    } else if (c === COMMA) {
      if (isArray[depth]) expectingItem = true;
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > MAX_DEPTH) throw new WebhookError('INVALID_BODY', `Body is nested deeper than ${MAX_DEPTH} levels`);
      isArray[depth] = c === OPEN_ARRAY ? 1 : 0;
      expectingItem = c === OPEN_ARRAY;
    } else if ((c === CLOSE_ARRAY || c === CLOSE_OBJECT) && depth > 0) {
      depth--;
    }
  }
}

function depthOf(value: unknown, limit: number): number {
  // Iterative walk: a hostile body must not overflow the stack.
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length) {
    const [v, d] = stack.pop() as [unknown, number];
    if (d > max) max = d;
    if (max > limit) return max;
    if (v && typeof v === 'object') {
      for (const child of Object.values(v)) if (child && typeof child === 'object') stack.push([child, d + 1]);
    }
  }
  return max;
}

/** Parses a JSON body within the limits; `__proto__` and `constructor` keys are dropped. */
export function parseJson(text: string, limits: JsonLimits): unknown {
  checkJsonShape(text, limits);
  let data: unknown;
  try {
    data = sjson.parse(text, undefined, { protoAction: 'remove', constructorAction: 'remove' });
  } catch (error) {
    throw new WebhookError('INVALID_BODY', `Body is not valid JSON: ${(error as Error).message}`);
  }
  if (depthOf(data, MAX_DEPTH) > MAX_DEPTH) {
    throw new WebhookError('INVALID_BODY', `Body is nested deeper than ${MAX_DEPTH} levels`);
  }
  if (text.includes('\\u0000') && hasNul(data)) throw new WebhookError('INVALID_BODY', NUL_MESSAGE);
  return data;
}

/**
 * A JSON body from its bytes: decoded in its charset, then parsed within the limits. `orText`
 * is the case of a body without Content-Type: JSON if it parses, else its text (a JSON body past
 * a limit is refused all the same). The same function runs in the request's thread and in the
 * JSON worker (json-thread.ts), so that both give the same data and the same errors.
 */
export function parseJsonBytes(raw: Uint8Array, charset: string | undefined, orText: boolean, limits: JsonLimits) {
  if (!orText) return parseJson(decodeText(raw, charset), limits);
  const text = decodeText(raw);
  try {
    return parseJson(text, limits);
  } catch (error) {
    if ((error as WebhookError).status === 413 || (error as WebhookError).message.includes('nested deeper')) {
      throw error;
    }
    return text;
  }
}
