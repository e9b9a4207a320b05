import { createHash } from 'node:crypto';
import type { HttpAnswer } from '../answer';

/** The idempotency key of a request: the workflow's key and a hash of the header's value. */
export function idempotencyKeyOf(workflowKey: string, headerValue: string): string {
  return `${workflowKey}:${createHash('sha256').update(headerValue).digest('hex')}`;
}

/**
 * One answer per idempotency key. Concurrent repeats in this process wait for the first
 * request and get its answer; later repeats get the answer stored with the first delivery
 * (looked up in the delivery log, which every process shares).
 */
export class Idempotency {
  private readonly inflight = new Map<string, Promise<HttpAnswer>>();

  constructor(private readonly lookup: (key: string) => Promise<HttpAnswer | null>) {}

  /**
   * Runs `produce` for the first request with this key; returns the first answer and whether
   * this request was a repeat. `settled` tells when the first answer is stored for others.
   */
  async once(
    key: string,
    produce: () => Promise<HttpAnswer>,
    settled: () => Promise<void>,
  ): Promise<{ answer: HttpAnswer; repeated: boolean }> {
    const running = this.inflight.get(key);
    if (running) return { answer: await running, repeated: true };
    let repeated = false;
    const first = (async () => {
      const stored = await this.lookup(key);
      if (stored) {
        repeated = true;
        return stored;
      }
      return produce();
    })();
    this.inflight.set(key, first);
    try {
      return { answer: await first, repeated };
    } finally {
      settled()
        .catch(() => undefined)
        .finally(() => {
          if (this.inflight.get(key) === first) this.inflight.delete(key);
        });
    }
  }
}
