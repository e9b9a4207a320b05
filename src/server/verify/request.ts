import { refusal, WebhookError } from '../answer';
import type { SenderRequest } from './types';

export const invalidBody = (message: string) => new WebhookError('INVALID_BODY', message);
export const unauthorized = (message: string) => refusal('UNAUTHORIZED', message);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The body as a JSON object, or undefined when it is not one (the parse stage answers that). */
export function jsonObject(raw: Buffer): Record<string, unknown> | undefined {
  if (raw.length === 0) return undefined;
  try {
    const value = JSON.parse(raw.toString('utf8'));
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The body as a JSON object; anything else is `400 INVALID_BODY` (an envelope the scheme needs). */
export function requireJsonObject(raw: Buffer, what: string): Record<string, unknown> {
  const value = jsonObject(raw);
  if (!value) throw invalidBody(`${what} must be a JSON object`);
  return value;
}

/** One query parameter as a string (the first of a repeated one), or undefined. */
export function queryParam(request: Pick<SenderRequest, 'query'>, name: string): string | undefined {
  const value = request.query[name];
  const text = Array.isArray(value) ? value[0] : value;
  return typeof text === 'string' && text !== '' ? text : undefined;
}

export { isObject };
