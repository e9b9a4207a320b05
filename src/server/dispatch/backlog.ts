import type { Database } from '@nocobase/database';

/** An entry older than this is forgotten (its execution ended in another process, or was lost). */
const FORGET_AFTER_MS = 10 * 60_000;

/** Room kept for one admitted delivery until it is stored (its execution holds the bytes) or refused. */
export interface Reservation {
  /** Gives the room back; once is enough, more calls do nothing. */
  release(): void;
}

const NO_RESERVATION: Reservation = { release() {} };

interface Waiter {
  bytes: number;
  timer: NodeJS.Timeout;
  resolve: (reservation: Reservation | null) => void;
}

/**
 * The bytes of async deliveries this process accepted whose executions have not ended yet: the
 * backlog the engine still has to run. Above `maxBytes` a new async delivery waits, its body
 * unread, for room (up to `waitMs`, first come first served), and is refused (429,
 * `Retry-After`) if none comes by then. So a flood of large bodies cannot queue more work than
 * the engine can run, and a sender is slowed by TCP flow control instead of having the process
 * read and throw away bodies it has no room for; the admin API keeps its share of the event
 * loop. An admitted delivery keeps its room reserved until its execution holds the bytes or it
 * is refused, so deliveries let in together never share the same room, and the room of one that
 * is refused goes to the next waiter at once. An empty backlog always takes one delivery,
 * whatever its size. `maxBytes` 0: no limit.
 */
export class Backlog {
  private readonly pending = new Map<string, { bytes: number; at: number }>();
  private readonly waiters: Waiter[] = [];
  /** Bytes of the executions in `pending`. */
  private held = 0;
  /** Bytes of admitted deliveries not yet stored or refused. */
  private reserved = 0;
  private closed = false;

  constructor(
    private readonly maxBytes: number,
    private readonly waitMs = 0,
  ) {}

  /** Bytes held by queued executions and reserved for admitted deliveries. */
  get bytes(): number {
    return this.held + this.reserved;
  }

  /** Deliveries waiting for room now. */
  get waiting(): number {
    return this.waiters.length;
  }

  /**
   * Room for a delivery of `bytes` (its declared length; 0 when unknown): at once when it fits
   * and nobody waits before it; else once room comes and it is the first waiter, within `waitMs`;
   * null past that (or once the backlog is closed). Release the reservation when the delivery is
   * stored or refused.
   */
  admit(bytes: number): Reservation | null | Promise<Reservation | null> {
    if (this.maxBytes === 0) return NO_RESERVATION;
    if (!this.waiters.length) {
      this.forgetOld();
      if (this.fits(bytes)) return this.reserve(bytes);
    }
    if (this.waitMs === 0 || this.closed) return null;
    return new Promise((resolve) => {
      const waiter: Waiter = {
        bytes,
        resolve,
        timer: setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          // Room may have come without an execution ending (a forgotten entry).
          this.forgetOld();
          resolve(!this.closed && this.fits(bytes) ? this.reserve(bytes) : null);
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
    this.held += bytes;
  }

  /** The execution ended (or was deleted): its bytes leave the backlog, and waiters may come in. */
  release(executionId: string | number): void {
    const entry = this.pending.get(String(executionId));
    if (!entry) return;
    this.pending.delete(String(executionId));
    this.held -= entry.bytes;
    this.wake();
  }

  /** Refuses every waiter, now and from now on (the app is stopping). */
  close(): void {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.resolve(null);
    }
  }

  private fits(bytes: number): boolean {
    return this.bytes === 0 || this.bytes + bytes <= this.maxBytes;
  }

  private reserve(bytes: number): Reservation {
    this.reserved += bytes;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.reserved -= bytes;
        this.wake();
      },
    };
  }

  /** Lets waiters in, in their order, while the first of them fits. */
  private wake(): void {
    while (this.waiters.length && this.fits(this.waiters[0].bytes)) {
      const first = this.waiters.shift() as Waiter;
      clearTimeout(first.timer);
      first.resolve(this.reserve(first.bytes));
    }
  }

  private forgetOld(): void {
    const before = Date.now() - FORGET_AFTER_MS;
    for (const [id, entry] of this.pending) {
      // Insertion order is time order: the first young entry ends the scan.
      if (entry.at >= before) break;
      this.pending.delete(id);
      this.held -= entry.bytes;
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
