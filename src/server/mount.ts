import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Application, AppSupervisor, Gateway } from '@nocobase/server';

/** An entry of NocoBase's middleware Toposort (@nocobase/utils, on @hapi/topo's Sorter). */
interface SortItem {
  seq: number;
  group: string;
}

interface Sorter {
  _items?: SortItem[];
  sort?: () => unknown;
}

/**
 * Mounts `middleware` first in the app's chain, before every NocoBase middleware (request
 * logger, body parser, auth...), without changing the order of the others.
 *
 * `app.use(fn, { before: [...] })` cannot do this: the sorter places items in the order they
 * were added (their `seq`) and only moves what a rule forces, so a late item with `before`
 * rules pulls other, unrelated middleware ahead with it (getBearerToken and the data-source
 * hooks moved before generateReqId and the logger). Instead the middleware is added without
 * rules and then given the first place in the adding order (seq 0, the others shifted by one):
 * an item without rules at seq 0 is sorted first, and the rest sort exactly as before. Later
 * `app.use` calls keep working (they take the next free seq). Should the sorter's shape ever
 * differ, it falls back to rules naming NocoBase's head middleware.
 *
 * With `gatewayPrefix`, requests under that path are also served from the Gateway's first request
 * handler in the full server, ahead of the Gateway's own per-request work (mountAtGateway).
 */
export function mountFirst(
  app: Application,
  middleware: (ctx: any, next: () => Promise<void>) => unknown,
  tag: string,
  options: { gatewayPrefix?: string } = {},
) {
  if (options.gatewayPrefix) {
    mountAtGateway(app, middleware, options.gatewayPrefix, Gateway as unknown as GatewayLike, async (name) =>
      AppSupervisor.getInstance().getAppStatus(name),
    );
  }
  const sorter = (app as unknown as { middleware: Sorter }).middleware;
  if (!Array.isArray(sorter._items) || typeof sorter.sort !== 'function') {
    // Unknown sorter: rules naming NocoBase's head middleware (they may move some others around).
    app.use(middleware as any, { tag, before: ['generateReqId', 'audit', 'logger', 'bodyParser'] });
    return;
  }
  app.use(middleware as any, { tag });
  const items = sorter._items;
  const ours = items.find((item) => item.group === tag)!;
  const rest = items.filter((item) => item !== ours).sort((a, b) => a.seq - b.seq);
  ours.seq = 0;
  rest.forEach((item, index) => {
    item.seq = index + 1;
  });
  sorter._items = [ours, ...rest];
  sorter.sort();
}

/** A Gateway request handler: true (or anything but false) when it answered the request. */
type GatewayHandler = (req: IncomingMessage, res: ServerResponse, main?: unknown) => Promise<unknown> | unknown;

interface GatewayLike {
  registerRequestHandler?: (handler: GatewayHandler) => void;
  unregisterRequestHandler?: (handler: GatewayHandler) => void;
  getInstance?: () => {
    middlewares?: { nodes?: unknown[] };
    selectorMiddlewares?: { nodes?: unknown[] };
    getRequestHandleAppName?: (req: IncomingMessage) => Promise<string>;
  };
}

/** The app's whole Koa chain on `ctx` (what `next()` of the Gateway-mounted middleware continues to). */
function runChain(nodes: Array<(ctx: any, next: () => Promise<void>) => unknown>, ctx: any): Promise<void> {
  const dispatch = (i: number): Promise<void> =>
    i < nodes.length ? Promise.resolve(nodes[i](ctx, () => dispatch(i + 1))).then(() => undefined) : Promise.resolve();
  return dispatch(0);
}

const gatewayHandlers = new WeakMap<Application, GatewayHandler>();

/**
 * In the full NocoBase server (`nocobase start`), every request first passes the Gateway: the app
 * supervisor's look-ups (several per request), the app selector (a Toposort sorted per request),
 * the file-path checks and a `koa-compose` of the whole Koa chain built per request by
 * `app.callback()`, before the first Koa middleware runs. Profiled, that is most of what a
 * webhook rejection costs there (bench/README.md). For paths under `pathPrefix` this registers a
 * Gateway request handler (called first by the Gateway's HTTP server) that runs `middleware`
 * directly in a Koa context of `app`, when, and only when, the Gateway would have handed the
 * request to this app anyway:
 *
 * - the main app is this app (by name) and its status is `running` (otherwise the Gateway answers
 *   as usual);
 * - no sub-app is asked for (`X-App`, `__appName`, `/api/__app/...`), and when plugins added app
 *   selectors of their own (multi-app by host name), the Gateway's selector picks this app;
 * - the Gateway has no middleware of its own (`Gateway.use`); if some plugin added one, every
 *   request keeps taking the usual way.
 *
 * Anything the middleware passes on (`next()`) continues through the app's whole Koa chain. The
 * light runner (`app.callback()` on a plain server) never calls Gateway handlers, and loses
 * nothing: the route is also mounted first in the Koa chain (mountFirst). The handler is removed
 * when the app stops or is destroyed.
 */
export function mountAtGateway(
  app: Application,
  middleware: (ctx: any, next: () => Promise<void>) => unknown,
  pathPrefix: string,
  gateway: GatewayLike | undefined,
  appStatus: (name: string) => Promise<string | undefined>,
) {
  if (!gateway?.registerRequestHandler || !gateway.unregisterRequestHandler || !gateway.getInstance) return false;
  const previous = gatewayHandlers.get(app);
  if (previous) gateway.unregisterRequestHandler(previous);
  const koa = app as unknown as {
    createContext: (req: IncomingMessage, res: ServerResponse) => any;
    handleRequest: (ctx: any, fn: (ctx: any) => Promise<unknown>) => Promise<unknown>;
    middleware: { nodes: Array<(ctx: any, next: () => Promise<void>) => unknown> };
  };
  const appPath = `${pathPrefix.split('/').slice(0, 2).join('/')}/__app/`;
  const handler: GatewayHandler = async (req, res, main) => {
    const url = req.url ?? '';
    // `main` is the supervisor's main app; the plugin may see it through a wrapper, so compare names.
    const target = main as typeof koa & { name?: string };
    if (!url.startsWith(pathPrefix) || !target || target.name !== app.name) return false;
    if (req.headers['x-app'] || url.includes('__appName') || url.startsWith(appPath)) return false;
    const instance = gateway.getInstance!();
    if (instance.middlewares?.nodes?.length) return false;
    if ((instance.selectorMiddlewares?.nodes?.length ?? 1) > 1) {
      const name = await instance.getRequestHandleAppName?.(req);
      if (name !== app.name) return false;
    }
    if ((await appStatus(app.name)) !== 'running') return false;
    const ctx = target.createContext(req, res);
    await target.handleRequest(ctx, (c) => Promise.resolve(middleware(c, () => runChain(target.middleware.nodes, c))));
    return true;
  };
  gateway.registerRequestHandler(handler);
  gatewayHandlers.set(app, handler);
  const remove = () => {
    if (gatewayHandlers.get(app) !== handler) return;
    gateway.unregisterRequestHandler!(handler);
    gatewayHandlers.delete(app);
  };
  app.on('beforeStop', remove);
  app.on('afterDestroy', remove);
  return true;
}
