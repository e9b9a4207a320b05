import type { Context, Next } from 'koa';
import { STATUS_SEGMENT } from '../common/constants';
import { matchesFilter } from '../common/filter';
import { errorAnswer, type HttpAnswer, refusal, WebhookError } from './answer';
import { type DeliveryRow, newDeliveryRow } from './deliveries/collection';
import type { DeliveryRecorder } from './deliveries/recorder';
import { answerForLog, bodyForLog, REDACTED, redactHeaders } from './deliveries/redact';
import { type DeliveryStatus, newStatusToken } from './deliveries/status';
import type { Reservation } from './dispatch/backlog';
import { type DispatchDeps, dispatchDelivery } from './dispatch/dispatch';
import { idempotencyKeyOf } from './dispatch/idempotency';
import type { AuthFailureBudget } from './http/auth-failure-budget';
import { compileIpList, type IpMatcher, resolveClientIp } from './http/client-ip';
import { answerPreflight, applyCors } from './http/cors';
import { type JsonLimits, type JsonWorkerPool, parseBody } from './http/parse';
import { hasNul } from './http/parse/text';
import { type Counter, checkRateLimit } from './http/rate-limit';
import { readRawBody } from './http/raw-body';
import { checkSchema } from './http/schema';
import type { IndexEntry, KeyIndex } from './key-index';
import { testGrantOf } from './test-grant';
import type { UploadStore } from './uploads';
import { checkSender, credentialHeaders, credentialQuery, handshakeMethods, type SenderRequest } from './verify';

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

/** What a refused async delivery is told to wait: the backlog drains by the second. */
const BACKLOG_RETRY_AFTER_SECONDS = 1;

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
 * The one middleware that owns `{base}*` and nothing else. `{base}~status/{token}` answers a
 * status URL (no log row); every other request walks these stages, in this order (see `handle`):
 *
 *   1. matchWebhook   key -> enabled workflow, or the version a test request names (404);
 *                     sub-path -> params (404); NUL in the URL (400)
 *   2. resolveIp      the client IP as trustedProxies decide it
 *   3. preflight      a CORS preflight is answered here; applyCors then adds CORS headers
 *   4. checkMethod    405 with Allow (a sender's handshake method passes for the handshake only)
 *   5. access         IP allow-list (403), rate limit (429), app not ready (503), async backlog
 *                     full (waits for room, then 429); a test request skips all but "not ready"
 *   6. readRawBody    the exact bytes, within maxBodyBytes (413) and the body timeout (408)
 *   7. checkSender    the sender's handshake (answered here), signature or token (401), decryption
 *   8. parseBody      by Content-Type (400, 413, 415); large JSON in a worker thread
 *   9. checkSchema    bodySchema (422)
 *  10. filter         the trigger's filter (200 filtered, nothing starts)
 *  11. idempotency    the key of the idempotency header
 *  12. uploads        written only now, for an accepted delivery
 *  13. dispatch       sync (run and answer) or async (store, 202 with its status URL)
 *
 * Each stage passes or throws one WebhookError, which becomes the JSON error body here (its
 * status from answer.ts's table; anything else is 503 UNAVAILABLE). Every request leaves one row
 * in the delivery log: `writeRow` writes it for refused, preflight, handshake and filtered
 * requests (refused ones past WEBHOOK_LOG_REJECTED_PER_SECOND are counted in one row a second);
 * dispatch writes it for accepted deliveries. A refusal may then be held by the failed-
 * authentication budget (auth-failure-budget.ts decides by its code) before it is sent.
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
    let outcome: Outcome;
    let refused: WebhookError | null = null;
    try {
      outcome = await handle(ctx, deps, row, source);
    } catch (error) {
      const known =
        error instanceof WebhookError
          ? error
          : new WebhookError('UNAVAILABLE', 'The webhook could not be processed now; retry later');
      if (!(error instanceof WebhookError)) deps.log(`webhook request failed: ${(error as Error)?.message}`, { error });
      row.errorCode = known.code;
      row.errorMessage = known.message;
      refused = known;
      outcome = { answer: errorAnswer(known), row: 'rejected' };
    }
    writeRow(ctx, deps, row, source, outcome);
    if (refused) {
      // A failed verification past the source's budget is answered late (auth-failure-budget.ts).
      const penalty = deps.authFailures.penalty(refused.code, row.ip);
      if (penalty.close) ctx.set('Connection', 'close');
      await deps.authFailures.hold(penalty);
    }
    if (outcome.answer) send(ctx, outcome.answer);
  };
}

/**
 * What a request came to, and who writes its row: `rejected` and `kept` rows are written here
 * (rejected ones within the per-second budget of rejected rows, so a flood cannot flood the
 * database); `dispatched` rows by dispatch, with the queued execution or as the sync run answers.
 */
interface Outcome {
  /** null: already answered (a CORS preflight). */
  answer: HttpAnswer | null;
  row: 'rejected' | 'kept' | 'dispatched';
}

/** The one place the route writes a delivery row (accepted deliveries: see `Outcome`). */
function writeRow(ctx: Context, deps: RouteDeps, row: DeliveryRow, source: LogSource, outcome: Outcome): void {
  if (outcome.row === 'dispatched') return;
  const { answer } = outcome;
  row.status = answer ? answer.status : ctx.status;
  row.durationMs = Date.now() - row.createdAt.getTime();
  // Built only for a row that is written: past the budget of rejected rows a refusal costs no copy.
  const complete = () => {
    if (answer) row.answer = answerForLog(answer);
    completeRow(ctx, row, source, deps.logBodyBytes);
  };
  if (outcome.row === 'rejected') {
    deps.recorder.recordRejected(row, complete);
  } else {
    complete();
    deps.recorder.record(row);
  }
}

/**
 * The stages in order; returns what the request came to (see `Outcome`). The stages up to the IP
 * allow-list wait for nothing and run here synchronously, so that the commonest refusals (unknown
 * key, IP not allowed) reach the caller's `catch` as a plain throw, not as a rejected promise that
 * Node tracks until it is handled.
 */
function handle(ctx: Context, deps: RouteDeps, row: DeliveryRow, source: LogSource): Outcome | Promise<Outcome> {
  const matched = matchWebhook(ctx, deps, row, source);
  const { entry, grant } = matched;
  const { config } = entry;
  const ip = resolveIp(ctx, entry, row);
  if (answerPreflight(ctx, config.cors, config.methods)) return { answer: null, row: 'rejected' };
  const handshakeOnly = checkMethod(config, row.method);
  applyCors(ctx, config.cors);
  if (!grant && ipListsOf(entry).allow?.(ip) === false) {
    throw refusal('IP_FORBIDDEN', 'Client IP is not allowed');
  }
  return handleAllowed(ctx, deps, row, source, matched, ip, handshakeOnly);
}

/** The stages from the rate limit on (see `handle`). */
async function handleAllowed(
  ctx: Context,
  deps: RouteDeps,
  row: DeliveryRow,
  source: LogSource,
  matched: ReturnType<typeof matchWebhook>,
  ip: string,
  handshakeOnly: boolean,
): Promise<Outcome> {
  const reservation = await checkAccess(ctx, deps, matched.entry, row.key, matched.grant);
  try {
    return await handleAdmitted(ctx, deps, row, source, matched, ip, handshakeOnly);
  } finally {
    // Stored by now (its execution holds the bytes), or refused: the room goes to the next.
    reservation?.release();
  }
}

/** The stages from reading the body on (see `handle`). */
async function handleAdmitted(
  ctx: Context,
  deps: RouteDeps,
  row: DeliveryRow,
  source: LogSource,
  { entry, params, query, grant }: ReturnType<typeof matchWebhook>,
  ip: string,
  handshakeOnly: boolean,
): Promise<Outcome> {
  const { config, workflow } = entry;
  const raw = await readRawBody(ctx.req, config.maxBodyBytes, deps.bodyTimeoutMs);
  source.raw = raw;
  const sender = checkSender(config.verification, senderRequest(ctx, row.method, query, raw), { handshakeOnly });
  if (sender.handshake) return handshakeAnswered(row, sender.handshake);

  const parsed = sender.decrypted
    ? { data: sender.decrypted.data, files: [] }
    : await parseBody(raw, ctx.req.headers, {
        maxBytes: config.maxBodyBytes,
        json: deps.jsonLimits,
        jsonPool: deps.jsonPool,
      });
  if (config.bodySchema) checkSchema(config.bodySchema, parsed.data);
  const headers = contextHeaders(ctx.req.headers, source.sensitiveHeaders);
  const method = row.method;
  if (config.filter && !matchesFilter(config.filter, { data: parsed.data, headers, query, params, method, ip })) {
    return filtered(row);
  }
  row.idempotencyKey = idempotencyKeyFor(ctx, entry);
  completeRow(ctx, row, source, deps.logBodyBytes);
  // Accepted so far: only now do uploads reach the disk, and they leave it again unless the
  // delivery starts an execution (a repeated idempotency key, a refusal by the engine).
  const files = await deps.uploads.store(workflow.key, row.id, parsed.files);
  const statusUrl = statusUrlFor(ctx, deps, entry, row);
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
    answer = await dispatchDelivery(deps, {
      entry,
      context,
      row,
      statusUrl,
      acknowledge: sender.acknowledge,
      force: grant !== null,
    });
    return { answer, row: 'dispatched' };
  } finally {
    if (files.length && row.executionId === null && answer?.status !== 504) {
      await deps.uploads.removeDir(workflow.key, row.id);
    }
  }
}

/** Key and sub-path: the webhook this request is for, its path parameters and query. */
function matchWebhook(ctx: Context, deps: RouteDeps, row: DeliveryRow, source: LogSource) {
  const rest = ctx.path.slice(deps.base.length);
  const slash = rest.indexOf('/');
  row.key = (slash === -1 ? rest : rest.slice(0, slash)).slice(0, 128);
  const subPath = slash === -1 ? '' : rest.slice(slash);

  // A test request from the admin UI runs the version it names, enabled or not.
  const grant = testGrantOf(ctx.req) ?? null;
  if (grant) row.test = true;
  const entry = grant ?? deps.index.get(row.key);
  if (!entry) throw refusal('NOT_FOUND', 'No enabled webhook workflow has this key');
  const { config, workflow } = entry;
  row.workflowId = workflow.id;
  row.workflowKey = workflow.key;
  source.sensitiveHeaders = credentialHeaders(config.verification);
  row.path = redactQuery(row.path, credentialQuery(config.verification));

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
  return { entry, params, query, grant };
}

/** The client IP as `trustedProxies` decide it. */
function resolveIp(ctx: Context, entry: IndexEntry, row: DeliveryRow): string {
  const lists = ipListsOf(entry);
  row.ip = resolveClientIp(ctx.req.socket.remoteAddress, ctx.req.headers['x-forwarded-for'], lists.trusted);
  return row.ip;
}

/**
 * 405 unless the webhook allows the method. A method that only the sender's handshake uses
 * (WeCom's and Meta's GET) passes, for the handshake alone: returns true then.
 */
function checkMethod(config: IndexEntry['config'], method: string): boolean {
  if ((config.methods as string[]).includes(method)) return false;
  if (handshakeMethods(config.verification).includes(method)) return true;
  throw new WebhookError('METHOD_NOT_ALLOWED', `Method ${method} is not allowed`, {
    headers: { Allow: config.methods.join(', ') },
  });
}

/**
 * Rate limit, and whether the app takes requests now (the IP allow-list came first, in `handle`).
 * A test request comes from the server itself (`grant`): no allow-list or rate limit applies to it.
 */
async function checkAccess(
  ctx: Context,
  deps: RouteDeps,
  entry: IndexEntry,
  key: string,
  grant: IndexEntry | null,
): Promise<Reservation | null> {
  const { config } = entry;
  if (!grant && config.rateLimit) await checkRateLimit(deps.counter(), key, config.rateLimit);
  if (!deps.accepting()) throw notReady();
  if (grant || entry.workflow.sync) return null;
  // An async delivery waits for the engine: not more of them than the backlog cap. Past it, it
  // waits with its body unread for room, then is refused before its body is parsed (Node
  // discards the unread body, so the sender reads its 429).
  const reservation = await deps.backlog.admit(declaredLength(ctx));
  if (reservation) return reservation;
  if (!deps.accepting()) throw notReady();
  throw new WebhookError('RATE_LIMITED', 'Too many deliveries are waiting to run; retry later', {
    headers: { 'Retry-After': String(BACKLOG_RETRY_AFTER_SECONDS) },
  });
}

function notReady(): WebhookError {
  return new WebhookError('UNAVAILABLE', 'The application is not ready; retry later');
}

/** `Content-Length`, or 0 when the body is chunked or absent. */
function declaredLength(ctx: Context): number {
  const length = Number(ctx.req.headers['content-length']);
  return Number.isSafeInteger(length) && length > 0 ? length : 0;
}

/** What the verification scheme reads of the request. */
function senderRequest(ctx: Context, method: string, query: SenderRequest['query'], raw: Buffer): SenderRequest {
  return {
    method,
    headers: ctx.req.headers,
    query,
    querystring: ctx.querystring,
    url: ctx.href,
    raw,
    nowSeconds: Math.floor(Date.now() / 1000),
  };
}

/**
 * A sender's handshake that the plugin answered itself: logged as such (`handshake: true`, no
 * error, no execution). Its rows share the per-second budget of rejected requests, since an
 * unsigned handshake (a Graph validation) costs a caller nothing to repeat.
 */
function handshakeAnswered(row: DeliveryRow, answer: HttpAnswer): Outcome {
  row.handshake = true;
  return { answer, row: 'rejected' };
}

/** The idempotency key of the request, when the webhook names its header. */
function idempotencyKeyFor(ctx: Context, entry: IndexEntry): string | null {
  const header = entry.config.idempotencyHeader;
  const value = header ? ctx.get(header) : '';
  return value ? idempotencyKeyOf(entry.workflow.key, value) : null;
}

/** The logged path with the values of credential query parameters replaced by `[redacted]`. */
function redactQuery(path: string, names: string[]): string {
  const at = path.indexOf('?');
  if (at < 0 || names.length === 0) return path;
  const query = path
    .slice(at + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      let decoded = name;
      try {
        decoded = decodeURIComponent(name.replace(/\+/g, ' '));
      } catch {}
      return eq >= 0 && names.includes(decoded) ? `${name}=${encodeURIComponent(REDACTED)}` : pair;
    })
    .join('&');
  return `${path.slice(0, at)}?${query}`;
}

/** A request that passed every check but not the trigger's filter: logged FILTERED, nothing starts. */
function filtered(row: DeliveryRow): Outcome {
  row.errorCode = 'FILTERED';
  row.errorMessage = "The request did not pass the trigger's filter; no execution was started";
  return { answer: { status: 200, body: { deliveryId: row.id, filtered: true } }, row: 'kept' };
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

/** A 202 (async, or a sync run past its timeout with onTimeout "accept") points at a status URL. */
function statusUrlFor(ctx: Context, deps: RouteDeps, entry: IndexEntry, row: DeliveryRow): string | undefined {
  if (entry.workflow.sync && entry.config.onTimeout !== 'accept') return undefined;
  const { token, hash } = newStatusToken();
  row.statusTokenHash = hash;
  return `${ctx.protocol}://${ctx.host}${deps.base}${STATUS_SEGMENT}/${token}`;
}

/** `$context.headers`: the request's headers, with the credential the plugin checked redacted. */
function contextHeaders(headers: Context['req']['headers'], credentials: string[]): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...headers };
  for (const name of credentials) if (copy[name] !== undefined) copy[name] = REDACTED;
  return copy;
}
