import type PluginWorkflowServer from '@nocobase/plugin-workflow';
import { errorAnswer, type HttpAnswer, WebhookError } from '../answer';
import type { DeliveryRow } from '../deliveries/collection';
import type { DeliveryRecorder } from '../deliveries/recorder';
import { answerForLog } from '../deliveries/redact';
import type { IndexEntry } from '../key-index';
import type { AsyncInbox } from './async-inbox';
import type { Backlog } from './backlog';
import type { Idempotency } from './idempotency';
import type { Lane } from './lane';
import { ExecutionNotCreated, runSync } from './sync';

export interface DispatchDeps {
  engine: PluginWorkflowServer;
  lane: Lane;
  inbox: AsyncInbox;
  /** Bytes of queued async deliveries whose executions have not ended (refused above its cap). */
  backlog: Backlog;
  recorder: DeliveryRecorder;
  idempotency: Idempotency;
  /** The stored first answer for an idempotency key, if its delivery is logged. */
  lookupAnswer: (idempotencyKey: string) => Promise<HttpAnswer | null>;
}

export interface Delivery {
  entry: IndexEntry;
  context: Record<string, unknown>;
  row: DeliveryRow;
  /** Where the caller of a 202 asks how its delivery went (its token's hash is in the row). */
  statusUrl?: string;
  /** The answer the sender expects in async mode (WeCom's empty 200, DingTalk's encrypted success). */
  acknowledge?: () => HttpAnswer;
  /** Run this version even when it is not enabled (a test request, a replay against a draft). */
  force?: boolean;
}

/** A 202 points at its status URL: in the default receipt, and in `Location` whatever the body. */
function withStatusUrl(answer: HttpAnswer, statusUrl: string | undefined): HttpAnswer {
  if (!statusUrl || answer.status !== 202) return answer;
  return { ...answer, headers: { ...answer.headers, Location: statusUrl } };
}

/** Answers that a repeat with the same idempotency key gets again (not "retry later"). */
const isFinal = (answer: HttpAnswer) => answer.status !== 503;

/** How long past its timeout a sync delivery without an answer counts as cut off. */
const CUT_OFF_GRACE_MS = 30_000;
/** A sync run still going after this long gets its log row written before its answer. */
const EARLY_ROW_AFTER_MS = 250;

/**
 * Runs an accepted delivery: sync (run and answer) or async (store, then 202), once per
 * idempotency key when the webhook has one. Writes the delivery-log row: for async in the same
 * transaction as the execution, for sync once the answer is known.
 */
export async function dispatchDelivery(deps: DispatchDeps, delivery: Delivery): Promise<HttpAnswer> {
  const key = delivery.row.idempotencyKey;
  if (!key) return dispatchOnce(deps, delivery);
  const { answer, repeated } = await deps.idempotency.once(
    key,
    () => dispatchOnce(deps, delivery),
    () => deps.recorder.idle(),
  );
  if (repeated) {
    delivery.row.status = answer.status;
    delivery.row.errorMessage = 'Repeated idempotency key: the first answer was sent again';
    delivery.row.repeated = true;
    delivery.row.answer = answerForLog(answer);
    delivery.row.response = null;
    deps.recorder.record(delivery.row);
  }
  return answer;
}

async function dispatchOnce(
  deps: DispatchDeps,
  { entry, context, row, statusUrl, acknowledge, force }: Delivery,
): Promise<HttpAnswer> {
  const { workflow, config } = entry;
  const eventKey = row.idempotencyKey ? `webhook:${row.idempotencyKey}` : row.id;
  const started = row.createdAt.getTime();

  if (!workflow.sync) {
    const configured = config.response;
    const receipt = statusUrl ? { deliveryId: row.id, statusUrl } : { deliveryId: row.id };
    // The sender's own acknowledgement where it expects one, else the configured answer or a receipt.
    const answer: HttpAnswer = withStatusUrl(
      configured
        ? { status: configured.status ?? 202, headers: configured.headers, body: configured.body ?? receipt }
        : (acknowledge?.() ?? { status: 202, body: receipt }),
      statusUrl,
    );
    row.status = answer.status;
    row.response = row.idempotencyKey ? answer : null;
    row.answer = answerForLog(answer);
    row.durationMs = Date.now() - started;
    const result = await deps.inbox.accept({ workflow, context, eventKey, delivery: row });
    if (result === 'duplicate') {
      // Another process stored this idempotency key first: its answer is committed with it.
      const stored = row.idempotencyKey ? await deps.lookupAnswer(row.idempotencyKey) : null;
      row.executionId = null;
      if (!stored) throw new WebhookError('UNAVAILABLE', 'This delivery is already being stored; retry later');
      row.status = stored.status;
      row.response = null;
      row.answer = answerForLog(stored);
      deps.recorder.record(row);
      return stored;
    }
    if (row.executionId !== null) deps.backlog.hold(row.executionId, row.bodyBytes);
    return answer;
  }

  // The row is written once, with its answer, when the run ends soon (the common case: one
  // write per delivery). A longer run gets it written while it runs, so that a process that dies
  // mid-run leaves the row (later marked CUT_OFF), and completed when the answer is known.
  row.expectedBy = new Date(started + config.timeoutMs + CUT_OFF_GRACE_MS);
  let written = false;
  const early = setTimeout(() => {
    written = true;
    deps.recorder.record({ ...row });
  }, EARLY_ROW_AFTER_MS);
  const finish = (values: Partial<DeliveryRow>) => {
    Object.assign(row, values);
    if (written) deps.recorder.update(row.id, values);
  };
  let answer: HttpAnswer;
  const failure: Partial<DeliveryRow> = {};
  try {
    const result = await runSync(deps.engine, deps.lane, {
      workflow,
      context,
      eventKey,
      force,
      timeoutMs: config.timeoutMs,
      fallback: config.response,
      onExecution: (executionId) => {
        if (row.executionId !== null) return;
        row.executionId = executionId;
        // The row is already complete when the run outlived the timeout: add the execution.
        if (row.status !== null) finish({ executionId });
      },
      // What a run that went on after its answer (timeout, `continue`) built: for the status URL.
      onLateAnswer: (late) => {
        if (late) finish({ runResponse: late });
      },
    });
    answer = result.answer;
    if (row.executionId === null && result.executionId) row.executionId = result.executionId;
  } catch (error) {
    if (error instanceof WebhookError && error.code === 'TIMEOUT' && config.onTimeout === 'accept') {
      // The caller learns where to ask instead of a 504; the run goes on.
      answer = withStatusUrl(
        { status: 202, body: { deliveryId: row.id, executionId: row.executionId, statusUrl: statusUrl ?? null } },
        statusUrl,
      );
    } else if (error instanceof ExecutionNotCreated && row.idempotencyKey) {
      answer = await waitForStoredAnswer(deps, row.idempotencyKey, config.timeoutMs);
    } else if (error instanceof WebhookError || error instanceof ExecutionNotCreated) {
      const known =
        error instanceof WebhookError
          ? error
          : new WebhookError('UNAVAILABLE', 'The workflow engine could not start the execution; retry later');
      answer = errorAnswer(known);
      failure.errorCode = known.code;
      failure.errorMessage = known.message;
    } else {
      // Unexpected: answered "retry later", logged, and recorded like any other answer.
      deps.engine.getLogger(workflow.id).error(`webhook sync run failed: ${(error as Error)?.message}`, { error });
      answer = errorAnswer(new WebhookError('UNAVAILABLE', 'The webhook could not be processed now; retry later'));
      failure.errorCode = 'UNAVAILABLE';
      failure.errorMessage = String((error as Error)?.message);
    }
  }
  clearTimeout(early);
  finish({
    ...failure,
    status: answer.status,
    durationMs: Date.now() - started,
    executionId: row.executionId,
    response: row.idempotencyKey && isFinal(answer) ? answer : null,
    answer: answerForLog(answer),
  });
  if (!written) {
    written = true;
    deps.recorder.record(row);
  }
  // A 202's status URL must answer as soon as the caller has it: its row is committed first.
  if (answer.status === 202 && row.statusTokenHash) await deps.recorder.idle();
  return answer;
}

/** A sync delivery with this idempotency key runs in another process: wait for its answer. */
async function waitForStoredAnswer(deps: DispatchDeps, key: string, timeoutMs: number): Promise<HttpAnswer> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const stored = await deps.lookupAnswer(key);
    if (stored) return stored;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new WebhookError('TIMEOUT', 'The first delivery with this idempotency key has not answered yet');
}
