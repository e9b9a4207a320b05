/**
 * Bench only: a probe plugin for the full NocoBase app that `npm run bench` drives over HTTP.
 * Never install it in a real app (it runs the engine on request and exposes CPU profiles to root).
 *
 * - `webhookBench:*` actions (root only, signed in): the engine alone (`trigger()` in the app
 *   process, N in flight, the same measure as the light runner's IPC call), an async burst given
 *   to the engine, the engine's idle state, removing the bench's queued backlog, the failure
 *   budget on/off, CPU profiles (inspector), the middleware order and the process id;
 * - two floors: a no-op 204 at the webhook route's place (mounted first in the app's chain, as
 *   the route is) and a no-op 204 as the Gateway's first request handler (before the app
 *   supervisor, the Gateway's per-request work and Koa), so the table can split NocoBase's cost.
 */
const { randomUUID } = require('node:crypto');
const { writeFileSync } = require('node:fs');
const { Session } = require('node:inspector/promises');
const { Plugin, Gateway, AppSupervisor } = require('@nocobase/server');

const WEBHOOK_PLUGIN = 'nocobase-plugin-webhook-trigger';
const FLOOR_PATH = '/api/bench-noop/position';
const GATEWAY_FLOOR_PATH = '/api/bench-noop/gateway';

function percentile(sorted, p) {
  if (!sorted.length) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

/** The `$context` a webhook request builds (same shape as the route's). */
function benchContext(data) {
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

/** Mounts `middleware` first in the chain without reordering the others (as src/server/mount.ts). */
function mountFirst(app, middleware, tag) {
  const sorter = app.middleware;
  app.use(middleware, { tag });
  const items = sorter._items;
  const ours = items.find((item) => item.group === tag);
  const rest = items.filter((item) => item !== ours).sort((a, b) => a.seq - b.seq);
  ours.seq = 0;
  rest.forEach((item, index) => {
    item.seq = index + 1;
  });
  sorter._items = [ours, ...rest];
  sorter.sort();
}

const gatewayFloor = (req, res) => {
  if (req.url !== GATEWAY_FLOOR_PATH) return false;
  req.resume();
  res.statusCode = 204;
  res.end();
  return true;
};

class PluginWebhookBench extends Plugin {
  session = null;
  authDefaults = undefined;

  get engine() {
    return this.app.pm.get('workflow');
  }

  get webhook() {
    return this.app.pm.get(WEBHOOK_PLUGIN);
  }

  workflow(id) {
    const workflow = this.engine.enabledCache.get(Number(id)) ?? this.engine.enabledCache.get(String(id));
    if (!workflow) throw new Error(`workflow ${id} is not enabled`);
    return workflow;
  }

  engineIdle() {
    const dispatcher = this.engine.dispatcher;
    const adapter = this.app.eventQueue?.adapter;
    let queued = 0;
    for (const queue of adapter?.queues?.values?.() ?? []) queued += queue.length;
    return Boolean(dispatcher?.idle) && queued === 0 && !adapter?.processing;
  }

  async waitIdle(timeoutMs, holdMs = 300) {
    const deadline = Date.now() + timeoutMs;
    let since = 0;
    while (Date.now() < deadline) {
      if (this.engineIdle()) {
        since ||= Date.now();
        if (Date.now() - since >= holdMs) return true;
      } else since = 0;
      await new Promise((r) => setTimeout(r, 50));
    }
    return false;
  }

  /** `concurrency` direct trigger() calls in flight for `durationMs` (as bench/server.ts). */
  async engineSync({ workflowId, concurrency, durationMs, maxRuns, graceMs = 20_000 }) {
    const workflow = this.workflow(workflowId);
    const latencies = [];
    let runs = 0;
    let runsInTime = 0;
    let errors = 0;
    let inFlight = 0;
    let firstError;
    const deadline = performance.now() + durationMs;
    const worker = async () => {
      while (performance.now() < deadline && runs + errors < maxRuns) {
        const t = performance.now();
        const context = benchContext({ id: runs, event: 'push' });
        inFlight++;
        try {
          const processor = await this.engine.trigger(workflow, context, { eventKey: context.deliveryId });
          if (processor?.execution?.status === 1) {
            runs++;
            if (performance.now() <= deadline) runsInTime++;
          } else {
            errors++;
            firstError ??= `execution status ${processor?.execution?.status ?? '(none)'}`;
          }
        } catch (error) {
          errors++;
          firstError ??= error.message;
        } finally {
          inFlight--;
        }
        latencies.push(performance.now() - t);
      }
    };
    const all = Promise.all(Array.from({ length: concurrency }, worker));
    let timer;
    await Promise.race([all, new Promise((resolve) => (timer = setTimeout(resolve, durationMs + graceMs)))]);
    clearTimeout(timer);
    latencies.sort((a, b) => a - b);
    return {
      runs,
      errors: errors + inFlight,
      stuck: inFlight,
      rate: runsInTime / (durationMs / 1000),
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      firstError: inFlight ? `${inFlight} trigger() calls unanswered after the run; ${firstError ?? ''}` : firstError,
    };
  }

  /** `count` events handed to trigger() at once (the engine saves and queues them); returns at once. */
  engineAsync({ workflowId, count }) {
    const workflow = this.workflow(workflowId);
    for (let i = 0; i < count; i++) {
      const context = benchContext({ id: i, event: 'push' });
      this.engine.trigger(workflow, context, { eventKey: context.deliveryId });
    }
    return { given: count, at: Date.now() };
  }

  /** Deletes a workflow's not-yet-started backlog (the bench's own), then waits for the engine. */
  async purge({ workflowId, timeoutMs = 120_000 }) {
    const Execution = this.db.getModel('executions');
    const where = { status: null, dispatched: false };
    if (workflowId) where.workflowId = workflowId;
    const deleted = await Execution.destroy({ where });
    return { deleted, idle: await this.waitIdle(timeoutMs) };
  }

  async profileStart() {
    this.session = new Session();
    this.session.connect();
    await this.session.post('Profiler.enable');
    await this.session.post('Profiler.setSamplingInterval', { interval: 500 });
    await this.session.post('Profiler.start');
    return { ok: true };
  }

  async profileStop({ file }) {
    if (!this.session) return { file: null };
    const { profile } = await this.session.post('Profiler.stop');
    writeFileSync(file, JSON.stringify(profile));
    this.session.disconnect();
    this.session = null;
    return { file };
  }

  authBudget({ on }) {
    const budget = this.webhook.authFailures;
    this.authDefaults ??= budget.settings();
    budget.configure(on ? this.authDefaults : { perSecond: 0 });
    return budget.settings();
  }

  middlewareOrder() {
    return this.app.middleware._items.map((i) => (i.group === '?' ? i.node?.name || '(anonymous)' : i.group));
  }

  async load() {
    mountFirst(
      this.app,
      async function benchNoopAtWebhookPosition(ctx, next) {
        if (ctx.req.url !== FLOOR_PATH) return next();
        ctx.status = 204;
      },
      'bench-noop-position',
    );
    if (Gateway?.registerRequestHandler) Gateway.registerRequestHandler(gatewayFloor);
    this.app.on('beforeStop', () => Gateway?.unregisterRequestHandler?.(gatewayFloor));

    const values = (ctx) => ctx.action.params.values ?? {};
    const actions = {
      info: () => ({
        pid: process.pid,
        dialect: this.db.options.dialect,
        gatewayFloor: Boolean(Gateway?.registerRequestHandler),
      }),
      /** Why the Gateway would or would not hand a webhook path to a registered handler. */
      diag: async () => {
        const gateway = Gateway.getInstance();
        const main = await AppSupervisor.getInstance().getApp('main');
        return {
          mainIsThisApp: main === this.app,
          samePm: main?.pm === this.app.pm,
          sameDb: main?.db === this.app.db,
          status: await AppSupervisor.getInstance().getAppStatus(this.app.name),
          appName: this.app.name,
          handlers: Gateway.requestHandlers?.length,
          middlewares: gateway.middlewares?.nodes?.length,
          selectors: gateway.selectorMiddlewares?.nodes?.length,
          selected: await gateway.getRequestHandleAppName({ url: '/api/webhooks/x', headers: {} }),
          prefix: this.app.resourcer.options.prefix,
          /** Webhook requests the plugin answered from its Gateway handler (WEBHOOK_MOUNT=gateway). */
          webhookGatewayServed: this.webhook?.gatewayEntry?.served ?? null,
          webhookEnabled: Boolean(this.webhook?.enabled),
        };
      },
      engineSync: (ctx) => this.engineSync(values(ctx)),
      engineAsync: (ctx) => this.engineAsync(values(ctx)),
      idle: async (ctx) => ({ idle: await this.waitIdle(values(ctx).timeoutMs ?? 60_000) }),
      purge: (ctx) => this.purge(values(ctx)),
      profileStart: () => this.profileStart(),
      profileStop: (ctx) => this.profileStop(values(ctx)),
      authBudget: (ctx) => this.authBudget(values(ctx)),
      middlewareOrder: () => ({ order: this.middlewareOrder() }),
    };
    this.app.resourceManager.define({
      name: 'webhookBench',
      actions: Object.fromEntries(
        Object.entries(actions).map(([name, fn]) => [
          name,
          async (ctx, next) => {
            if (!ctx.state.currentRoles?.includes?.('root') && ctx.state.currentRole !== 'root') {
              ctx.throw(403, 'webhookBench: root only');
            }
            ctx.body = await fn(ctx);
            await next();
          },
        ]),
      ),
    });
    this.app.acl.allow('webhookBench', '*', 'loggedIn');
  }
}

module.exports = PluginWebhookBench;
module.exports.default = PluginWebhookBench;
