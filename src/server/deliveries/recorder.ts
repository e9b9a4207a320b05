import type { Database } from '@nocobase/database';
import { DELIVERIES, type DeliveryRow, newDeliveryRow } from './collection';

const MAX_BATCH = 500;

interface Queued {
  row: DeliveryRow;
  written?: { resolve: () => void; reject: (error: unknown) => void };
}

/**
 * Writes delivery-log rows in batches (one INSERT for all rows that arrive together, and the
 * updates that arrive together in one transaction), off the request's path. Async deliveries
 * are not written here: their row is committed with the queued execution (see AsyncInbox).
 */
export class DeliveryRecorder {
  private queue: Queued[] = [];
  private updates = new Map<string, Partial<DeliveryRow>>();
  private flushing: Promise<void> | null = null;
  private second = 0;
  private rejectedThisSecond = 0;
  private suppressed = 0;

  constructor(
    private readonly db: Database,
    private readonly onError: (error: unknown) => void,
    /** Rejected requests logged one by one per second; past it a flood is summed up in one row. */
    private readonly rejectedPerSecond = Number(process.env.WEBHOOK_LOG_REJECTED_PER_SECOND ?? 200),
  ) {}

  record(row: DeliveryRow): void {
    this.queue.push({ row });
    if (!this.flushing) this.flushing = this.drain();
  }

  /** Writes the row and resolves once it is committed (batched with the others). */
  recordNow(row: DeliveryRow): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ row, written: { resolve, reject } });
      if (!this.flushing) this.flushing = this.drain();
    });
  }

  /**
   * Logs a rejected request. A flood of rejected requests (forged signatures, unknown keys)
   * must not turn into a flood of writes that slows accepted traffic: past the per-second
   * budget they are counted, and one row per second says how many were not logged one by one.
   * `complete` fills the row's costlier fields (redacted headers, body), only when it is written.
   */
  recordRejected(row: DeliveryRow, complete?: () => void): void {
    const second = Math.floor(Date.now() / 1000);
    if (second !== this.second) {
      this.flushSuppressed(row.createdAt);
      this.second = second;
      this.rejectedThisSecond = 0;
    }
    if (++this.rejectedThisSecond <= this.rejectedPerSecond) {
      complete?.();
      this.record(row);
    } else {
      if (this.suppressed === 0) setTimeout(() => this.flushSuppressed(new Date()), 1100).unref();
      this.suppressed++;
    }
  }

  private flushSuppressed(at: Date): void {
    if (this.suppressed === 0) return;
    const count = this.suppressed;
    this.suppressed = 0;
    this.record(
      newDeliveryRow({
        createdAt: at,
        key: '*',
        method: '*',
        path: '*',
        ip: '*',
        errorCode: 'LOG_SUPPRESSED',
        errorMessage: `${count} further rejected requests in one second were counted but not logged one by one`,
      }),
    );
  }

  /** Sets fields of a written row (batched; later values for the same row win). */
  update(id: string, values: Partial<DeliveryRow>): void {
    this.updates.set(id, { ...this.updates.get(id), ...values });
    if (!this.flushing) this.flushing = this.drain();
  }

  async idle(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async drain(): Promise<void> {
    try {
      // Let the rows of concurrent requests gather into one statement.
      await new Promise((resolve) => setImmediate(resolve));
      while (this.queue.length || this.updates.size) {
        if (this.queue.length) await this.write(this.queue.splice(0, MAX_BATCH));
        if (this.updates.size) await this.applyUpdates();
      }
    } finally {
      this.flushing = null;
    }
  }

  private async applyUpdates(): Promise<void> {
    const updates = [...this.updates];
    this.updates.clear();
    const Model = this.db.getModel(DELIVERIES);
    try {
      await this.db.sequelize.transaction(async (transaction) => {
        for (const [id, values] of updates) await Model.update(values, { where: { id }, transaction, hooks: false });
      });
    } catch (error) {
      this.onError(error);
    }
  }

  private async write(batch: Queued[]): Promise<void> {
    try {
      await this.db.getModel(DELIVERIES).bulkCreate(
        batch.map((q) => q.row as any),
        { hooks: false },
      );
      for (const q of batch) q.written?.resolve();
    } catch (error) {
      if (batch.length > 1) {
        // One row the database refuses must not lose the others.
        for (const q of batch) await this.write([q]);
        return;
      }
      this.onError(error);
      batch[0].written?.reject(error);
    }
  }
}
