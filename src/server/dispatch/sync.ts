import type PluginWorkflowServer from '@nocobase/plugin-workflow';
import { EXECUTION_STATUS, type Processor, type WorkflowModel } from '@nocobase/plugin-workflow';
import { type HttpAnswer, WebhookError } from '../answer';
import type { ResponseConfig } from '../config';
import type { Lane } from './lane';

/** What the Webhook response node leaves for the route; passed to the run as `options.webhook`. */
export interface ResponseHolder {
  response?: HttpAnswer;
  /** Called by the node when it answers (the run may go on: `continue`). */
  answered?: (answer: HttpAnswer, executionId: string) => void;
}

export interface SyncRun {
  workflow: WorkflowModel;
  context: object;
  eventKey: string;
  /** Run a version that is not enabled (test requests, replays against a draft). */
  force?: boolean;
  timeoutMs: number;
  fallback: ResponseConfig | null;
  /** Called with the execution id once the run has an execution, even after a timeout. */
  onExecution?: (executionId: string) => void;
  /** Called when a run that outlived its answer (timeout, `continue`) ends: the answer it built. */
  onLateAnswer?: (answer: HttpAnswer | null) => void;
}

export interface SyncResult {
  answer: HttpAnswer;
  executionId: string | null;
}

/** The engine refused to create the execution (e.g. its eventKey exists: a repeated delivery). */
export class ExecutionNotCreated extends Error {}

/**
 * Runs a sync workflow and builds the HTTP answer: the Webhook response node's answer, else the
 * Output node's value, else the configured response, else a receipt. A failed run is
 * WORKFLOW_FAILED; a run longer than the timeout is TIMEOUT while the execution goes on.
 */
export async function runSync(engine: PluginWorkflowServer, lane: Lane, run: SyncRun): Promise<SyncResult> {
  let early: (value: { answer: HttpAnswer; executionId: string }) => void = () => {};
  const answeredEarly = new Promise<{ answer: HttpAnswer; executionId: string }>((resolve) => {
    early = resolve;
  });
  const holder: ResponseHolder = { answered: (answer, executionId) => early({ answer, executionId }) };
  const started = lane.run(async () => {
    const result = await engine.trigger(run.workflow, run.context, {
      eventKey: run.eventKey,
      webhook: holder,
      ...(run.force ? { force: true } : {}),
    });
    const processor = (result ?? null) as Processor | null;
    if (processor?.execution) run.onExecution?.(String(processor.execution.id));
    return processor;
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), run.timeoutMs);
  });
  let outcome: Processor | null | 'timeout' | { answer: HttpAnswer; executionId: string };
  try {
    outcome = await Promise.race([started, timeout, answeredEarly]);
  } finally {
    clearTimeout(timer);
  }
  if (outcome === 'timeout' || (outcome && 'answer' in outcome)) {
    // The caller is answered now; the run goes on, and says what it built when it ends.
    started
      .then(
        (processor) => run.onLateAnswer?.(lateAnswer(processor, holder, run)),
        () => run.onLateAnswer?.(null),
      )
      .catch(() => undefined);
    if (outcome !== 'timeout') return outcome;
    throw new WebhookError('TIMEOUT', `Workflow did not finish within ${run.timeoutMs} ms; it goes on running`);
  }
  return answerOf(outcome, holder, run);
}

/** What a run that ended after its caller was answered built (a failure as its error answer). */
function lateAnswer(processor: Processor | null, holder: ResponseHolder, run: SyncRun): HttpAnswer | null {
  try {
    return answerOf(processor, holder, run).answer;
  } catch (error) {
    return error instanceof WebhookError ? { status: error.status, body: error.toBody(), json: true } : null;
  }
}

/** The answer of a finished run: the response node's, the Output node's value, the configured one, a receipt. */
function answerOf(processor: Processor | null, holder: ResponseHolder, run: SyncRun): SyncResult {
  const execution = processor?.execution;
  if (!execution) throw new ExecutionNotCreated('Workflow execution could not be created');
  const executionId = String(execution.id);
  if (holder.response) return { answer: holder.response, executionId };
  if (execution.status !== EXECUTION_STATUS.RESOLVED) {
    throw new WebhookError(
      'WORKFLOW_FAILED',
      `Workflow execution ${executionId} ended with status ${execution.status}`,
      {
        details: { executionId, status: execution.status },
      },
    );
  }
  const output = (execution as { output?: unknown }).output;
  if (output !== undefined && output !== null)
    return { answer: { status: 200, body: output, json: true }, executionId };
  const fallback = run.fallback;
  if (fallback) {
    return { answer: { status: fallback.status ?? 200, headers: fallback.headers, body: fallback.body }, executionId };
  }
  return { answer: { status: 200, body: { executionId, status: 'resolved' } }, executionId };
}
