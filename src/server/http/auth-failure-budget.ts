import { setTimeout as sleep } from 'node:timers/promises';
import type { ErrorCode } from '../answer';
import type { WebhookSettings } from '../settings';

/** The answers of failed authentication: a wrong signature, token or password, a stale timestamp. */
const AUTH_FAILURES: ReadonlySet<ErrorCode> = new Set([
  'UNAUTHORIZED',
  'SIGNATURE_INVALID',
  'TIMESTAMP_OUT_OF_TOLERANCE',
]);

export interface AuthFailureBudgetOptions {
  /** Failures per source address and second answered at once; 0 turns the budget off. */
  perSecond: number;
  /** How long a failure past the budget waits before its 401 is sent. */
  delayMs: number;
  /** Answers held at most at once; past it they go out at once, closing the connection. */
  maxHeld: number;
  /** Sources counted one by one per second; past it the rest share one count. */
  maxSources?: number;
}

export type Penalty = { holdMs: number; close: boolean };
const NONE: Penalty = { holdMs: 0, close: false };

/**
 * A per-source budget for failed authentication. Within it a failure is answered at once; past
 * it the 401 is held for `delayMs` (a tarpit). A client that floods forged requests over N
 * connections is slowed to about `perSecond` + N / delay answers a second, so its flood cannot
 * take the event loop from accepted traffic, while a valid request from the same address is
 * never held. Counts live in this process and restart every second.
 */
export class AuthFailureBudget {
  private second = 0;
  private readonly counts = new Map<string, number>();
  private held = 0;
  private readonly maxSources: number;

  constructor(private readonly options: AuthFailureBudgetOptions) {
    this.maxSources = options.maxSources ?? 100_000;
  }

  static fromSettings(settings: WebhookSettings): AuthFailureBudget {
    return new AuthFailureBudget({
      perSecond: settings.WEBHOOK_AUTH_FAILURES_PER_SECOND,
      delayMs: settings.WEBHOOK_AUTH_FAILURE_DELAY_MS,
      maxHeld: settings.WEBHOOK_AUTH_FAILURES_HELD,
    });
  }

  /** The budget in force. */
  settings(): AuthFailureBudgetOptions {
    return { ...this.options };
  }

  /** Changes the budget at run time (the benchmark measures the bare rejection cost with it off). */
  configure(options: Partial<AuthFailureBudgetOptions>): void {
    Object.assign(this.options, options);
  }

  /** What to do with the answer to `code` for a request from `source`. */
  penalty(code: ErrorCode, source: string, now = Date.now()): Penalty {
    const { perSecond, delayMs, maxHeld } = this.options;
    if (!AUTH_FAILURES.has(code) || !(perSecond > 0) || !(delayMs > 0)) return NONE;
    const second = Math.floor(now / 1000);
    if (second !== this.second) {
      this.second = second;
      this.counts.clear();
    }
    const key = this.counts.size >= this.maxSources && !this.counts.has(source) ? '*' : source;
    const count = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, count);
    if (count <= perSecond) return NONE;
    if (this.held >= maxHeld) return { holdMs: 0, close: true };
    return { holdMs: delayMs, close: false };
  }

  /** Waits out a penalty's hold. */
  async hold(penalty: Penalty): Promise<void> {
    if (penalty.holdMs <= 0) return;
    this.held++;
    try {
      await sleep(penalty.holdMs);
    } finally {
      this.held--;
    }
  }
}
