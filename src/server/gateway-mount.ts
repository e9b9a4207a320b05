import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppSupervisor, Gateway } from '@nocobase/server';
import qs from 'qs';

type Middleware = (ctx: any, next: () => Promise<void>) => unknown;

/**
 * What the plugin instance of the main app exposes to the Gateway handler while it serves
 * (set in `load`, cleared when the app stops; a disabled plugin never sets it).
 */
export interface GatewayEntry {
  /** `/api/webhooks/`: the handler looks at nothing else. */
  base: string;
  /** The Gateway's API base path (`API_BASE_PATH`, read when the plugin loads): only below it does the Gateway hand requests to the app. */
  apiBase: string | undefined;
  /** `{apiBase}/__app/`: the Gateway's sub-app path prefix. */
  appPathPrefix: string;
  /** The same middleware that is mounted first in the app's Koa chain. */
  route: Middleware;
  /** Requests answered from the Gateway handler so far (read by the bench probe and the tests). */
  served: number;
}

/** The entry of a loaded plugin instance; `apiBase` is the Gateway's `API_BASE_PATH`. */
export function newGatewayEntry(base: string, route: Middleware, apiBase: string | undefined): GatewayEntry {
  return { base, apiBase, appPathPrefix: `${(apiBase ?? '').replace(/\/+$/, '')}/__app/`, route, served: 0 };
}

/** The plugin instance as the handler finds it in the main app's plugin manager. */
interface PluginLike {
  app?: { pm?: unknown };
  enabled?: boolean;
  gatewayEntry?: GatewayEntry | null;
}

/** The Koa side of a NocoBase Application that the handler uses, as `app.callback()` does. */
interface AppLike {
  name?: string;
  pm?: { get?: (name: string) => unknown };
  middleware?: { nodes?: Middleware[] };
  createContext: (req: IncomingMessage, res: ServerResponse) => any;
  handleRequest: (ctx: any, fn: (ctx: any) => Promise<unknown>) => Promise<unknown>;
  listenerCount: (event: string) => number;
  on: (event: string, listener: (...args: any[]) => void) => unknown;
  onerror: (...args: any[]) => void;
}

/** The Gateway's state the handler reads per request. */
export interface GatewayState {
  /** Gateway middleware (`Gateway.getInstance().use(...)`): when there is any, nothing is served here. */
  middlewareCount: () => number;
  /** App selectors (`addAppSelectorMiddleware`); NocoBase's own core selector is one. */
  selectorCount: () => number;
  /** The Gateway's own answer to "which app serves this request". */
  selectApp: (req: IncomingMessage) => Promise<string>;
  /** The app supervisor's status of an app (`running` when the Gateway would hand it requests). */
  appStatus: (name: string) => Promise<string | null | undefined>;
}

type GatewayHandler = (req: IncomingMessage, res: ServerResponse, main?: unknown) => Promise<boolean>;

/** NocoBase's Gateway and app supervisor of this process. */
export function nocobaseGatewayState(): GatewayState {
  const gateway = () => Gateway.getInstance() as unknown as Record<string, any>;
  return {
    middlewareCount: () => gateway().middlewares?.nodes?.length ?? 0,
    selectorCount: () => gateway().selectorMiddlewares?.nodes?.length ?? 0,
    selectApp: (req) => gateway().getRequestHandleAppName(req),
    appStatus: async (name) => (await AppSupervisor.getInstance().getAppStatus(name)) as string | null,
  };
}

/** The app's whole Koa chain on `ctx`: what `next()` of the route continues to (never, for its own paths). */
function runChain(nodes: Middleware[], ctx: any): Promise<void> {
  const dispatch = (i: number): Promise<void> =>
    i < nodes.length ? Promise.resolve(nodes[i](ctx, () => dispatch(i + 1))).then(() => undefined) : Promise.resolve();
  return dispatch(0);
}

/**
 * The Gateway request handler. In the full server (`nocobase start`) the Gateway's HTTP server
 * awaits `AppSupervisor.getApp('main')`, then calls every registered request handler with it,
 * before its own per-request work (the app selectors, the path checks, two more supervisor
 * look-ups and status reads, and `app.callback()`, which composes the app's ~40 middleware anew
 * for every request). This handler answers `{base}*` of the main app there, and only when the
 * Gateway would have handed the request to the main app's Koa chain anyway, where the same route
 * is mounted first:
 *
 * - the main app's plugin manager has this plugin, enabled and loaded (its `gatewayEntry`; a
 *   disabled plugin or an app being reloaded has none), and the main app's status is `running`;
 * - the path is under the Gateway's API base path (`API_BASE_PATH`) and is none the Gateway answers
 *   itself (`…/__health_check`, `…/__umi/api/bundle-status`);
 * - no sub-app is asked for (`X-App`, `__appName`, `{api}/__app/{name}/`); when plugins added app
 *   selectors of their own (multi-app manager: by host name), the Gateway's selection names main;
 * - the Gateway has no middleware of its own (`Gateway.use`): if any plugin added one, requests keep
 *   going through it.
 *
 * Everything else returns false, and the Gateway goes on as it would without the handler. The
 * route runs in a Koa context of the main app made as `app.callback()` makes it (`createContext`,
 * `handleRequest`), so it sees the same `ctx` (socket peer, headers, raw body stream) and answers
 * the same bytes.
 */
export function createGatewayHandler(pluginName: string, state: GatewayState): GatewayHandler {
  return async (req, res, main) => {
    const app = main as AppLike | undefined;
    const plugin = app?.pm?.get?.(pluginName) as PluginLike | undefined;
    const entry = plugin?.gatewayEntry;
    const url = req.url;
    if (!entry || typeof url !== 'string' || !url.startsWith(entry.base)) return false;
    // (Compared by plugin manager: the app object a plugin holds may be a wrapper of the Gateway's.)
    if (plugin.enabled === false || !app || plugin.app?.pm !== app.pm) return false;
    const { apiBase } = entry;
    if (!apiBase || !url.startsWith(apiBase)) return false;
    if (url.startsWith(entry.appPathPrefix)) return false;
    if (url.includes('/__health_check') || url.includes('/__umi/')) return false;
    if (req.headers['x-app'] !== undefined) return false;
    const query = url.indexOf('?');
    // As the Gateway reads it (qs: `%5F%5FappName` is `__appName` too).
    if (query >= 0 && qs.parse(url.slice(query + 1)).__appName) return false;
    if (state.middlewareCount() > 0) return false;
    if (state.selectorCount() > 1 && (await state.selectApp(req)) !== app.name) return false;
    if ((await state.appStatus(app.name ?? 'main')) !== 'running') return false;
    // From here on the request is ours: never hand it back to the Gateway (it would answer twice).
    entry.served++;
    try {
      if (!app.listenerCount('error')) app.on('error', app.onerror);
      const ctx = app.createContext(req, res);
      await app.handleRequest(ctx, (c) =>
        Promise.resolve(entry.route(c, () => runChain(app.middleware?.nodes ?? [], c))),
      );
    } catch (error) {
      console.error('webhook gateway handler failed:', error);
      if (!res.headersSent) {
        res.statusCode = 500;
        res.end();
      }
    }
    return true;
  };
}

const INSTALLED = Symbol.for('nocobase-plugin-webhook-trigger.gateway-handler');

interface GatewayStatics {
  registerRequestHandler?: (handler: GatewayHandler) => void;
  unregisterRequestHandler?: (handler: GatewayHandler) => void;
}

/**
 * Registers the handler once per process (a later load replaces the earlier one, so the handler
 * is always the plugin's current code); `false` removes it. Returns whether one is registered
 * (false where the Gateway has no request handlers).
 */
export function installGatewayHandler(
  pluginName: string | false,
  gateway: GatewayStatics = Gateway as unknown as GatewayStatics,
  state: GatewayState = nocobaseGatewayState(),
): boolean {
  const holder = globalThis as unknown as Record<symbol, GatewayHandler | undefined>;
  const previous = holder[INSTALLED];
  if (previous) gateway.unregisterRequestHandler?.(previous);
  holder[INSTALLED] = undefined;
  if (pluginName === false || !gateway.registerRequestHandler || !gateway.unregisterRequestHandler) return false;
  const handler = createGatewayHandler(pluginName, state);
  gateway.registerRequestHandler(handler);
  holder[INSTALLED] = handler;
  return true;
}
