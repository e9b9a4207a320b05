import type { Database } from '@nocobase/database';
import type PluginWorkflowServer from '@nocobase/plugin-workflow';
import { EXECUTION_STATUS, type WorkflowModel } from '@nocobase/plugin-workflow';

interface Pending {
  workflow: WorkflowModel;
  context: object;
  eventKey: string;
  resolve: (executionId: string) => void;
  reject: (error: unknown) => void;
}

/** Most deliveries committed in one transaction. */
const MAX_BATCH = 256;

/**
 * The durable inbox of async webhooks. A delivery becomes a queueing execution row of the
 * workflow engine, committed before the 202 is sent; deliveries that arrive together share one
 * transaction (group commit). After the commit the engine's queue is told to run them; if the
 * process dies first, the engine's own recovery finds the queueing rows on the next start.
 * `eventKey` (unique) is the delivery id, so a delivery can never become two executions.
 */
export class AsyncInbox {
  private queue: Pending[] = [];
  private flushing: Promise<void> | null = null;

  constructor(
    private readonly db: Database,
    private readonly engine: PluginWorkflowServer,
  ) {}

  accept(workflow: WorkflowModel, context: object, eventKey: string): Promise<string> {
    return new Promise((resolve, reject) => {
      this.queue.push({ workflow, context, eventKey, resolve, reject });
      if (!this.flushing) this.flushing = this.drain();
    });
  }

  /** Resolves once everything accepted so far is committed. */
  async idle(): Promise<void> {
    while (this.flushing) await this.flushing;
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

  private async commit(batch: Pending[]): Promise<void> {
    const Execution = this.db.getModel('executions');
    let rows: Array<{ id: string | number; workflowId: number | string }>;
    try {
      rows = (await this.db.sequelize.transaction(async (transaction) =>
        Execution.bulkCreate(
          batch.map((p) => ({
            workflowId: p.workflow.id,
            key: p.workflow.key,
            eventKey: p.eventKey,
            context: p.context,
            stack: [],
            parentExecutionId: null,
            dispatched: false,
            status: EXECUTION_STATUS.QUEUEING,
          })),
          { transaction },
        ),
      )) as unknown as Array<{ id: string | number; workflowId: number | string }>;
    } catch (error) {
      for (const p of batch) p.reject(error);
      return;
    }
    for (const [i, p] of batch.entries()) p.resolve(String(rows[i].id));
    await this.afterCommit(batch, rows);
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
