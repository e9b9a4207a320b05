/**
 * Process-level check of WEBHOOK_MOUNT=gateway (the default) in the full NocoBase 2.2.15 server:
 * `nocobase-v1 start` of the stock app (e2e/.app, or $E2E_APP_DIR / $BENCH_APP_DIR, made by
 * e2e/setup-app.sh), the plugin and the bench's probe plugin installed from their tarballs on a
 * fresh SQLite database of this test's own, driven over HTTP (bench/full-app.ts). Run by
 * `npm run e2e` after the browser test; on its own:
 *
 *     npx tsx --test e2e/gateway.e2e.ts
 *
 * Skipped (cheaply) when the app has not been set up. It checks that the webhook answers the same
 * from the Gateway handler as from the app's Koa chain (status, body, headers, delivery row), that
 * other API routes and sub-app selections go the Gateway's way, and that `pm disable` stops the
 * route and `pm enable` brings it back (the app restarts in between).
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FullApp, packPlugins } from '../bench/full-app';

const root = path.resolve(__dirname, '..');
const defaultApp = existsSync(path.join(root, 'e2e/.app/.ready-2.2.15')) ? 'e2e/.app' : '.bench-app';
const APP_DIR = path.resolve(root, process.env.E2E_APP_DIR ?? process.env.BENCH_APP_DIR ?? defaultApp);
const READY = existsSync(path.join(APP_DIR, '.ready-2.2.15'));
const WEBHOOK = 'nocobase-plugin-webhook-trigger';
const SECRET = 'gateway-e2e-secret';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  text: string;
  body: any;
}

const volatile = new Set(['date', 'x-request-id', 'connection', 'keep-alive']);
const stable = (a: Answer) => Object.fromEntries(Object.entries(a.headers).filter(([name]) => !volatile.has(name)));

describe('WEBHOOK_MOUNT=gateway in the full NocoBase server', { skip: READY ? false : `no app in ${APP_DIR}` }, () => {
  let temp = '';
  let full: FullApp;

  const request = async (url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) => {
    const res = await fetch(`${full.origin}${url}`, { method: init.method ?? 'POST', headers: init.headers, body: init.body });
    const text = await res.text();
    let body: any = text;
    try {
      body = JSON.parse(text);
    } catch {}
    return { status: res.status, headers: Object.fromEntries(res.headers.entries()), text, body } as Answer;
  };
  const diag = () =>
    full.action<{ webhookGatewayServed: number | null; webhookEnabled: boolean; selectors: number; handlers: number }>(
      'webhookBench:diag',
    );
  const served = async () => (await diag()).webhookGatewayServed ?? -1;

  /** The same request from the Gateway handler and from the Koa chain (`X-App: main`: the Gateway's own way). */
  const both = async (url: string, init: { headers?: Record<string, string>; body?: string }) => {
    const before = await served();
    const viaGateway = await request(url, init);
    assert.equal(await served(), before + 1, 'answered from the Gateway handler');
    const viaKoa = await request(url, { ...init, headers: { ...init.headers, 'X-App': 'main' } });
    assert.equal(await served(), before + 1, 'answered from the Koa chain');
    return { viaGateway, viaKoa };
  };

  const deliveries = async (key: string, count: number) => {
    const filter = encodeURIComponent(JSON.stringify({ key }));
    for (let i = 0; ; i++) {
      const rows = (await full.action<any[]>(`webhookDeliveries:list?filter=${filter}&sort=createdAt&pageSize=50`)) ?? [];
      if ((rows.length >= count && rows.every((r) => r.status !== null)) || i > 100) {
        return rows.map(({ id, createdAt, updatedAt, expectedBy, durationMs, headers, answer, executionId, ...rest }) => ({
          ...rest,
          headers: Object.fromEntries(Object.entries(headers ?? {}).filter(([name]) => name !== 'x-app')),
          answerStatus: answer?.status,
        }));
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  /** Until the app answers the API again after a restart (pm enable / disable). */
  const waitRunning = async (until: () => Promise<boolean>) => {
    const deadline = Date.now() + 180_000;
    for (;;) {
      try {
        await full.signIn();
        if (await until()) return;
      } catch {}
      if (Date.now() > deadline) throw new Error(`the app did not come back in time\n${full.lastOutput()}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  };

  before(async () => {
    temp = mkdtempSync(path.join(os.tmpdir(), 'webhook-gateway-e2e-'));
    const tarballs = packPlugins(path.join(temp, 'pack'));
    full = new FullApp({
      appDir: APP_DIR,
      tempDir: temp,
      dbEnv: { DB_DIALECT: 'sqlite', DB_STORAGE: path.join(temp, 'db.sqlite') },
      port: await freePort(),
      startTimeoutSec: 240,
      log: () => {},
    });
    await full.install(tarballs);
    await full.start();
    for (const [key, verification] of [
      ['gw-echo', { type: 'none' }],
      ['gw-github', { type: 'github', secret: SECRET }],
    ] as const) {
      await full.createWorkflow({
        name: key,
        sync: true,
        config: { key, verification, trustedProxies: ['127.0.0.1', '::ffff:127.0.0.1', '::1'] },
        nodes: [{ type: 'output', config: { value: { data: '{{$context.data}}', ip: '{{$context.ip}}' } } }],
      } as any);
    }
  });

  after(async () => {
    await full?.stop();
    if (temp) rmSync(temp, { recursive: true, force: true });
  });

  it('the handler is registered', async (t) => {
    const d = await diag();
    t.diagnostic(`probe diag: ${JSON.stringify(d)}`);
    assert.equal(d.webhookEnabled, true);
    assert.equal(typeof d.webhookGatewayServed, 'number');
    assert.ok(d.handlers >= 1);
  });

  it('an unknown key: the same 404, headers and log row from both', async () => {
    const { viaGateway, viaKoa } = await both('/api/webhooks/gw-nope', {
      headers: { 'Content-Type': 'application/json' },
      body: '{"a":1}',
    });
    assert.equal(viaGateway.status, 404);
    assert.equal(viaGateway.body.error.code, 'NOT_FOUND');
    assert.equal(viaGateway.text, viaKoa.text);
    assert.deepEqual(stable(viaGateway), stable(viaKoa));
    const [a, b] = await deliveries('gw-nope', 2);
    assert.deepEqual(a, b);
  });

  it('a forged GitHub signature (401) and a signed one (200): the same from both', async () => {
    const body = '{"action":"opened"}';
    const forged = await both('/api/webhooks/gw-github', {
      headers: { 'Content-Type': 'application/json', 'X-Hub-Signature-256': `sha256=${'0'.repeat(64)}` },
      body,
    });
    assert.equal(forged.viaGateway.status, 401);
    assert.equal(forged.viaGateway.text, forged.viaKoa.text);
    assert.deepEqual(stable(forged.viaGateway), stable(forged.viaKoa));
    const signature = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
    const signed = await both('/api/webhooks/gw-github', {
      headers: { 'Content-Type': 'application/json', 'X-Hub-Signature-256': signature, 'X-Forwarded-For': '203.0.113.9' },
      body,
    });
    assert.equal(signed.viaGateway.status, 200);
    assert.equal(signed.viaGateway.text, signed.viaKoa.text);
    assert.deepEqual(signed.viaGateway.body, { data: { action: 'opened' }, ip: '203.0.113.9' });
    assert.deepEqual(stable(signed.viaGateway), stable(signed.viaKoa));
    const rows = await deliveries('gw-github', 4);
    assert.equal(rows.length, 4);
    assert.deepEqual(rows[0], rows[1]);
    assert.deepEqual(rows[2], rows[3]);
  });

  it('other API routes and sub-app selections take the Gateway way', async (t) => {
    const before = await served();
    const info = await request('/api/app:getInfo', { method: 'GET' });
    assert.equal(info.status, 200);
    const near = await request('/api/webhooksgw-echo', { body: '{}' });
    assert.notEqual(near.body?.error?.code, 'NOT_FOUND');
    for (const [url, headers] of [
      ['/api/webhooks/gw-echo', { 'X-App': 'sub' }],
      ['/api/webhooks/gw-echo?__appName=sub', {}],
      ['/api/__app/sub/webhooks/gw-echo', {}],
    ] as Array<[string, Record<string, string>]>) {
      const res = await request(url, { headers: { 'Content-Type': 'application/json', ...headers }, body: '{}' });
      t.diagnostic(`${url} ${JSON.stringify(headers)}: ${res.status} ${res.text.slice(0, 200)}`);
      assert.notEqual(res.status, 200, `${url} ${JSON.stringify(headers)} is not the main app's webhook`);
    }
    assert.equal(await served(), before);
  });

  it('pm disable stops the route; pm enable brings it back after the restart', async (t) => {
    await full.action(`pm:disable?filterByTk=${WEBHOOK}`, {});
    await waitRunning(async () => {
      const d = await diag();
      return d.webhookEnabled === false && d.webhookGatewayServed === null;
    });
    const off = await request('/api/webhooks/gw-echo', { headers: { 'Content-Type': 'application/json' }, body: '{}' });
    t.diagnostic(`disabled: ${off.status} ${off.text.slice(0, 200)}`);
    assert.notEqual(off.status, 200);
    assert.notEqual(off.body?.error?.code, 'NOT_FOUND', 'the plugin answered while disabled');
    assert.equal((await diag()).webhookGatewayServed, null);

    await full.action(`pm:enable?filterByTk=${WEBHOOK}`, {});
    await waitRunning(async () => (await diag()).webhookGatewayServed === 0);
    const on = await request('/api/webhooks/gw-echo', { headers: { 'Content-Type': 'application/json' }, body: '{"b":2}' });
    assert.equal(on.status, 200, on.text);
    assert.deepEqual(on.body.data, { b: 2 });
    assert.equal(await served(), 1);
  });
});
