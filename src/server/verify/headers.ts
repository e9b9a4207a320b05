import type { IncomingHttpHeaders } from 'node:http';

/**
 * A request header by case-insensitive name. Node already lower-cases the keys; other header objects are
 * searched key by key. An array value (only from hand-built objects) yields its first entry.
 */
export function getHeader(headers: IncomingHttpHeaders, name: string): string | undefined {
  const key = name.toLowerCase();
  let value = headers[key];
  if (value === undefined) {
    const found = Object.keys(headers).find((k) => k.toLowerCase() === key);
    if (found !== undefined) value = headers[found];
  }
  if (Array.isArray(value)) value = value[0];
  const text = typeof value === 'string' ? value.trim() : '';
  return text === '' ? undefined : text;
}
