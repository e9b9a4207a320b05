import type { Database } from '@nocobase/database';

/** An entry older than this is forgotten (its execution ended in another process, or was lost). */
const FORGET_AFTER_MS = 10 * 60_000;

interface Waiter {
  bytes: number;
  timer: NodeJS.Timeout;
  resolve: (admitted: boolean) => void;
}

/**
 * The bytes of async deliveries this process accepted whose executions have not ended yet: the
 * backlog the engine still has to run. Above `maxBytes` a new async delivery waits, its body
 * unread, for an execution to end (up to `waitMs`, in arrival order), and is refused (429,
 * `Retry-After`) if none ends by then. So a flood of large bodies cannot queue more work than
 * the engine can run, and a sender is slowed by TCP flow control instead of having the process
 * read and throw away bodies it has no room for; the admin API keeps its share of the event
 * loop. An empty backlog always takes one delivery, whatever its size. `maxBytes` 0: no limit.
 */
export class Backlog {
  private readonly pending = new Map<string, { bytes: number; at: number }>();
  private readonly waiters: Waiter[] = [];
  private total = 0;
  private closed = false;

  constructor(
    private readonly maxBytes: number,
    private readonly waitMs = 0,
  ) {}

  get bytes(): number {
    return this.total;
  }

  /** Deliveries waiting for room now. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** Whether a delivery of `bytes` (its declared length; 0 when unknown) may be accepted now. */
  admits(bytes: number): boolean {
    if (this.maxBytes === 0) return true;
    if (this.waiters.length) {
      // Those already waiting go first. An empty backlog with waiters: the one woken last was
      // refused before its execution was stored, so the first of them comes in now.
      if (this.total === 0) this.wake();
      return false;
    }
    if (this.total === 0) return true;
    this.forgetOld();
    return this.fits(bytes);
  }

  /**
   * Resolves true once a delivery of `bytes` may be accepted: at once when `admits`, else when an
   * execution ends and this is the first waiter that fits, within `waitMs`; false past that (or
   * once the backlog is closed).
   */
  admit(bytes: number): boolean | Promise<boolean> {
    if (this.admits(bytes)) return true;
    if (this.waitMs === 0 || this.closed) return false;
    return new Promise((resolve) => {
      const waiter: Waiter = {
        bytes,
        resolve,
        timer: setTimeout(() => {
          const at = this.waiters.indexOf(waiter);
          if (at >= 0) this.waiters.splice(at, 1);
          // Its time is up; room may have come without an execution ending (a forgotten entry).
          this.forgetOld();
          resolve(!this.closed && (this.total === 0 || (at === 0 && this.fits(bytes))));
          this.wake();
        }, this.waitMs),
      };
      this.waiters.push(waiter);
    });
  }

  /** An execution was queued with a body of `bytes`. */
  hold(executionId: string | number, bytes: number): void {
    if (this.maxBytes === 0 || this.pending.has(String(executionId))) return;
    this.pending.set(String(executionId), { bytes, at: Date.now() });
    this.total += bytes;
  }

  /** The execution ended (or was deleted): its bytes leave the backlog, and a waiter may come in. */
  release(executionId: string | number): void {
    const entry = this.pending.get(String(executionId));
    if (!entry) return;
    this.pending.delete(String(executionId));
    this.total -= entry.bytes;
    this.wake();
  }

  /** Refuses every waiter, now and from now on (the app is stopping). */
  close(): void {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.resolve(false);
    }
  }

  private fits(bytes: number): boolean {
    return this.total + bytes <= this.maxBytes;
  }

  /**
   * One execution ended: the first waiter comes in if it fits. One in for one out: an admitted
   * delivery holds its bytes only once its execution is stored, so waking more than one per
   * ending would let them all in on the same room.
   */
  private wake(): void {
    const first = this.waiters[0];
    if (!first || (this.total !== 0 && !this.fits(first.bytes))) return;
    this.waiters.shift();
    clearTimeout(first.timer);
    first.resolve(true);
  }

  private forgetOld(): void {
    const before = Date.now() - FORGET_AFTER_MS;
    for (const [id, entry] of this.pending) {
      // Insertion order is time order: the first young entry ends the scan.
      if (entry.at >= before) break;
      this.pending.delete(id);
      this.total -= entry.bytes;
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
