/** What the delivery views share: the version a view is about, and how statuses and bodies show. */

export interface VersionRef {
  id: number | string;
  key: string;
  enabled?: boolean;
  executed?: number | boolean;
}

export const statusColor = (s?: number) =>
  !s ? 'default' : s < 300 ? 'success' : s < 400 ? 'processing' : s < 500 ? 'warning' : 'error';

export function prettyBody(body?: unknown): string {
  if (body === undefined || body === null || body === '') return '';
  if (typeof body !== 'string') return JSON.stringify(body, null, 2);
  try {
    const parsed = JSON.parse(body);
    // Only objects and lists are laid out again. A text that reads as a number (WeCom's echostr,
    // '1616140317555161061') or any body with more digits than a double holds would come back
    // changed from the round trip: shown as it was sent.
    if (typeof parsed !== 'object' || parsed === null || /\d{16,}/.test(body)) return body;
    return JSON.stringify(parsed, null, 2);
  } catch {
    return body;
  }
}
