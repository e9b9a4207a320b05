import qs from 'qs';
import { WebhookError } from '../../answer';
import { hasNul, NUL_MESSAGE } from './text';

/** Most fields (or parts) a form body may have. */
export const MAX_PARTS = 1000;

/** An urlencoded form: nested names (`a[b]=1`) become objects, at most 5 levels and 100 list items. */
export function parseForm(text: string): Record<string, unknown> {
  const data = qs.parse(text, { depth: 5, parameterLimit: MAX_PARTS, allowPrototypes: false, arrayLimit: 100 });
  if (text.includes('%00') && hasNul(data)) throw new WebhookError('INVALID_BODY', NUL_MESSAGE);
  return data;
}
