import { randomUUID } from 'node:crypto';
import type PluginWorkflowServer from '@nocobase/plugin-workflow';
import type { Context, Next } from 'koa';
import type { AsyncInbox } from '../dispatch/async-inbox';
import type { Lane } from '../dispatch/lane';
import { type HttpAnswer, runSync } from '../dispatch/sync';
import type { IndexEntry, KeyIndex } from '../key-index';
import { verifyRequest } from '../verify';
import { parseBody, readRawBody } from './body';
import { compileIpList, type IpMatcher, resolveClientIp } from './client-ip';
import { WebhookError } from './errors';
import { checkSchema } from './schema';

export interface RouteDeps {
  /** e.g. `/api/webhooks/` */
  base: string;
  index: KeyIndex;
  engine: PluginWorkflowServer;
  lane: Lane;
  inbox: AsyncInbox;
  uploadDir: (deliveryId: string) => string;
  accepting: () => boolean;
  log: (message: string, meta?: object) => void;
}

/** Compiled IP lists, cached per index entry. */
const ipLists = new WeakMap<IndexEntry, { allow: IpMatcher | null; trusted: IpMatcher | null }>();

function ipListsOf(entry: IndexEntry) {
  let lists = ipLists.get(entry);
  if (!lists) {
    const { ipAllowlist, trustedProxies } = entry.config;
    lists = {
      allow: ipAllowlist.length ? compileIpList(ipAllowlist) : null,
      trusted: trustedProxies.length ? compileIpList(trustedProxies) : null,
    };
    ipLists.set(entry, lists);
  }
  return lists;
}

function send(ctx: Context, answer: HttpAnswer): void {
  ctx.status = answer.status;
  for (const [name, value] of Object.entries(answer.headers ?? {})) ctx.set(name, value);
  const body = answer.body;
  if (body === undefined || body === null) {
    ctx.body = null;
    ctx.status = answer.status;
  } else if (!answer.json && (typeof body === 'string' || Buffer.isBuffer(body))) {
    ctx.body = body;
  } else {
    if (!ctx.response.get('Content-Type')) ctx.type = 'application/json';
    ctx.body = JSON.stringify(body);
  }
}

function sendError(ctx: Context, error: WebhookError): void {
  for (const [name, value] of Object.entries(error.extra.headers ?? {})) ctx.set(name, value);
  ctx.status = error.status;
  ctx.type = 'application/json';
  ctx.body = JSON.stringify(error.toBody());
}

/**
 * The one middleware that owns `{base}*` and nothing else: match key -> sub-path -> method ->
 * client IP + allow-list -> raw body (limit) -> parse -> schema -> dispatch (sync or async).
 * Each stage passes or throws one WebhookError, which becomes the JSON error body here.
 */
export function createWebhookRoute(deps: RouteDeps) {
  const { base } = deps;
  return async function webhookRoute(ctx: Context, next: Next): Promise<void> {
    if (!ctx.path.startsWith(base)) return next();
    try {
      await handle(ctx, deps);
    } catch (error) {
      if (error instanceof WebhookError) {
        sendError(ctx, error);
      } else {
        deps.log(`webhook request failed: ${(error as Error)?.message}`, { error });
        sendError(ctx, new WebhookError('UNAVAILABLE', 'The webhook could not be processed now; retry later'));
      }
    }
  };
}

async function handle(ctx: Context, deps: RouteDeps): Promise<void> {
  const rest = ctx.path.slice(deps.base.length);
  const slash = rest.indexOf('/');
  const key = slash === -1 ? rest : rest.slice(0, slash);
  const subPath = slash === -1 ? '' : rest.slice(slash);

  const entry = deps.index.get(key);
  if (!entry) throw new WebhookError('NOT_FOUND', 'No enabled webhook workflow has this key');
  const { config, workflow } = entry;

  let params: Record<string, string> = {};
  if (config.path) {
    const matched = config.path.match(subPath || '/');
    if (!matched) throw new WebhookError('NOT_FOUND', `Path does not match ${config.path.pattern}`);
    params = matched;
  } else if (subPath && subPath !== '/') {
    throw new WebhookError('NOT_FOUND', 'This webhook has no sub-path');
  }

  const method = ctx.method.toUpperCase();
  if (!(config.methods as string[]).includes(method)) {
    throw new WebhookError('METHOD_NOT_ALLOWED', `Method ${method} is not allowed`, {
      headers: { Allow: config.methods.join(', ') },
    });
  }

  const lists = ipListsOf(entry);
  const ip = resolveClientIp(ctx.req.socket.remoteAddress, ctx.req.headers['x-forwarded-for'], lists.trusted);
  if (lists.allow && !lists.allow(ip)) throw new WebhookError('IP_FORBIDDEN', 'Client IP is not allowed');

  if (!deps.accepting()) throw new WebhookError('UNAVAILABLE', 'The application is stopping; retry later');

  const raw = await readRawBody(ctx.req, config.maxBodyBytes);
  verifyRequest(config.verification, ctx.req.headers, raw, Math.floor(Date.now() / 1000));
  const deliveryId = randomUUID();
  const parsed = await parseBody(raw, ctx.req.headers, {
    uploadDir: () => deps.uploadDir(deliveryId),
    maxBytes: config.maxBodyBytes,
  });
  if (config.bodySchema) checkSchema(config.bodySchema, parsed.data);

  const context = {
    data: parsed.data,
    headers: { ...ctx.req.headers },
    query: { ...ctx.query },
    params,
    method,
    ip,
    files: parsed.files,
    deliveryId,
  };

  if (workflow.sync) {
    const answer = await runSync(deps.engine, deps.lane, {
      workflow,
      context,
      deliveryId,
      timeoutMs: config.timeoutMs,
      fallback: config.response,
    });
    send(ctx, answer);
    return;
  }

  await deps.inbox.accept(workflow, context, deliveryId);
  const configured = config.response;
  send(
    ctx,
    configured
      ? { status: configured.status ?? 202, headers: configured.headers, body: configured.body ?? { deliveryId } }
      : { status: 202, body: { deliveryId } },
  );
}
