import { expect } from 'vitest';

/** Asserts the SPEC's error shape: `{"error": {"code", "message"}}` with the given status. */
export function expectError(
  res: { status: number; body: any; headers: Record<string, string> },
  status: number,
  code: string,
) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.headers['content-type']).toMatch(/application\/json/);
  expect(res.body.error.code).toBe(code);
  expect(typeof res.body.error.message).toBe('string');
  expect(res.body.error.message.length).toBeGreaterThan(0);
}

/** A sync workflow's Output node that echoes every `$context` variable back. */
export const echoContextNode = {
  type: 'output',
  config: {
    value: {
      data: '{{$context.data}}',
      headers: '{{$context.headers}}',
      query: '{{$context.query}}',
      params: '{{$context.params}}',
      method: '{{$context.method}}',
      ip: '{{$context.ip}}',
      files: '{{$context.files}}',
    },
  },
};

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: any;
  text: string;
}

/** One request with exact bytes and headers, over a real socket (no client-side re-encoding). */
export async function rawRequest(
  origin: string,
  path: string,
  {
    method = 'POST',
    headers = {},
    body,
  }: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {},
): Promise<RawResponse> {
  const res = await fetch(`${origin}${path}`, { method, headers, body });
  const text = await res.text();
  let parsed: any = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: res.status, headers: Object.fromEntries(res.headers.entries()), body: parsed, text };
}
