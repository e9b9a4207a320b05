import type { Database } from '@nocobase/database';
import { DELIVERIES } from '../../common/constants';
import { bulkInsert } from '../bulk-insert';
import { SETTINGS } from '../settings';
import { type DeliveryRow, newDeliveryRow } from './collection';

const MAX_BATCH = 500;

/**
 * Writes delivery-log rows in batches (one INSERT for all rows that arrive together, and the
 * updates that arrive together in one transaction), off the request's path. A batch starts
 * `flushDelayMs` after its first row, so that rows of concurrent requests share one commit (on
 * SQLite each commit is a disk flush that holds the one writer); rows that arrive while a batch
 * is written go in the next one at once. Async deliveries are not written here: their row is
 * committed with the queued execution (see AsyncInbox).
 */
export class DeliveryRecorder {
  private queue: DeliveryRow[] = [];
  private updates = new Map<string, Partial<DeliveryRow>>();
  private flushing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private second = 0;
  private rejectedThisSecond = 0;
  private suppressed = 0;

  constructor(
    private readonly db: Database,
    private readonly onError: (error: unknown) => void,
    /** Rejected requests logged one by one per second; past it a flood is summed up in one row. */
    private readonly rejectedPerSecond: number = SETTINGS.WEBHOOK_LOG_REJECTED_PER_SECOND.default,
    private readonly flushDelayMs: number = SETTINGS.WEBHOOK_LOG_FLUSH_MS.default,
  ) {}

  record(row: DeliveryRow): void {
    this.queue.push(row);
    this.schedule();
  }

  private schedule(): void {
    if (this.flushing || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flushNow();
    }, this.flushDelayMs);
    this.timer.unref();
  }

  private flushNow(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (!this.flushing) this.flushing = this.drain();
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
    this.schedule();
  }

  /** Writes everything recorded so far, now, and resolves once it is committed. */
  async idle(): Promise<void> {
    if (this.queue.length || this.updates.size) this.flushNow();
    while (this.flushing) await this.flushing;
  }

  private async drain(): Promise<void> {
    try {
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

  private async write(batch: DeliveryRow[]): Promise<void> {
    try {
      await bulkInsert(this.db, DELIVERIES, batch as unknown as Array<Record<string, unknown>>);
    } catch (error) {
      if (batch.length > 1) {
        // One row the database refuses must not lose the others.
        for (const row of batch) await this.write([row]);
        return;
      }
      this.onError(error);
    }
  }
}
