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
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}
