import type { Database } from '@nocobase/database';
import type PluginWorkflowServer from '@nocobase/plugin-workflow';
import { EXECUTION_STATUS, type WorkflowModel } from '@nocobase/plugin-workflow';
import { DELIVERIES } from '../../common/constants';
import { bulkInsert } from '../bulk-insert';
import type { DeliveryRow } from '../deliveries/collection';
import { RUNNER_FIELD } from '../recovery/collection';

export interface InboxItem {
  workflow: WorkflowModel;
  context: object;
  /** Unique among executions: the delivery id, or the idempotency key when one is set. */
  eventKey: string;
  /** The delivery-log row, committed in the same transaction as the execution. */
  delivery: DeliveryRow;
}

/** `stored`: committed now. `duplicate`: an execution with this eventKey already exists. */
export type InboxResult = 'stored' | 'duplicate';

interface Pending extends InboxItem {
  resolve: (result: InboxResult) => void;
  reject: (error: unknown) => void;
}

/** Most deliveries committed in one transaction. */
const MAX_BATCH = 256;

const isUniqueViolation = (error: unknown) => (error as { name?: string })?.name === 'SequelizeUniqueConstraintError';

/**
 * The durable inbox of async webhooks. A delivery becomes a queueing execution row of the
 * workflow engine plus its delivery-log row, committed before the 202 is sent; deliveries
 * that arrive together share one transaction (group commit). After the commit the engine's
 * queue is told to run them; if the process dies first, the engine's own recovery finds the
 * queueing rows on the next start. `eventKey` is unique, so a delivery never becomes two
 * executions, in one process or several.
 */
export class AsyncInbox {
  private queue: Pending[] = [];
  private flushing: Promise<void> | null = null;
  /** Committed batches still being handed to the engine. */
  private readonly handing = new Set<Promise<void>>();

  constructor(
    private readonly db: Database,
    private readonly engine: PluginWorkflowServer,
    /** Execution ids: the app's snowflake generator, as the executions collection uses. */
    private readonly nextId: () => bigint | number | string,
    /** This process's runner id, stored with each queued execution (see recovery/recovery.ts). */
    private readonly runnerId: string,
  ) {}

  accept(item: InboxItem): Promise<InboxResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ ...item, resolve, reject });
      if (!this.flushing) this.flushing = this.drain();
    });
  }

  /** Resolves once everything accepted so far is committed and handed to the engine. */
  async idle(): Promise<void> {
    while (this.flushing || this.handing.size) {
      if (this.flushing) await this.flushing;
      await Promise.all(this.handing);
    }
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length) {
        const batch = this.queue.splice(0, MAX_BATCH);
        await this.commit(batch);
      }
    } finally {
      this.flushing = null;
    }
  }

  private async insert(batch: Pending[]): Promise<Array<{ id: string }>> {
    const now = new Date();
    const rows = batch.map((p) => ({
      id: String(this.nextId()),
      createdAt: now,
      updatedAt: now,
      workflowId: p.workflow.id,
      key: p.workflow.key,
      eventKey: p.eventKey,
      context: p.context,
      stack: [],
      parentExecutionId: null,
      dispatched: false,
      status: EXECUTION_STATUS.QUEUEING,
      [RUNNER_FIELD]: this.runnerId,
    }));
    for (const [i, p] of batch.entries()) p.delivery.executionId = rows[i].id;
    await this.db.sequelize.transaction(async (transaction) => {
      await bulkInsert(this.db, 'executions', rows, transaction);
      await bulkInsert(
        this.db,
        DELIVERIES,
        batch.map((p) => p.delivery as unknown as Record<string, unknown>),
        transaction,
      );
    });
    return rows;
  }

  private async commit(batch: Pending[]): Promise<void> {
    let rows: Array<{ id: string | number }>;
    try {
      rows = await this.insert(batch);
    } catch (error) {
      if (batch.length > 1 && isUniqueViolation(error)) {
        // One repeated eventKey must not fail the others: commit them one by one.
        for (const p of batch) await this.commit([p]);
        return;
      }
      for (const p of batch) {
        if (isUniqueViolation(error)) p.resolve('duplicate');
        else p.reject(error);
      }
      return;
    }
    for (const p of batch) p.resolve('stored');
    // Not awaited: the next batch's commit need not wait for the engine's queue and counters.
    const after = this.afterCommit(batch, rows).finally(() => this.handing.delete(after));
    this.handing.add(after);
  }

  /** Hands the committed executions to the engine's queue and counts them in its stats. */
  private async afterCommit(batch: Pending[], rows: Array<{ id: string | number }>): Promise<void> {
    for (const row of rows) {
      try {
        await this.engine.start(row.id);
      } catch (error) {
        // The row is committed: the engine's recovery will still find and run it.
        this.engine
          .getLogger('dispatcher')
          .warn(`webhook execution ${row.id} not queued yet: ${(error as Error).message}`);
      }
    }
    const perWorkflow = new Map<string | number, { workflow: WorkflowModel; count: number }>();
    for (const p of batch) {
      const entry = perWorkflow.get(p.workflow.id) ?? { workflow: p.workflow, count: 0 };
      entry.count++;
      perWorkflow.set(p.workflow.id, entry);
    }
    for (const { workflow, count } of perWorkflow.values()) {
      try {
        await this.db.getModel('workflowStats').increment('executed', { by: count, where: { key: workflow.key } });
        await this.db.getModel('workflowVersionStats').increment('executed', { by: count, where: { id: workflow.id } });
      } catch (error) {
        this.engine.getLogger(workflow.id).warn(`webhook stats not counted: ${(error as Error).message}`);
      }
    }
  }
}
