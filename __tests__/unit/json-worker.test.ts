import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEBHOOK_PLUGIN_NAME } from '../../scripts/plugins';
import { parseJsonBytes } from '../../src/server/http/parse/json';
import { JsonWorkerPool } from '../../src/server/http/parse/json-pool';
import type PluginWebhookTriggerServer from '../../src/server/plugin';
import { createTestApp, type TestApp } from '../helpers/app';
import { echoContextNode, expectError, rawRequest } from '../helpers/http';
import { createWebhookWorkflow } from '../helpers/workflows';

// Issue 10: large JSON bodies are parsed in a worker thread, with the in-thread parse's results.
const limits = { maxKeys: 10_000, maxArrayItems: 10_000 };

/** The outcome of a parse, errors included, in a form that compares (key order too). */
async function outcome(parse: () => unknown) {
  try {
    const data = await parse();
    return { ok: true, data, text: JSON.stringify(data), protoKeys: protoKeys(data) };
  } catch (error) {
    const e = error as { name: string; code?: string; status?: number; message: string };
    return { ok: false, name: e.name, code: e.code, status: e.status, message: e.message };
  }
}

/** Own `__proto__` properties anywhere in the value (there must be none). */
function protoKeys(value: unknown): number {
  let n = 0;
  const stack = [value];
  while (stack.length) {
    const v = stack.pop();
    if (v && typeof v === 'object') {
      if (Object.hasOwn(v, '__proto__')) n++;
      if (Object.getPrototypeOf(v) !== (Array.isArray(v) ? Array.prototype : Object.prototype)) n++;
      stack.push(...Object.values(v));
    }
  }
  return n;
}

const nest = (depth: number, open: string, close: string, inner = '0') =>
  open.repeat(depth) + inner + close.repeat(depth);
const keys = (n: number) => `{${Array.from({ length: n }, (_, i) => `"k${i}":${i}`).join(',')}}`;
const items = (n: number) => `[${Array.from({ length: n }, (_, i) => i).join(',')}]`;

function fiveMegabytes(): string {
  const entries: string[] = [];
  for (let i = 0; i < 2000; i++) {
    entries.push(`"key${i}":{"s":"${'é日x'.repeat(600)}","n":[${i},${-i / 3},true,null],"d":${nest(20, '[', ']')}}`);
  }
  const text = `{${entries.join(',')}}`;
  expect(Buffer.byteLength(text)).toBeGreaterThan(5_000_000);
  return text;
}

/** [name, bytes, charset, orText] */
const corpus: Array<[string, Buffer, string | undefined, boolean]> = [
  ['object', Buffer.from('{"a":1,"b":[1,2,{"c":null}],"d":"x","e":-0,"f":1e400,"g":1.5e-7}'), undefined, false],
  ['top-level scalar', Buffer.from('"just a string"'), undefined, false],
  ['integer-like keys', Buffer.from('{"b":1,"2":2,"a":3,"1":4}'), undefined, false],
  ['invalid: truncated', Buffer.from('{"a":'), undefined, false],
  ['invalid: trailing comma', Buffer.from('[1,2,]'), undefined, false],
  ['invalid: empty', Buffer.alloc(0), undefined, false],
  ['invalid: bad utf-8', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]), undefined, false],
  ['raw NUL byte', Buffer.from('{"a":"x\0y"}'), undefined, false],
  ['NUL escape in a value', Buffer.from('{"a":["ok","x\\u0000y"]}'), undefined, false],
  ['NUL escape in a key', Buffer.from('{"k\\u0000":1}'), undefined, false],
  ['escaped backslash before u0000', Buffer.from('{"a":"x\\\\u0000y"}'), undefined, false],
  ['depth 64', Buffer.from(nest(64, '[', ']')), undefined, false],
  ['depth 65 (arrays)', Buffer.from(nest(65, '[', ']')), undefined, false],
  ['depth 65 (objects)', Buffer.from(nest(65, '{"a":', '}', '1')), undefined, false],
  ['10,000 keys', Buffer.from(keys(10_000)), undefined, false],
  ['10,001 keys', Buffer.from(keys(10_001)), undefined, false],
  ['10,000 items', Buffer.from(items(10_000)), undefined, false],
  ['10,001 items', Buffer.from(items(10_001)), undefined, false],
  [
    '__proto__ keys',
    Buffer.from('{"__proto__":{"admin":true},"a":{"__proto__":[1],"b":2},"c":[{"__proto__":null}]}'),
    undefined,
    false,
  ],
  [
    'constructor keys',
    Buffer.from('{"constructor":{"prototype":{"admin":true}},"b":{"constructor":1},"c":{"constructor":{"x":1}}}'),
    undefined,
    false,
  ],
  ['unicode', Buffer.from('{"é":"日本語 😀","s":"\\ud83d\\ude00","lone":"\\ud800","z":"\\u00e9"}'), undefined, false],
  ['charset latin1', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xe9, 0x22, 0x7d]), 'iso-8859-1', false],
  ['charset utf-16le', Buffer.from('{"a":"é"}', 'utf16le'), 'utf-16le', false],
  ['unknown charset', Buffer.from('{}'), 'x-no-such-charset', false],
  ['5 MB', Buffer.from(fiveMegabytes()), undefined, false],
  ['no Content-Type: JSON', Buffer.from('{"k":"v"}'), undefined, true],
  ['no Content-Type: text', Buffer.from('k=v plain'), undefined, true],
  ['no Content-Type: invalid JSON is text', Buffer.from('{"a":'), undefined, true],
  ['no Content-Type: too many keys', Buffer.from(keys(10_001)), undefined, true],
  ['no Content-Type: too deep', Buffer.from(nest(65, '[', ']')), undefined, true],
  ['no Content-Type: NUL escape is text', Buffer.from('{"a":"\\u0000"}'), undefined, true],
  ['no Content-Type: bad utf-8', Buffer.from([0xc3, 0x28]), undefined, true],
];

describe('JSON worker pool', () => {
  const pool = new JsonWorkerPool({ thresholdBytes: 0, workers: 1, timeoutMs: 30_000 });
  afterAll(() => pool.close());

  it('gives the in-thread parse results for every body of the corpus, errors included', async () => {
    for (const [name, bytes, charset, orText] of corpus) {
      const here = await outcome(() => parseJsonBytes(bytes, charset, orText, limits));
      const there = await outcome(() => pool.parse(bytes, charset, orText, limits));
      expect(there, name).toEqual(here);
      if (here.ok) expect(here.protoKeys, name).toBe(0);
    }
    // The corpus covers both outcomes and every error code of a JSON body.
    const codes = new Set<string | undefined>();
    for (const [, bytes, charset, orText] of corpus) {
      codes.add((await outcome(() => pool.parse(bytes, charset, orText, limits))).code);
    }
    expect([...codes].sort()).toEqual(['INVALID_BODY', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE', undefined]);
  });

  it('parses a view into a larger buffer as its own bytes', async () => {
    const big = Buffer.from('xxxx{"a":1}yyyy');
    expect(await pool.parse(big.subarray(4, 11), undefined, false, limits)).toEqual({ a: 1 });
  });

  it('answers 503 when its worker dies during a parse, and the next body gets a new worker', async () => {
    await pool.parse(Buffer.from('{}'), undefined, false, limits);
    const [worker] = pool.workers();
    const post = worker.postMessage.bind(worker);
    // Killed as the body is handed over: the body never comes back.
    worker.postMessage = (message: unknown) => {
      void worker.terminate();
      post(message);
    };
    const failed = await outcome(() => pool.parse(Buffer.from(fiveMegabytes()), undefined, false, limits));
    expect(failed).toMatchObject({ ok: false, code: 'UNAVAILABLE', status: 503 });
    expect(await pool.parse(Buffer.from('{"after":true}'), undefined, false, limits)).toEqual({ after: true });
    expect(pool.workers()).toHaveLength(1);
    expect(pool.workers()[0]).not.toBe(worker);
  });

  it('answers 503 past its timeout and replaces the worker', async () => {
    const slow = new JsonWorkerPool({ thresholdBytes: 0, workers: 1, timeoutMs: 1 });
    try {
      const failed = await outcome(() => slow.parse(Buffer.from(fiveMegabytes()), undefined, false, limits));
      expect(failed).toMatchObject({ ok: false, code: 'UNAVAILABLE', status: 503 });
      expect(failed.message).toMatch(/longer than 1 ms/);
      expect(slow.workers()).toHaveLength(0);
    } finally {
      await slow.close();
    }
  });

  it('queues bodies past its workers and answers bodies still queued at close with 503', async () => {
    const two = new JsonWorkerPool({ thresholdBytes: 0, workers: 2, timeoutMs: 30_000 });
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) => two.parse(Buffer.from(`{"i":${i}}`), undefined, false, limits)),
    );
    expect(results).toEqual([0, 1, 2, 3, 4].map((i) => ({ i })));
    expect(two.workers()).toHaveLength(2);
    const pending = Array.from({ length: 4 }, () =>
      outcome(() => two.parse(Buffer.from('[1]'), undefined, false, limits)),
    );
    await two.close();
    for (const r of await Promise.all(pending)) expect(r).toMatchObject({ ok: false, code: 'UNAVAILABLE' });
    expect(two.workers()).toHaveLength(0);
  });
});

describe('the route with the JSON worker', () => {
  let t: TestApp;
  let plugin: PluginWebhookTriggerServer;
  let origin: string;
  const threshold = 64 * 1024;

  beforeAll(async () => {
    process.env.WEBHOOK_JSON_WORKER_BYTES = String(threshold);
    t = await createTestApp();
    delete process.env.WEBHOOK_JSON_WORKER_BYTES;
    plugin = t.app.pm.get(WEBHOOK_PLUGIN_NAME) as unknown as PluginWebhookTriggerServer;
    await createWebhookWorkflow(t.app, { sync: true, config: { key: 'echo' }, nodes: [echoContextNode] });
    origin = await t.listen();
  });
  afterAll(async () => {
    await t?.destroy();
  });

  const body = (kb: number) => ({ id: 7, items: Array.from({ length: kb }, (_, i) => ({ i, s: 'x'.repeat(1000) })) });
  const post = (payload: Buffer, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    rawRequest(origin, '/api/webhooks/echo', { headers, body: payload });

  it('a body over the threshold arrives in $context.data, parsed by the worker', async () => {
    expect(plugin.jsonPool.settings.thresholdBytes).toBe(threshold);
    const data = body(300);
    const payload = Buffer.from(JSON.stringify({ ...data, __proto__: undefined, extra: { constructor: 1 } }));
    expect(payload.length).toBeGreaterThan(threshold);
    const res = await post(payload);
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    expect(res.body.data).toEqual({ ...data, extra: { constructor: 1 } });
    expect(plugin.jsonPool.workers()).toHaveLength(1);

    const noType = await post(payload, {});
    expect(noType.status).toBe(200);
    expect(noType.body.data.id).toBe(7);
  });

  it('refuses a large invalid or over-limit body as the in-thread parse does', async () => {
    const payload = Buffer.from(`${JSON.stringify(body(100))}x`);
    const res = await post(payload);
    expectError(res, 400, 'INVALID_BODY');
    expect(res.body.error.message).toBe(
      (await outcome(() => parseJsonBytes(payload, undefined, false, limits))).message,
    );
    const many = Buffer.from(`{${Array.from({ length: 10_001 }, (_, i) => `"k${i}":"${'y'.repeat(8)}"`).join(',')}}`);
    expect(many.length).toBeGreaterThan(threshold);
    expectError(await post(many), 413, 'PAYLOAD_TOO_LARGE');
  });

  it('answers 503 when the worker dies during the parse, and the next request works', async () => {
    await post(Buffer.from(JSON.stringify(body(80))));
    const [worker] = plugin.jsonPool.workers();
    const postMessage = worker.postMessage.bind(worker);
    worker.postMessage = (message: unknown) => {
      void worker.terminate();
      postMessage(message);
    };
    expectError(await post(Buffer.from(JSON.stringify(body(200)))), 503, 'UNAVAILABLE');
    const next = await post(Buffer.from(JSON.stringify(body(200))));
    expect(next.status).toBe(200);
    expect(next.body.data.items).toHaveLength(200);
  });
});
