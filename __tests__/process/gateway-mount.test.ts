import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppSupervisor, Gateway } from '@nocobase/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createGatewayHandler,
  type GatewayEntry,
  type GatewayState,
  installGatewayHandler,
  newGatewayEntry,
} from '../../src/server/gateway-mount';
import { readSettings } from '../../src/server/settings';
import { createTestApp, type TestApp } from '../helpers/app';
import { echoContextNode, type RawResponse, rawRequest } from '../helpers/http';
import { createWebhookWorkflow, waitForDeliveries } from '../helpers/workflows';

type Handler = (req: IncomingMessage, res: ServerResponse, main?: unknown) => Promise<unknown> | unknown;
const handlers = () => (Gateway as unknown as { requestHandlers: Handler[] }).requestHandlers;

/**
 * NocoBase's Gateway HTTP server as `nocobase start` runs it (gateway/index.js, startHttpServer):
 * the main app from the supervisor, every registered request handler in turn, then the Gateway's
 * own way, which for a request of the main app ends in `app.callback()`.
 */
function gatewayServer(app: TestApp['app']): Server {
  return createServer(async (req, res) => {
    for (const handler of handlers()) {
      if ((await handler(req, res, app)) !== false) return;
    }
    app.callback()(req, res);
  });
}

const volatileHeaders = new Set(['date', 'x-request-id', 'connection', 'keep-alive']);
const stableHeaders = (r: RawResponse) =>
  Object.fromEntries(Object.entries(r.headers).filter(([name]) => !volatileHeaders.has(name)));

describe('WEBHOOK_MOUNT=gateway: the route answered from a Gateway request handler', () => {
  let t: TestApp;
  let server: Server;
  let origin = '';
  const apiBase = process.env.API_BASE_PATH;
  const plugin = () => t.app.pm.get('webhook-trigger') as unknown as { gatewayEntry: GatewayEntry | null };
  const served = () => plugin().gatewayEntry?.served ?? -1;

  beforeAll(async () => {
    process.env.API_BASE_PATH = '/api/';
    t = await createTestApp();
    await createWebhookWorkflow(t.app, { sync: true, config: { key: 'echo' }, nodes: [echoContextNode] });
    await createWebhookWorkflow(t.app, {
      sync: true,
      config: { key: 'gh', verification: { type: 'github', secret: 'gh-secret' } },
      nodes: [echoContextNode],
    });
    await createWebhookWorkflow(t.app, {
      sync: true,
      config: { key: 'proxied', trustedProxies: ['127.0.0.1', '::1', '::ffff:127.0.0.1'] },
      nodes: [echoContextNode],
    });
    server = gatewayServer(t.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await t?.destroy();
    if (apiBase === undefined) delete process.env.API_BASE_PATH;
    else process.env.API_BASE_PATH = apiBase;
  });

  it('is the default, registered once, and the app is running', async () => {
    expect(readSettings({}).WEBHOOK_MOUNT).toBe('gateway');
    expect(plugin().gatewayEntry?.base).toBe('/api/webhooks/');
    const ours = handlers().filter((h) => h.toString().includes('gatewayEntry'));
    expect(ours).toHaveLength(1);
    expect(await AppSupervisor.getInstance().getAppStatus(t.app.name)).toBe('running');
  });

  /**
   * The same request answered by the Gateway handler and by the Koa chain (`X-App: main` names the
   * main app, as the Gateway's selector reads it, so the handler leaves it to the Gateway's way).
   */
  const both = async (path: string, init: { headers?: Record<string, string>; body?: string } = {}) => {
    const before = served();
    const viaGateway = await rawRequest(origin, path, init);
    expect(served(), 'answered from the Gateway handler').toBe(before + 1);
    const viaKoa = await rawRequest(origin, path, { ...init, headers: { ...init.headers, 'X-App': 'main' } });
    expect(served(), 'answered from the Koa chain').toBe(before + 1);
    return { viaGateway, viaKoa };
  };

  /** The key's log rows once all `count` are written with their answer (a slow sync run's row is written twice). */
  const rowsOf = async (key: string, count: number) => {
    const deadline = Date.now() + 30_000;
    let rows = await waitForDeliveries(t.app, { key }, count, 30_000);
    while ((rows.length < count || rows.some((r: any) => r.status === null)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      rows = await waitForDeliveries(t.app, { key }, count, 100);
    }
    expect(rows).toHaveLength(count);
    return rows.map(({ id, createdAt, updatedAt, expectedBy, durationMs, headers, answer, ...rest }: any) => ({
      ...rest,
      headers: Object.fromEntries(Object.entries(headers ?? {}).filter(([name]) => name !== 'x-app')),
      answer: answer && { ...answer, headers: { ...answer.headers } },
    }));
  };

  it('an unknown key: the same 404, headers and log row', async () => {
    const { viaGateway, viaKoa } = await both('/api/webhooks/nope', {
      headers: { 'Content-Type': 'application/json' },
      body: '{"a":1}',
    });
    expect(viaGateway.status).toBe(404);
    expect(viaGateway.body.error.code).toBe('NOT_FOUND');
    expect(viaGateway.text).toBe(viaKoa.text);
    expect(stableHeaders(viaGateway)).toEqual(stableHeaders(viaKoa));
    const [a, b] = await rowsOf('nope', 2);
    expect(a).toEqual(b);
  });

  it('a forged GitHub signature: the same 401; a signed one runs the workflow the same', async () => {
    const body = '{"action":"opened"}';
    const forged = await both('/api/webhooks/gh', {
      headers: { 'Content-Type': 'application/json', 'X-Hub-Signature-256': `sha256=${'0'.repeat(64)}` },
      body,
    });
    expect(forged.viaGateway.status).toBe(401);
    expect(forged.viaGateway.text).toBe(forged.viaKoa.text);
    expect(stableHeaders(forged.viaGateway)).toEqual(stableHeaders(forged.viaKoa));
    const signature = `sha256=${createHmac('sha256', 'gh-secret').update(body).digest('hex')}`;
    const signed = await both('/api/webhooks/gh?x=1', {
      headers: { 'Content-Type': 'application/json', 'X-Hub-Signature-256': signature },
      body,
    });
    expect(signed.viaGateway.status).toBe(200);
    expect(signed.viaGateway.body.data).toEqual({ action: 'opened' });
    expect(signed.viaGateway.body.query).toEqual({ x: '1' });
    const { 'x-app': _, ...koaHeaders } = signed.viaKoa.body.headers;
    expect({ ...signed.viaGateway.body, headers: signed.viaGateway.body.headers }).toEqual({
      ...signed.viaKoa.body,
      headers: koaHeaders,
    });
    // (The echoed body is longer by the X-App header: content-length differs by that alone.)
    const { 'content-length': _g, ...gatewayHeaders } = stableHeaders(signed.viaGateway);
    const { 'content-length': _k, ...koaAnswerHeaders } = stableHeaders(signed.viaKoa);
    expect(gatewayHeaders).toEqual(koaAnswerHeaders);
    const rows = await rowsOf('gh', 4);
    expect(rows[0]).toEqual(rows[1]);
    // (The answers differ by the echoed X-App header alone.)
    expect(rows[2].answer.status).toBe(rows[3].answer.status);
    expect({ ...rows[2], executionId: null, answer: null }).toEqual({ ...rows[3], executionId: null, answer: null });
  });

  it('the client IP behind a trusted proxy is resolved the same', async () => {
    const { viaGateway, viaKoa } = await both('/api/webhooks/proxied', {
      headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': '198.51.100.7, 203.0.113.9' },
      body: '{}',
    });
    expect(viaGateway.body.ip).toBe('203.0.113.9');
    expect(viaKoa.body.ip).toBe('203.0.113.9');
    // An untrusted peer's header changes nothing (echo has no trusted proxies).
    const direct = await both('/api/webhooks/echo', {
      headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': '203.0.113.9' },
      body: '{}',
    });
    expect(direct.viaGateway.body.ip).toBe(direct.viaKoa.body.ip);
    expect(direct.viaGateway.body.ip).not.toBe('203.0.113.9');
  });

  it('leaves every other path to the Gateway', async () => {
    const before = served();
    const list = await rawRequest(origin, '/api/workflows:list', { method: 'GET' });
    expect(list.status).toBe(200);
    const near = await rawRequest(origin, '/api/webhooksecho', { body: '{}' });
    expect(near.body?.error?.code).toBeUndefined();
    expect(served()).toBe(before);
  });

  it('leaves a request for a sub-app to the Gateway (X-App, __appName, /api/__app/…)', async () => {
    const before = served();
    for (const [path, headers] of [
      ['/api/webhooks/echo', { 'X-App': 'sub' }],
      ['/api/webhooks/echo?__appName=sub', {}],
      ['/api/webhooks/echo?%5F%5FappName=sub', {}],
      ['/api/__app/sub/webhooks/echo', {}],
      ['/api/webhooks/echo/__health_check', {}],
    ] as Array<[string, Record<string, string>]>) {
      await rawRequest(origin, path, { headers: { 'Content-Type': 'application/json', ...headers }, body: '{}' });
    }
    expect(served()).toBe(before);
  });

  it('falls through while the plugin serves nothing (disabled, reloading, stopped)', async () => {
    const entry = plugin().gatewayEntry;
    plugin().gatewayEntry = null;
    try {
      const before = entry?.served;
      const res = await rawRequest(origin, '/api/webhooks/echo', {
        headers: { 'Content-Type': 'application/json' },
        body: '{}',
      });
      expect(res.status).toBe(200); // the Koa chain's route
      expect(entry?.served).toBe(before);
    } finally {
      plugin().gatewayEntry = entry;
    }
  });
});

describe('createGatewayHandler: what it leaves to the Gateway', () => {
  const entry = (apiBase: string | undefined = '/api/'): GatewayEntry =>
    newGatewayEntry(
      '/api/webhooks/',
      async (ctx: any) => {
        ctx.status = 204;
      },
      apiBase,
    );
  const app = (e: GatewayEntry | null, status = 'running', extra: Record<string, unknown> = {}) => {
    const self: any = {
      name: 'main',
      listenerCount: () => 1,
      on: () => {},
      onerror: () => {},
      middleware: { nodes: [] },
      createContext: (_req: unknown, res: ServerResponse) => ({ res }),
      handleRequest: async (ctx: any, fn: (ctx: any) => Promise<unknown>) => {
        await fn(ctx);
        ctx.res.end();
      },
      status,
      ...extra,
    };
    self.pm = {
      get: (name: string) => (name === 'webhook-trigger' ? { app: self, enabled: true, gatewayEntry: e } : undefined),
    };
    return self;
  };
  const state = (over: Partial<GatewayState> = {}, status = 'running'): GatewayState => ({
    middlewareCount: () => 0,
    selectorCount: () => 1,
    selectApp: async () => 'main',
    appStatus: async () => status,
    ...over,
  });
  const req = (url: string, headers: Record<string, string> = {}) => ({ url, headers }) as unknown as IncomingMessage;
  const res = () => ({ end: () => {}, headersSent: false }) as unknown as ServerResponse;

  it('serves the main app when nothing stands in the way', async () => {
    const e = entry();
    expect(await createGatewayHandler('webhook-trigger', state())(req('/api/webhooks/x'), res(), app(e))).toBe(true);
    expect(e.served).toBe(1);
  });

  it.each([
    ['a Gateway middleware is registered', state({ middlewareCount: () => 1 })],
    ['an app selector picks another app', state({ selectorCount: () => 2, selectApp: async () => 'shop' })],
    ['the app is not running', state({}, 'commanding')],
  ])('falls through when %s', async (_label, s) => {
    const e = entry();
    expect(await createGatewayHandler('webhook-trigger', s)(req('/api/webhooks/x'), res(), app(e))).toBe(false);
    expect(e.served).toBe(0);
  });

  it('runs the Gateway selectors when plugins added some, and serves when they name main', async () => {
    const e = entry();
    const s = state({ selectorCount: () => 2, selectApp: async () => 'main' });
    expect(await createGatewayHandler('webhook-trigger', s)(req('/api/webhooks/x'), res(), app(e))).toBe(true);
  });

  it('falls through for another app than the plugin instance, a disabled plugin, no plugin, no main app', async () => {
    const handler = createGatewayHandler('webhook-trigger', state());
    const other = app(entry());
    const e = entry();
    const main = app(e);
    const foreign = { get: () => ({ app: other, enabled: true, gatewayEntry: e }) };
    main.pm = foreign;
    expect(await handler(req('/api/webhooks/x'), res(), main)).toBe(false);
    main.pm = { get: () => ({ app: main, enabled: false, gatewayEntry: e }) };
    expect(await handler(req('/api/webhooks/x'), res(), main)).toBe(false);
    main.pm = { get: () => undefined };
    expect(await handler(req('/api/webhooks/x'), res(), main)).toBe(false);
    expect(await handler(req('/api/webhooks/x'), res(), undefined)).toBe(false);
    expect(e.served).toBe(0);
  });

  it('falls through outside API_BASE_PATH (the Gateway would serve the client there)', async () => {
    for (const e of [entry('/nb-api/'), entry(''), newGatewayEntry('/api/webhooks/', async () => {}, undefined)]) {
      expect(await createGatewayHandler('webhook-trigger', state())(req('/api/webhooks/x'), res(), app(e))).toBe(false);
    }
  });
});

describe('installGatewayHandler', () => {
  it('keeps one handler per process: a later load replaces it, WEBHOOK_MOUNT=app removes it', () => {
    let list: unknown[] = [];
    const gateway = {
      registerRequestHandler: (h: unknown) => list.push(h),
      unregisterRequestHandler: (h: unknown) => {
        list = list.filter((x) => x !== h);
      },
    };
    const state = {} as GatewayState;
    installGatewayHandler(false); // the real Gateway's, registered by the app of this file
    try {
      expect(installGatewayHandler('webhook-trigger', gateway, state)).toBe(true);
      const first = list[0];
      expect(installGatewayHandler('webhook-trigger', gateway, state)).toBe(true);
      expect(list).toHaveLength(1);
      expect(list[0]).not.toBe(first);
      expect(installGatewayHandler(false, gateway, state)).toBe(false);
      expect(list).toHaveLength(0);
      expect(installGatewayHandler('webhook-trigger', {}, state)).toBe(false);
    } finally {
      installGatewayHandler('webhook-trigger');
    }
  });
});
