import type { Context, Next } from 'koa';
import { DELIVERIES, TRIGGER_TYPE } from '../../common/constants';

import { REDACTED, redactHeaders } from '../deliveries/redact';

/** What a workflow keeps of one request, for the variable picker: `config.sample`. */
export interface WebhookSample {
  data: unknown;
  headers: Record<string, string>;
  query: Record<string, unknown>;
  params: Record<string, unknown>;
  method?: string;
  deliveryId: string;
  capturedAt: string;
}

const MAX_DEPTH = 6;
const MAX_KEYS = 50;
const MAX_ITEMS = 3;
const MAX_STRING = 200;
/** Keys whose values are credentials wherever they appear in a body. */
const SECRET_KEY = /pass(word)?|secret|token|api[-_]?key|authorization|credential|private[-_]?key|signature/i;

/** A small copy for the variable picker: a few levels, keys and items, short strings, credentials redacted. */
export function trimSample(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value;
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return Array.isArray(value) ? [] : {};
  if (Array.isArray(value)) return value.slice(0, MAX_ITEMS).map((item) => trimSample(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value as Record<string, unknown>).slice(0, MAX_KEYS)) {
    out[key] =
      SECRET_KEY.test(key) && item !== null && typeof item !== 'object' ? REDACTED : trimSample(item, depth + 1);
  }
  return out;
}

function parseStoredBody(body: unknown, headers: Record<string, string>): unknown {
  if (typeof body !== 'string' || body === '') return null;
  const type = headers['content-type'] ?? '';
  if (/json/i.test(type)) {
    try {
      return JSON.parse(body);
    } catch {
      return body;
    }
  }
  if (/x-www-form-urlencoded/i.test(type)) return Object.fromEntries(new URLSearchParams(body));
  return body;
}

/**
 * `POST /api/webhookDeliveries:sample?filterByTk=<delivery id>&workflowId=<version id>`: keeps that
 * delivery's request as the version's sample (`config.sample`): the context its execution got
 * (or the logged body and query when it started none), trimmed, with credentials redacted. The
 * variable picker then offers its real fields. A sample changes nothing the route does, so it is
 * stored on executed (read-only) versions too.
 */
export function createSampleAction() {
  return async function sample(ctx: Context & { action: any; db: any }, next: Next) {
    const { filterByTk, workflowId } = ctx.action.params ?? {};
    const delivery = await ctx.db.getRepository(DELIVERIES).findOne({ filterByTk });
    if (!delivery) ctx.throw(404, `Delivery ${filterByTk} not found`);
    if (!workflowId || !/^\d+$/.test(String(workflowId))) ctx.throw(400, 'workflowId must name a workflow version');
    const workflow = await ctx.db.getRepository('workflows').findOne({ filterByTk: String(workflowId) });
    if (!workflow || workflow.get('type') !== TRIGGER_TYPE) ctx.throw(404, `Webhook workflow ${workflowId} not found`);
    if (String(workflow.get('key')) !== String(delivery.get('workflowKey'))) {
      ctx.throw(409, 'This delivery belongs to another workflow');
    }
    const headers = (delivery.get('headers') ?? {}) as Record<string, string>;
    let context: Record<string, unknown> | null = null;
    if (delivery.get('executionId')) {
      const execution = await ctx.db.getRepository('executions').findOne({ filterByTk: delivery.get('executionId') });
      context = (execution?.get('context') as Record<string, unknown>) ?? null;
    }
    const path = String(delivery.get('path') ?? '');
    const query =
      context?.query ??
      Object.fromEntries(new URLSearchParams(path.includes('?') ? path.slice(path.indexOf('?') + 1) : ''));
    const value: WebhookSample = {
      data: trimSample(context ? context.data : parseStoredBody(delivery.get('body'), headers)),
      headers: redactHeaders((context?.headers ?? headers) as Record<string, string>),
      query: trimSample(query) as Record<string, unknown>,
      params: trimSample(context?.params ?? {}) as Record<string, unknown>,
      method: String(delivery.get('method') ?? ''),
      deliveryId: String(delivery.get('id')),
      capturedAt: new Date().toISOString(),
    };
    const config = { ...(workflow.get('config') as Record<string, unknown>), sample: value };
    // Not through the workflow's save hooks: nothing the route serves changes, and executed
    // (read-only) versions keep their sample too.
    await ctx.db.getModel('workflows').update({ config }, { where: { id: workflow.get('id') }, hooks: false });
    ctx.body = value;
    await next();
  };
}
