/**
 * The baseline: a bare Koa route with JSON parsing (koa + koa-bodyparser), nothing stored,
 * served on a loopback port in a process of its own. Spawned by bench/run.ts, which it tells
 * its port over the IPC channel.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';

// koa-bodyparser ships no types; it is NocoBase's own body parser.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const bodyParser = require('koa-bodyparser') as (options?: object) => Koa.Middleware;

const app = new Koa();
app.use(bodyParser({ jsonLimit: '2mb' }));
app.use(async (ctx) => {
  if (ctx.method !== 'POST' || ctx.path !== '/hook') {
    ctx.status = 404;
    return;
  }
  const body = (ctx.request as unknown as { body?: { id?: unknown } }).body;
  ctx.status = 200;
  ctx.body = { ok: true, id: body?.id ?? null };
});

const server = createServer(app.callback());
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  process.send?.({ ready: true, port: (server.address() as AddressInfo).port, pid: process.pid });
});
const stop = () => {
  server.close();
  server.closeAllConnections();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('disconnect', stop);
