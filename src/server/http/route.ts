import type { Context, Next } from 'koa';
import { STATUS_SEGMENT } from '../../common/constants';
import { matchesFilter } from '../../common/filter';
import { type DeliveryRow, newDeliveryRow } from '../deliveries/collection';
import type { DeliveryRecorder } from '../deliveries/recorder';
import { answerForLog, bodyForLog, REDACTED, redactHeaders } from '../deliveries/redact';
import { type DeliveryStatus, newStatusToken } from '../deliveries/status';
import { type DispatchDeps, dispatchDelivery, errorAnswer } from '../dispatch/dispatch';
import type { HttpAnswer } from '../dispatch/sync';
import type { IndexEntry, KeyIndex } from '../key-index';
import type { UploadStore } from '../uploads';
import { credentialHeaders, verifyRequest } from '../verify';
import type { AuthFailureBudget } from './auth-failure-budget';
import { compileIpList, type IpMatcher, resolveClientIp } from './client-ip';
import { answerPreflight, applyCors } from './cors';
import { WebhookError } from './errors';
import { idempotencyKeyOf } from './idempotency';
import { type JsonLimits, type JsonWorkerPool, parseBody } from './parse';
import { hasNul } from './parse/text';
import { type Counter, checkRateLimit } from './rate-limit';
import { readRawBody } from './raw-body';
import { checkSchema } from './schema';
import { testGrantOf } from './test-grant';

export interface RouteDeps extends DispatchDeps {
  /** The status of a delivery by its status-URL token (null: unknown). */
  statusOf: (token: string) => Promise<DeliveryStatus | null>;
  /** e.g. `/api/webhooks/` */
  base: string;
  index: KeyIndex;
  recorder: DeliveryRecorder;
  counter: () => Counter;
  uploads: UploadStore;
  jsonLimits: JsonLimits;
  /** Large JSON bodies are parsed here, off the event loop. */
  jsonPool?: JsonWorkerPool;
  accepting: () => boolean;
  logBodyBytes: number;
  bodyTimeoutMs: number;
  authFailures: AuthFailureBudget;
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

/** What the log row is made of, kept raw until the row is known to be written. */
interface LogSource {
  /** Headers redacted besides the usual ones: the one the webhook's verification names. */
  sensitiveHeaders: string[];
  raw: Buffer | null;
}

/** Fills the row's redacted headers and body: only for rows that are written (not a suppressed flood). */
function completeRow(ctx: Context, row: DeliveryRow, source: LogSource, logBodyBytes: number): void {
  row.headers = redactHeaders(ctx.req.headers, source.sensitiveHeaders);
  Object.assign(row, bodyForLog(source.raw, logBodyBytes));
}

function newRow(ctx: Context): DeliveryRow {
  return newDeliveryRow({
    key: '',
    method: ctx.method.toUpperCase(),
    path: ctx.url.slice(0, 2048),
    ip: ctx.req.socket.remoteAddress ?? '',
  });
}

/**
 * The one middleware that owns `{base}*` and nothing else. A request walks:
 * match key -> sub-path -> CORS preflight -> method -> client IP + allow-list -> rate limit ->
 * raw body (limit) -> verify -> parse -> schema -> idempotency -> dispatch (sync / async).
 * Each stage passes or throws one WebhookError, which becomes the JSON error body here; every
 * request leaves a row in the delivery log.
 */
export function createWebhookRoute(deps: RouteDeps) {
  const { base } = deps;
  const statusBase = `${base}${STATUS_SEGMENT}/`;
  return async function webhookRoute(ctx: Context, next: Next): Promise<void> {
    if (!ctx.path.startsWith(base)) return next();
    if (ctx.path.startsWith(statusBase)) return answerStatus(ctx, deps, ctx.path.slice(statusBase.length));
    const row = newRow(ctx);
    ctx.state.webhookDeliveryId = row.id;
    const source: LogSource = { sensitiveHeaders: [], raw: null };
    let answer: HttpAnswer | null;
    try {
      answer = await handle(ctx, deps, row, source);
    } catch (error) {
      const known =
        error instanceof WebhookError
          ? error
          : new WebhookError('UNAVAILABLE', 'The webhook could not be processed now; retry later');
      if (!(error instanceof WebhookError)) deps.log(`webhook request failed: ${(error as Error)?.message}`, { error });
      answer = errorAnswer(known);
      row.errorCode = known.code;
      row.errorMessage = known.message;
      row.status = answer.status;
      row.answer = answerForLog(answer);
      row.durationMs = Date.now() - row.createdAt.getTime();
      deps.recorder.recordRejected(row, () => completeRow(ctx, row, source, deps.logBodyBytes));
      const penalty = deps.authFailures.penalty(known.code, row.ip);
      if (penalty.close) ctx.set('Connection', 'close');
      await deps.authFailures.hold(penalty);
    }
    if (answer) send(ctx, answer);
  };
}

/** Returns the answer (null when already sent, e.g. a preflight); the row is recorded by then. */
async function handle(ctx: Context, deps: RouteDeps, row: DeliveryRow, source: LogSource): Promise<HttpAnswer | null> {
  const rest = ctx.path.slice(deps.base.length);
  const slash = rest.indexOf('/');
  row.key = (slash === -1 ? rest : rest.slice(0, slash)).slice(0, 128);
  const subPath = slash === -1 ? '' : rest.slice(slash);

  // A test request from the admin UI runs the version it names, enabled or not.
  const grant = testGrantOf(ctx.req);
  if (grant) row.test = true;
  const entry = grant ?? deps.index.get(row.key);
  if (!entry) throw new WebhookError('NOT_FOUND', 'No enabled webhook workflow has this key');
  const { config, workflow } = entry;
  row.workflowId = workflow.id;
  row.workflowKey = workflow.key;
  const credentials = credentialHeaders(config.verification);
  source.sensitiveHeaders = credentials;

  let params: Record<string, string> = {};
  if (config.path) {
    const matched = config.path.match(subPath || '/');
    if (!matched) throw new WebhookError('NOT_FOUND', `Path does not match ${config.path.pattern}`);
    params = matched;
  } else if (subPath && subPath !== '/') {
    throw new WebhookError('NOT_FOUND', 'This webhook has no sub-path');
  }
  const query = { ...ctx.query };
  // NUL cannot be stored as text (PostgreSQL refuses it): refused in the URL as in the body.
  if (hasNul(params) || (ctx.querystring.includes('%00') && hasNul(query))) {
    throw new WebhookError('INVALID_BODY', 'The URL contains NUL characters, which cannot be stored as text');
  }

  const lists = ipListsOf(entry);
  const ip = resolveClientIp(ctx.req.socket.remoteAddress, ctx.req.headers['x-forwarded-for'], lists.trusted);
  row.ip = ip;

  if (answerPreflight(ctx, config.cors, config.methods)) {
    row.status = ctx.status;
    deps.recorder.recordRejected(row, () => completeRow(ctx, row, source, deps.logBodyBytes));
    return null;
  }
  const method = row.method;
  if (!(config.methods as string[]).includes(method)) {
    throw new WebhookError('METHOD_NOT_ALLOWED', `Method ${method} is not allowed`, {
      headers: { Allow: config.methods.join(', ') },
    });
  }
  applyCors(ctx, config.cors);

  // A test request comes from the server itself: no allow-list or rate limit applies to it.
  if (!grant && lists.allow && !lists.allow(ip)) throw new WebhookError('IP_FORBIDDEN', 'Client IP is not allowed');
  if (!grant && config.rateLimit) await checkRateLimit(deps.counter(), row.key, config.rateLimit);
  if (!deps.accepting()) throw new WebhookError('UNAVAILABLE', 'The application is not ready; retry later');

  const raw = await readRawBody(ctx.req, config.maxBodyBytes, deps.bodyTimeoutMs);
  source.raw = raw;
  verifyRequest(config.verification, ctx.req.headers, raw, Math.floor(Date.now() / 1000));
  const parsed = await parseBody(raw, ctx.req.headers, {
    maxBytes: config.maxBodyBytes,
    json: deps.jsonLimits,
    jsonPool: deps.jsonPool,
  });
  if (config.bodySchema) checkSchema(config.bodySchema, parsed.data);
  const headers = contextHeaders(ctx.req.headers, credentials);
  if (config.filter && !matchesFilter(config.filter, { data: parsed.data, headers, query, params, method, ip })) {
    return filtered(ctx, deps, row, source);
  }

  if (config.idempotencyHeader) {
    const value = ctx.get(config.idempotencyHeader);
    if (value) row.idempotencyKey = idempotencyKeyOf(workflow.key, value);
  }
  completeRow(ctx, row, source, deps.logBodyBytes);
  // Accepted so far: only now do uploads reach the disk, and they leave it again unless the
  // delivery starts an execution (a repeated idempotency key, a refusal by the engine).
  const files = await deps.uploads.store(workflow.key, row.id, parsed.files);
  // A 202 (async, or a sync run past its timeout with onTimeout "accept") points at a status URL.
  let statusUrl: string | undefined;
  if (!workflow.sync || config.onTimeout === 'accept') {
    const { token, hash } = newStatusToken();
    row.statusTokenHash = hash;
    statusUrl = `${ctx.protocol}://${ctx.host}${deps.base}${STATUS_SEGMENT}/${token}`;
  }
  const context = {
    data: parsed.data,
    headers,
    query,
    params,
    method,
    ip,
    files,
    deliveryId: row.id,
  };
  let answer: HttpAnswer | undefined;
  try {
    answer = await dispatchDelivery(deps, { entry, context, row, statusUrl, force: !!grant });
    return answer;
  } finally {
    if (files.length && row.executionId === null && answer?.status !== 504) {
      await deps.uploads.removeDir(workflow.key, row.id);
    }
  }
}

/** A request that passed every check but not the trigger's filter: logged FILTERED, nothing starts. */
function filtered(ctx: Context, deps: RouteDeps, row: DeliveryRow, source: LogSource): HttpAnswer {
  const answer: HttpAnswer = { status: 200, body: { deliveryId: row.id, filtered: true } };
  row.status = 200;
  row.answer = answer;
  row.errorCode = 'FILTERED';
  row.errorMessage = "The request did not pass the trigger's filter; no execution was started";
  row.durationMs = Date.now() - row.createdAt.getTime();
  completeRow(ctx, row, source, deps.logBodyBytes);
  deps.recorder.record(row);
  return answer;
}

/** `GET {base}~status/{token}`: how the delivery whose 202 carried the token is doing. */
async function answerStatus(ctx: Context, deps: RouteDeps, token: string): Promise<void> {
  let answer: HttpAnswer;
  if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
    answer = errorAnswer(
      new WebhookError('METHOD_NOT_ALLOWED', `Method ${ctx.method} is not allowed`, {
        headers: { Allow: 'GET, HEAD' },
      }),
    );
  } else {
    const status = await deps.statusOf(token).catch((error) => {
      deps.log(`delivery status lookup failed: ${(error as Error)?.message}`, { error });
      return undefined;
    });
    answer =
      status === undefined
        ? errorAnswer(new WebhookError('UNAVAILABLE', 'The status could not be read now; retry later'))
        : status === null
          ? errorAnswer(new WebhookError('NOT_FOUND', 'No delivery has this status token'))
          : { status: 200, headers: { 'Cache-Control': 'no-store' }, body: status };
  }
  send(ctx, answer);
}

/** `$context.headers`: the request's headers, with the credential the plugin checked redacted. */
function contextHeaders(headers: Context['req']['headers'], credentials: string[]): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...headers };
  for (const name of credentials) if (copy[name] !== undefined) copy[name] = REDACTED;
  return copy;
}
