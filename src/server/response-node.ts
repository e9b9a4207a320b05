import { type FlowNodeModel, Instruction, JOB_STATUS, type Processor } from '@nocobase/plugin-workflow';
import { formatProblem, type Problem } from '../common/checks';
import { MESSAGES } from '../common/messages';
import type { ResponseHolder } from './dispatch/sync';

export interface ResponseNodeConfig {
  /** true: the answer goes out at once and the run goes on with the next node. */
  continue?: boolean;
  status?: number | string;
  headers?: Record<string, unknown> | Array<{ name: string; value: unknown }>;
  body?: unknown;
}

function toHeaders(input: ResponseNodeConfig['headers']): Record<string, string> {
  const headers: Record<string, string> = {};
  const pairs = Array.isArray(input) ? input.map((h) => [h?.name, h?.value] as const) : Object.entries(input ?? {});
  for (const [name, value] of pairs) {
    if (typeof name === 'string' && /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name) && value != null) {
      headers[name] = String(value).replace(/[\r\n]/g, ' ');
    }
  }
  return headers;
}

/** What is wrong with a Webhook response node's config (field -> problem), or null. */
export function responseNodeProblems(config: Record<string, unknown>): Record<string, Problem> | null {
  const status = config?.status;
  if (status === undefined || status === null || status === '') return null;
  if (typeof status === 'string' && status.includes('{{')) return null;
  const n = Number(status);
  return Number.isInteger(n) && n >= 100 && n <= 599 ? null : { status: MESSAGES.responseStatus() };
}

/**
 * The Webhook response node: status, headers and body (each may use workflow variables) become
 * the HTTP answer of a sync webhook. The run ends here, or with `continue` goes on with the next
 * node once the answer is sent. Only the first answer of a run is sent.
 */
export class WebhookResponseInstruction extends Instruction {
  override validateConfig(config: Record<string, unknown>): Record<string, string> | null {
    const problems = responseNodeProblems(config);
    return problems ? Object.fromEntries(Object.entries(problems).map(([f, p]) => [f, formatProblem(p)])) : null;
  }

  async run(node: FlowNodeModel, prevJob: { id?: unknown } | null, processor: Processor) {
    const config = processor.getParsedValue(node.config ?? {}, node.id) as ResponseNodeConfig;
    const status = Number(config.status ?? 200);
    const answer = {
      status: Number.isInteger(status) && status >= 100 && status <= 599 ? status : 500,
      headers: toHeaders(config.headers),
      body: config.body,
    };
    const holder = processor.options.webhook as ResponseHolder | undefined;
    if (holder && !holder.response) {
      holder.response = answer;
      holder.answered?.(answer, String(processor.execution.id));
    }
    const job = {
      status: JOB_STATUS.RESOLVED,
      result: answer,
      nodeId: node.id,
      nodeKey: node.key,
      upstreamId: prevJob?.id ?? null,
    };
    if (node.config?.continue === true) return job;
    processor.saveJob(job);
    return processor.exit(JOB_STATUS.RESOLVED);
  }
}
