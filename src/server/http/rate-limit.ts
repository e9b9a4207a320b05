import { WebhookError } from '../answer';

/** The part of NocoBase's cache counter (`cacheManager.createCounter`) that is used here. */
export interface Counter {
  incr(key: string, ttl?: number): Promise<number>;
}

export interface RateLimit {
  requests: number;
  perSeconds: number;
}

/**
 * A fixed-window limit per webhook key: at most `requests` in each `perSeconds` window.
 * Counts live in NocoBase's cache counter, so processes that share a Redis cache share them;
 * with the default in-memory cache each process counts on its own.
 */
export async function checkRateLimit(
  counter: Counter,
  key: string,
  limit: RateLimit,
  nowMs = Date.now(),
): Promise<void> {
  const windowMs = limit.perSeconds * 1000;
  const window = Math.floor(nowMs / windowMs);
  const count = await counter.incr(`webhook-rate:${key}:${window}`, windowMs + 1000);
  if (count > limit.requests) {
    const retryAfter = Math.max(1, Math.ceil(((window + 1) * windowMs - nowMs) / 1000));
    throw new WebhookError('RATE_LIMITED', `More than ${limit.requests} requests in ${limit.perSeconds} s`, {
      headers: { 'Retry-After': String(retryAfter) },
    });
  }
}
