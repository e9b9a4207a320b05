import type { Database } from '@nocobase/database';

/** An entry older than this is forgotten (its execution ended in another process, or was lost). */
const FORGET_AFTER_MS = 10 * 60_000;

/**
 * The bytes of async deliveries this process accepted whose executions have not ended yet: the
 * backlog the engine still has to run. Above `maxBytes` a new async delivery is refused (429,
 * `Retry-After`) before its body is read, so a flood of large bodies cannot queue more work than
 * the engine can run, and the admin API keeps its share of the event loop. An empty backlog
 * always takes one delivery, whatever its size. `maxBytes` 0: no limit.
 */
export class Backlog {
  private readonly pending = new Map<string, { bytes: number; at: number }>();
  private total = 0;

  constructor(private readonly maxBytes: number) {}

  get bytes(): number {
    return this.total;
  }

  /** Whether a delivery of `bytes` (its declared length; 0 when unknown) may be accepted now. */
  admits(bytes: number): boolean {
    if (this.maxBytes === 0 || this.total === 0) return true;
    this.forgetOld();
    return this.total === 0 || this.total + bytes <= this.maxBytes;
  }

  /** An execution was queued with a body of `bytes`. */
  hold(executionId: string | number, bytes: number): void {
    if (this.maxBytes === 0 || this.pending.has(String(executionId))) return;
    this.pending.set(String(executionId), { bytes, at: Date.now() });
    this.total += bytes;
  }

  /** The execution ended (or was deleted): its bytes leave the backlog. */
  release(executionId: string | number): void {
    const entry = this.pending.get(String(executionId));
    if (!entry) return;
    this.pending.delete(String(executionId));
    this.total -= entry.bytes;
  }

  private forgetOld(): void {
    const before = Date.now() - FORGET_AFTER_MS;
    for (const [id, entry] of this.pending) {
      // Insertion order is time order: the first young entry ends the scan.
      if (entry.at >= before) break;
      this.release(id);
    }
  }

  /** Releases executions as the engine ends (or deletes) them. */
  follow(db: Database): void {
    if (this.maxBytes === 0) return;
    db.on('executions.afterUpdate', (execution: any) => {
      const status = execution.get('status');
      // null: queueing, 0: started; anything else is final.
      if (status !== null && status !== 0) this.release(execution.get('id'));
    });
    db.on('executions.afterDestroy', (execution: any) => this.release(execution.get('id')));
  }
}
