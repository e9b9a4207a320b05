import type PluginWorkflowServer from '@nocobase/plugin-workflow';
import { EXECUTION_STATUS, type Processor, type WorkflowModel } from '@nocobase/plugin-workflow';
import type { ResponseConfig } from '../config';
import { WebhookError } from '../http/errors';
import type { Lane } from './lane';

/** What the Webhook response node leaves for the route; passed to the run as `options.webhook`. */
export interface ResponseHolder {
  response?: HttpAnswer;
}

export interface HttpAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Send the body as JSON even when it is a string (the Output node's value). */
  json?: boolean;
}

export interface SyncRun {
  workflow: WorkflowModel;
  context: object;
  deliveryId: string;
  timeoutMs: number;
  fallback: ResponseConfig | null;
}

/**
 * Runs a sync workflow and builds the HTTP answer: the Webhook response node's answer, else the
 * Output node's value, else the configured response, else a receipt. A failed run is
 * WORKFLOW_FAILED; a run longer than the timeout is TIMEOUT while the execution goes on.
 */
export async function runSync(engine: PluginWorkflowServer, lane: Lane, run: SyncRun): Promise<HttpAnswer> {
  const holder: ResponseHolder = {};
  const started = lane.run(async () => {
    const result = await engine.trigger(run.workflow, run.context, { eventKey: run.deliveryId, webhook: holder });
    return (result ?? null) as Processor | null;
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), run.timeoutMs);
  });
  let outcome: Processor | null | 'timeout';
  try {
    outcome = await Promise.race([started, timeout]);
  } finally {
    clearTimeout(timer);
  }
  if (outcome === 'timeout') {
    started.catch(() => undefined);
    throw new WebhookError('TIMEOUT', `Workflow did not finish within ${run.timeoutMs} ms; it goes on running`);
  }
  if (holder.response) return holder.response;
  const execution = outcome?.execution;
  if (!execution) {
    throw new WebhookError('WORKFLOW_FAILED', 'Workflow execution could not be started');
  }
  if (execution.status !== EXECUTION_STATUS.RESOLVED) {
    throw new WebhookError(
      'WORKFLOW_FAILED',
      `Workflow execution ${execution.id} ended with status ${execution.status}`,
      {
        details: { executionId: String(execution.id), status: execution.status },
      },
    );
  }
  const output = (execution as { output?: unknown }).output;
  if (output !== undefined && output !== null) return { status: 200, body: output, json: true };
  if (run.fallback)
    return { status: run.fallback.status ?? 200, headers: run.fallback.headers, body: run.fallback.body };
  return { status: 200, body: { executionId: String(execution.id), status: 'resolved' } };
}
