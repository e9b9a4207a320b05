import type { Context, Next } from 'koa';
import { DELIVERIES, type DeliveryRow, newDeliveryRow } from '../deliveries/collection';
import type { DispatchDeps } from '../dispatch/dispatch';
import { dispatchDelivery } from '../dispatch/dispatch';
import type { IndexEntry, KeyIndex } from '../key-index';
import type { VerificationConfig } from '../verify';
import { VersionProblem, versionEntry } from './version';

/**
 * `POST /api/webhookDeliveries:replay?filterByTk=<id>`: runs a stored, accepted delivery again,
 * with the context its execution received, through the workflow now serving its key.
 * With `workflowId=<version id>` (a version of the same workflow, enabled or not, e.g. the draft
 * being edited) the context runs through that version instead.
 * Answers `{ deliveryId, status, body }` of the new delivery. The request is not verified again:
 * it passed the verification in force when it arrived (its credentials are not stored, and a
 * signature's timestamp would be out of tolerance by now).
 */
export function createReplayAction(
  deps: DispatchDeps & { index: KeyIndex; openSecrets: (verification: VerificationConfig) => VerificationConfig },
) {
  return async function replay(ctx: Context & { action: any; db: any }, next: Next) {
    const id = ctx.action.params.filterByTk;
    const original = await ctx.db.getRepository(DELIVERIES).findOne({ filterByTk: id });
    if (!original) ctx.throw(404, `Delivery ${id} not found`);
    if (!original.get('executionId')) {
      ctx.throw(400, 'Only accepted deliveries (those that started an execution) can be replayed');
    }
    const execution = await ctx.db.getRepository('executions').findOne({ filterByTk: original.get('executionId') });
    if (!execution) ctx.throw(410, 'The execution of this delivery no longer exists; it cannot be replayed');
    // The delivery and its execution belong to one workflow: a row that says otherwise was not
    // written by this plugin, and another workflow's context is not handed to this one.
    if (String(execution.get('key')) !== String(original.get('workflowKey'))) {
      ctx.throw(409, 'This delivery and its execution belong to different workflows; it cannot be replayed');
    }
    const versionId = ctx.action.params.workflowId;
    let entry: IndexEntry | undefined;
    if (versionId !== undefined && versionId !== null && versionId !== '') {
      try {
        entry = await versionEntry(ctx.db, versionId, deps.openSecrets);
      } catch (error) {
        if (error instanceof VersionProblem) ctx.throw(error.status, error.message);
        throw error;
      }
      if (String(entry.workflow.key) !== String(original.get('workflowKey'))) {
        ctx.throw(409, 'That version belongs to another workflow than this delivery');
      }
    } else {
      entry = deps.index.get(original.get('key'));
      if (!entry) ctx.throw(409, `No enabled webhook workflow has the key "${original.get('key')}"`);
    }
    if (!entry) return;

    // The request as it arrived (as logged), under a new id and the version that runs it now.
    const logged = original.toJSON() as DeliveryRow;
    const row = newDeliveryRow({
      key: logged.key,
      method: logged.method,
      path: logged.path,
      ip: logged.ip,
      headers: logged.headers,
      body: logged.body,
      bodyEncoding: logged.bodyEncoding,
      bodyTruncated: logged.bodyTruncated,
      bodyBytes: logged.bodyBytes,
      workflowId: entry.workflow.id,
      workflowKey: entry.workflow.key,
      replayOf: String(logged.id),
    });
    const context = { ...(execution.get('context') as Record<string, unknown>), deliveryId: row.id };
    const answer = await dispatchDelivery(deps, { entry, context, row, force: !!versionId });
    // The admin UI opens the replay's row by the id answered here: it must be committed by then
    // (sync rows are written in batches after the answer; the get found nothing half the time).
    await deps.recorder.idle();
    ctx.body = { deliveryId: row.id, status: answer.status, body: answer.body ?? null };
    await next();
  };
}
