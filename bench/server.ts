/**
 * The bench's app process: a real NocoBase application (scripts/app.ts: the workflow engine and
 * this plugin, the database named by DB_*) served over HTTP on a loopback port, plus a control
 * channel on the IPC pipe of its parent (bench/run.ts) for what must happen inside the process:
 * creating workflows, calling the engine directly, counting executions, CPU profiles.
 * Never started by hand; run.ts spawns it with `node --import tsx bench/server.ts`.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { Session } from 'node:inspector/promises';
import type { AddressInfo } from 'node:net';
import type PluginWorkflowServer from '@nocobase/plugin-workflow';
import type { Application } from '@nocobase/server';
import { createApplication } from '../scripts/app';
import { lockdownAsTheGatewayDoes } from '../scripts/lockdown';
import { WEBHOOK_PLUGIN_NAME } from '../scripts/plugins';
import { mountFirst } from '../src/server/mount';
import type PluginWebhookTriggerServer from '../src/server/plugin';
import {
  type CreatedWorkflow,
  type EngineRunResult,
  type ExecStats,
  percentile,
  serveRpc,
  type WorkflowSpec,
} from './protocol';

let app: Application;
let server: Server;
let engine: PluginWorkflowServer;
let plugin: PluginWebhookTriggerServer;
const routingIds: string[] = [];
let authDefaults: ReturnType<PluginWebhookTriggerServer['authFailures']['settings']> | undefined;

function workflowByWebhookKey(key: string) {
  const entry = plugin.index.get(key);
  if (!entry) throw new Error(`no enabled webhook workflow has key ${key}`);
  return entry.workflow;
}

/** The `$context` a webhook request of the bench builds (same shape as the route's). */
function benchContext(data: unknown) {
  return {
    data,
    headers: { 'content-type': 'application/json', 'user-agent': 'bench' },
    query: {},
    params: {},
    method: 'POST',
    ip: '127.0.0.1',
    files: [],
    deliveryId: randomUUID(),
  };
}

async function createWorkflow(spec: WorkflowSpec): Promise<CreatedWorkflow> {
  const workflow: any = await app.db.getRepository('workflows').create({
    values: { title: `bench ${spec.name}`, type: 'webhook', sync: spec.sync, enabled: false, config: spec.config },
  });
  let previous: any = null;
  for (const nodeSpec of spec.nodes) {
    const node: any = await workflow.createNode({
      type: nodeSpec.type,
      config: nodeSpec.config ?? {},
      upstreamId: previous?.id ?? null,
    });
    if (previous) await previous.update({ downstreamId: node.id });
    previous = node;
  }
  await workflow.update({ enabled: true });
  return { id: String(workflow.id), key: String(workflow.key), webhookKey: String(workflow.get('config').key) };
}

async function execStats(workflowId: string): Promise<ExecStats> {
  const Execution = app.db.getModel('executions');
  const rows = (await Execution.findAll({
    attributes: ['status', [app.db.sequelize.fn('COUNT', app.db.sequelize.col('id')), 'n']],
    where: { workflowId },
    group: ['status'],
    raw: true,
  })) as unknown as Array<{ status: number | null; n: number | string }>;
  const stats: ExecStats = { total: 0, queueing: 0, started: 0, resolved: 0, failed: 0 };
  for (const row of rows) {
    const n = Number(row.n);
    stats.total += n;
    if (row.status === null) stats.queueing += n;
    else if (Number(row.status) === 0) stats.started += n;
    else if (Number(row.status) === 1) stats.resolved += n;
    else stats.failed += n;
  }
  return stats;
}

/** True when the engine has nothing queued, saving or executing. */
function engineIdle(): boolean {
  const dispatcher = (engine as any).dispatcher;
  const adapter = (app as any).eventQueue?.adapter;
  let queued = 0;
  for (const queue of adapter?.queues?.values?.() ?? []) queued += queue.length;
  return Boolean(dispatcher?.idle) && queued === 0 && !adapter?.processing;
}

/** True once `quiet()` has held for `holdMs` on end (polled every `pollMs`), false at the deadline. */
async function waitQuiet(quiet: () => boolean, holdMs: number, pollMs: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let quietSince = 0;
  while (Date.now() < deadline) {
    if (quiet()) {
      quietSince ||= Date.now();
      if (Date.now() - quietSince >= holdMs) return true;
    } else {
      quietSince = 0;
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
  return false;
}

const waitIdle = (timeoutMs: number) => waitQuiet(engineIdle, 300, 50, timeoutMs);

/**
 * `concurrency` direct `engine.trigger` calls in flight for `durationMs` (and at most `maxRuns`).
 * Answers at the latest `graceMs` after the deadline, counting the calls still unanswered then
 * (on SQLite, 32 of them in flight can hang the engine: its busy waits take every libuv thread).
 */
async function engineSync(args: {
  webhookKey: string;
  concurrency: number;
  durationMs: number;
  maxRuns: number;
  graceMs?: number;
}): Promise<EngineRunResult> {
  const workflow = workflowByWebhookKey(args.webhookKey);
  const latencies: number[] = [];
  let runs = 0;
  /** Runs that ended within the duration: the rate counts these, as autocannon counts answers. */
  let runsInTime = 0;
  let errors = 0;
  let inFlight = 0;
  let firstError: string | undefined;
  const started = performance.now();
  const deadline = started + args.durationMs;
  const worker = async () => {
    while (performance.now() < deadline && runs + errors < args.maxRuns) {
      const t = performance.now();
      const context = benchContext({ id: runs, event: 'push' });
      inFlight++;
      try {
        const processor: any = await engine.trigger(workflow, context, { eventKey: context.deliveryId });
        if (processor?.execution?.status === 1) {
          runs++;
          if (performance.now() <= deadline) runsInTime++;
        } else {
          errors++;
          firstError ??= `execution status ${processor?.execution?.status ?? '(none: not created or not entered)'}`;
        }
      } catch (error) {
        errors++;
        firstError ??= (error as Error).message;
      } finally {
        inFlight--;
      }
      latencies.push(performance.now() - t);
    }
  };
  const all = Promise.all(Array.from({ length: args.concurrency }, worker));
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    all,
    new Promise((resolve) => {
      timer = setTimeout(resolve, args.durationMs + (args.graceMs ?? 20_000));
    }),
  ]);
  clearTimeout(timer);
  latencies.sort((a, b) => a - b);
  return {
    runs,
    errors: errors + inFlight,
    stuck: inFlight,
    // Like autocannon for the HTTP rows: what ended within the duration, per second of it. With
    // 32 calls of ~0.5 s in flight, counting the tail too would add ~10% that the HTTP rows lack.
    rate: runsInTime / (args.durationMs / 1000),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    firstError: inFlight
      ? `${inFlight} trigger() calls unanswered ${Math.round((args.graceMs ?? 20_000) / 1000)} s after the run${firstError ? `; ${firstError}` : ''}`
      : firstError,
  };
}

/**
 * The engine alone on an async workflow: `count` events handed to `engine.trigger` at once (the
 * engine keeps them in memory, saves and runs them through its own queue), timed until every
 * execution is final.
 */
async function engineAsync(args: { webhookKey: string; workflowId: string; count: number; timeoutMs: number }) {
  const workflow = workflowByWebhookKey(args.webhookKey);
  const before = await execStats(args.workflowId);
  const started = performance.now();
  for (let i = 0; i < args.count; i++) {
    const context = benchContext({ id: i, event: 'push' });
    engine.trigger(workflow, context, { eventKey: context.deliveryId });
  }
  const deadline = started + args.timeoutMs;
  let stats = before;
  for (;;) {
    await new Promise((r) => setTimeout(r, 100));
    stats = await execStats(args.workflowId);
    const done = stats.resolved + stats.failed - before.resolved - before.failed;
    if (done >= args.count || performance.now() > deadline) {
      const seconds = (performance.now() - started) / 1000;
      return { count: args.count, done, failed: stats.failed - before.failed, seconds, rate: done / seconds };
    }
  }
}

/** How many of the delivery ids in `file` (one per line) are stored as an execution's eventKey. */
async function verifyIds(args: { workflowId: string; file: string }) {
  const ids = readFileSync(args.file, 'utf8').split('\n').filter(Boolean);
  const Execution = app.db.getModel('executions');
  let found = 0;
  for (let i = 0; i < ids.length; i += 500) {
    found += await Execution.count({ where: { workflowId: args.workflowId, eventKey: ids.slice(i, i + 500) } });
  }
  return { ids: ids.length, found, unique: new Set(ids).size };
}

/**
 * Throws away the not-yet-started backlog of a workflow (after it was counted and verified), so
 * that later scenarios do not share the database with a drain; waits for the engine to go idle.
 */
async function purge(args: { workflowId?: string; timeoutMs: number }) {
  const Execution = app.db.getModel('executions');
  const where: Record<string, unknown> = { status: null, dispatched: false };
  if (args.workflowId) where.workflowId = args.workflowId;
  const deleted = await Execution.destroy({ where });
  const idle = await waitIdle(args.timeoutMs);
  return { deleted, idle };
}

/**
 * `count` more enabled webhook workflows, written with one bulk INSERT per 500 and switched on in
 * the engine the way it does at start-up (`toggle(workflow, true, { silent })` per workflow).
 */
async function bulkWorkflows(args: { count: number }) {
  const Workflow = app.db.getModel('workflows');
  const started = performance.now();
  for (let i = 0; i < args.count; i += 500) {
    const rows = [];
    for (let j = i; j < Math.min(args.count, i + 500); j++) {
      rows.push({
        title: `bench routing ${j}`,
        type: 'webhook',
        sync: true,
        enabled: true,
        current: true,
        config: { key: `bench-routing-${j}`, methods: ['POST'] },
      });
    }
    const created: any[] = await Workflow.bulkCreate(rows);
    for (const workflow of created) {
      (engine as any).toggle(workflow, true, { silent: true });
      routingIds.push(String(workflow.id));
    }
  }
  await plugin.keys.idle();
  return { ms: performance.now() - started, indexSize: plugin.index.size };
}

/** Switches the bulk-created workflows off or on again (database and engine), in bulk. */
async function toggleRouting(args: { enabled: boolean }) {
  const Workflow = app.db.getModel('workflows');
  const started = performance.now();
  for (let i = 0; i < routingIds.length; i += 500) {
    const ids = routingIds.slice(i, i + 500);
    await Workflow.update({ enabled: args.enabled }, { where: { id: ids }, hooks: false });
    const rows: any[] = await Workflow.findAll({ where: { id: ids } });
    for (const workflow of rows) (engine as any).toggle(workflow, args.enabled, { silent: true });
  }
  await plugin.keys.idle();
  return { ms: performance.now() - started, indexSize: plugin.index.size };
}

/** Requests the app is still handling (a load generator that stopped may have left some). */
let active = 0;

/** Waits until the app has no request in hand (for 100 ms on end). */
async function quiesce(args: { timeoutMs: number }) {
  const quiet = await waitQuiet(() => active === 0, 100, 20, args.timeoutMs);
  return { quiet, active };
}

let session: Session | null = null;

async function profileStart() {
  session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  await session.post('Profiler.start');
}

async function profileStop(args: { file: string }) {
  if (!session) return { file: null };
  const { profile } = await session.post('Profiler.stop');
  writeFileSync(args.file, JSON.stringify(profile));
  session.disconnect();
  session = null;
  return { file: args.file };
}

interface TopoItem {
  seq: number;
  sort: number;
  before: string[];
  after: string[];
  group: string;
  node: unknown;
}

/** NocoBase's middleware tags (or function names) in the order a request meets them. */
function orderOf(items: TopoItem[]): string[] {
  return items.map((i) => (i.group === '?' ? (i.node as { name?: string })?.name || '(anonymous)' : i.group));
}

/** NocoBase's own middleware order as it would be without this plugin's and the bench's (dry run). */
function naturalOrder(): string[] | null {
  const middleware = (app as any).middleware as { _items: TopoItem[]; constructor: new () => any };
  const ours = (group: string) => group === 'webhooks' || group === 'webhookMaskSecrets' || group.startsWith('bench-');
  const probe = new middleware.constructor();
  for (const item of [...middleware._items].sort((a, b) => a.seq - b.seq)) {
    if (ours(item.group)) continue;
    const before = item.before.filter((g) => !ours(g));
    const after = item.after.filter((g) => !ours(g));
    probe.add(item.node, { group: item.group, before, after, sort: item.sort, manual: true });
  }
  try {
    probe.sort();
  } catch {
    return null;
  }
  return orderOf(probe._items);
}

/**
 * The floor for the rejection figures: a no-op middleware answering 204 right before the webhook
 * route (mounted the way the route is, first in the chain, so it meets exactly the middleware the
 * route meets: none). Added only if NocoBase's order stays as it is.
 */
function addNoopFloor(): boolean {
  const middleware = (app as any).middleware as { _items: TopoItem[] };
  if (!middleware._items.some((i) => i.group === 'webhooks')) return false;
  const noop = async function benchNoopAtWebhookPosition(ctx: any, next: () => Promise<void>) {
    if (ctx.path !== '/api/bench-noop/position') return next();
    ctx.status = 204;
  };
  const before = orderOf(middleware._items).join('>');
  mountFirst(app, noop, 'bench-noop-position');
  const after = orderOf(middleware._items);
  return after[0] === 'bench-noop-position' && after.slice(1).join('>') === before;
}

let stopping: Promise<void> | null = null;

function stop(code = 0): Promise<void> {
  stopping ??= (async () => {
    const force = setTimeout(() => process.exit(code), 20_000);
    force.unref();
    try {
      if (server) await new Promise((r) => server.close(r));
      server?.closeAllConnections?.();
      if (app) {
        // Whatever backlog is left is the bench's own: do not let the stop drain it.
        await purge({ timeoutMs: 5_000 }).catch(() => undefined);
        await app.stop();
      }
    } catch (error) {
      console.error('bench server: stop failed', error);
    }
    process.exit(code);
  })();
  return stopping;
}

async function main() {
  app = await createApplication();
  if (!(await app.isInstalled())) await app.runCommandThrowError('install');
  await app.runCommandThrowError('start');
  lockdownAsTheGatewayDoes();
  engine = app.pm.get('workflow') as unknown as PluginWorkflowServer;
  plugin = app.pm.get(WEBHOOK_PLUGIN_NAME) as unknown as PluginWebhookTriggerServer;

  addNoopFloor();
  const handle = app.callback();
  server = createServer((req, res) => {
    if (req.url === '/bench-noop/raw') {
      req.resume();
      res.writeHead(204).end();
      return;
    }
    active++;
    Promise.resolve(handle(req, res)).finally(() => active--);
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(process.env.APP_PORT ?? 0), '127.0.0.1', resolve);
  });

  serveRpc({
    setup: async (specs: WorkflowSpec[]) => {
      const out: Record<string, CreatedWorkflow> = {};
      for (const spec of specs) out[spec.name] = await createWorkflow(spec);
      return out;
    },
    engineSync,
    engineAsync,
    execStats: (args: { workflowId: string }) => execStats(args.workflowId),
    verifyIds,
    purge,
    quiesce,
    bulkWorkflows,
    toggleRouting,
    /** One more webhook workflow created and enabled through the repository (all hooks). */
    createOne: async (spec: WorkflowSpec) => {
      const started = performance.now();
      const created = await createWorkflow(spec);
      return { ms: performance.now() - started, ...created };
    },
    /** NocoBase's middleware tags in the order a request meets them. */
    middlewareOrder: () => ({ order: orderOf((app as any).middleware._items), natural: naturalOrder() }),
    profileStart,
    profileStop,
    /** The per-source budget for failed authentication: on (the app's settings) or off. */
    authBudget: (args: { on: boolean }) => {
      authDefaults ??= plugin.authFailures.settings();
      plugin.authFailures.configure(args.on ? authDefaults : { perSecond: 0 });
      return plugin.authFailures.settings();
    },
    stop: () => {
      setImmediate(() => stop(0));
      return true;
    },
  });

  const port = (server.address() as AddressInfo).port;
  process.send?.({ ready: true, port, pid: process.pid, dialect: app.db.options.dialect });
}

process.on('SIGTERM', () => stop(0));
process.on('SIGINT', () => stop(0));
// The parent is gone (or crashed): never outlive it.
process.on('disconnect', () => stop(0));

main().catch((error) => {
  console.error('bench server failed to start:', error);
  process.exit(1);
});
