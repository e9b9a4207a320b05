import type { IncomingMessage } from 'node:http';
import { ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { Readable } from 'node:stream';
import type { Context, Next } from 'koa';
import type { Problem } from '../../common/checks';
import { MESSAGES } from '../../common/messages';
import { translate } from '../messages';
import { grantTest } from '../test-grant';
import type { VerificationConfig } from '../verify';
import { CannotSign, handshakeTrial, signRequest } from '../verify/sign';
import type { Signed } from '../verify/types';
import { VersionProblem, versionEntry } from './version';

export interface TestRequestDeps {
  /** The webhook route (createWebhookRoute): the test request walks it like any request. */
  route: (ctx: Context, next: Next) => Promise<void>;
  /** e.g. `/api/webhooks/` */
  base: string;
  openSecrets: (verification: VerificationConfig) => VerificationConfig;
  /** Resolves once the delivery log has written what it holds: the answer names a readable row. */
  logged: () => Promise<void>;
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']);
const MAX_TEST_BODY = 5 * 1024 * 1024;

/** A request made in memory: the route reads its headers, URL, socket address and body stream. */
function memoryRequest(method: string, url: string, headers: Record<string, string>, raw: Buffer, ip: string) {
  const socket = new Socket();
  Object.defineProperty(socket, 'remoteAddress', { value: ip });
  const req = new Readable({ read() {} }) as unknown as IncomingMessage & Readable;
  Object.assign(req, {
    method,
    url,
    headers,
    rawHeaders: Object.entries(headers).flat(),
    httpVersion: '1.1',
    httpVersionMajor: 1,
    httpVersionMinor: 1,
    socket,
    connection: socket,
    complete: true,
    aborted: false,
  });
  if (raw.length) req.push(raw);
  req.push(null);
  return req;
}

/**
 * `POST /api/webhookDeliveries:test?workflowId=<version id>` with values
 * `{ method, path, query, headers, body }` (body: the exact text to send): sends a test request to
 * that version of the webhook, enabled or not. The server signs it with the stored secret for the
 * version's verification scheme, and it walks the whole route: body limit, verification, parsing,
 * schema, filter, idempotency and dispatch (the IP allow-list and rate limit are not applied).
 * Its delivery row is marked `test`. Answers `{ status, headers, body, deliveryId }`.
 */
export function createTestAction(deps: TestRequestDeps) {
  return async function test(ctx: Context & { action: any; db: any }, next: Next) {
    const params = ctx.action.params ?? {};
    const values = (params.values ?? {}) as Record<string, unknown>;
    let entry: Awaited<ReturnType<typeof versionEntry>>;
    try {
      entry = await versionEntry(ctx.db, params.workflowId ?? values.workflowId, deps.openSecrets);
    } catch (error) {
      if (error instanceof VersionProblem) ctx.throw(error.status, error.message);
      throw error;
    }
    const { config } = entry;
    const { verification } = config;
    /** A refusal the admin reads in their language, with a code the UI and tests can rely on. */
    const refuse = (code: string, problem: Problem): never =>
      ctx.throw(400, translate(ctx, problem), { code }) as never;
    // `handshake: true`: the request the sender sends for its handshake, in place of the typed one.
    const trial = values.handshake === true ? handshakeTrial(verification) : null;
    if (values.handshake === true && !trial) refuse('TEST_NO_HANDSHAKE', MESSAGES.testNoHandshake(verification.type));
    const method = String(trial?.method ?? values.method ?? config.methods[0] ?? 'POST').toUpperCase();
    if (!METHODS.has(method)) ctx.throw(400, `Method ${method} is not one of ${[...METHODS].join(', ')}`);
    const text = trial ? (trial.body ?? '') : values.body === undefined || values.body === null ? '' : values.body;
    // A GET or HEAD sends no body: nothing else is signed.
    let raw: Buffer =
      method === 'GET' || method === 'HEAD'
        ? Buffer.alloc(0)
        : Buffer.from(typeof text === 'string' ? text : JSON.stringify(text), 'utf8');
    if (raw.length > MAX_TEST_BODY) ctx.throw(413, `A test body is limited to ${MAX_TEST_BODY} bytes`);
    const subPath =
      typeof values.path === 'string' && values.path.trim() ? `/${values.path.trim().replace(/^\/+/, '')}` : '';
    const given = typeof values.query === 'string' ? values.query.replace(/^\?/, '') : '';
    const query = [given, new URLSearchParams(trial?.query ?? {}).toString()].filter(Boolean).join('&');

    const headers: Record<string, string> = {};
    const typed =
      values.headers && typeof values.headers === 'object' ? (values.headers as Record<string, unknown>) : {};
    for (const [name, value] of Object.entries({ ...typed, ...(trial?.headers ?? {}) })) {
      if (typeof value === 'string' && /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) headers[name.toLowerCase()] = value;
    }
    if (raw.length && !headers['content-type']) headers['content-type'] = 'application/json';
    headers.host = ctx.get('host') || 'localhost';
    headers['user-agent'] ??= 'NocoBase-Webhook-Test';
    const path = `${deps.base}${encodeURIComponent(config.key)}${subPath}`;
    // The URL as the route will see it (its protocol and host), for schemes that sign it.
    const probe = memoryRequest(method, `${path}${query ? `?${query}` : ''}`, headers, Buffer.alloc(0), '127.0.0.1');
    const href = ((ctx.app as any).createContext(probe, new ServerResponse(probe)) as Context).href;
    let signed: Signed;
    try {
      signed = signRequest(verification, raw, Math.floor(Date.now() / 1000), {
        method,
        headers: { ...headers },
        querystring: query,
        url: href,
      });
    } catch (error) {
      if (error instanceof CannotSign) return refuse('TEST_CANNOT_BE_SIGNED', error.problem);
      throw error;
    }
    // Signed last: the signature headers are the scheme's, whatever the admin typed.
    Object.assign(headers, signed.headers);
    if (signed.body) raw = signed.body;
    if (method !== 'GET' && method !== 'HEAD') headers['content-length'] = String(raw.length);
    delete headers['content-encoding'];
    const added = new URLSearchParams(signed.query ?? {}).toString();
    const fullQuery = [query, added].filter(Boolean).join('&');

    const url = `${path}${fullQuery ? `?${fullQuery}` : ''}`;
    const req = memoryRequest(method, url, headers, raw, ctx.request.ip || '127.0.0.1');
    grantTest(req, entry);
    const res = new ServerResponse(req);
    const inner = (ctx.app as any).createContext(req, res) as Context;
    await deps.route(inner, async () => {
      inner.status = 404;
    });
    await deps.logged();
    const answerHeaders: Record<string, string> = {};
    for (const [name, value] of Object.entries(inner.response.headers)) {
      if (value !== undefined) answerHeaders[name] = Array.isArray(value) ? value.join(', ') : String(value);
    }
    let body: unknown = inner.body ?? null;
    if (Buffer.isBuffer(body)) body = body.toString('utf8');
    ctx.body = {
      status: inner.status,
      headers: answerHeaders,
      body,
      deliveryId: inner.state.webhookDeliveryId ?? null,
    };
    await next();
  };
}
