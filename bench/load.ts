/**
 * One load run with autocannon against a loopback URL, bounded in time and in count. Used in
 * process by bench/run.ts, and as a process of its own (`node --import tsx bench/load.ts`) for
 * the second load generator of the flood test, which reports over the IPC channel.
 */
import autocannon from 'autocannon';
import { percentile } from './protocol';

export interface LoadSpec {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** For the child-process form (JSON on the command line). */
  bodyBase64?: string;
  connections: number;
  durationSec: number;
  /** Stops once this many responses came back, whatever the duration. */
  maxRequests: number;
  /** The statuses this scenario is meant to get; any other is counted as an error. */
  expect: number[];
  /** Collect `deliveryId` from every 202 JSON answer. */
  collectIds?: boolean;
  /** Requests per second over all connections (a steady rate instead of as fast as possible). */
  overallRate?: number;
}

export interface LoadResult {
  responses: number;
  seconds: number;
  /** Expected responses per second. */
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  statuses: Record<string, number>;
  expected: number;
  /** Unexpected statuses + socket errors + timeouts. */
  errors: number;
  socketErrors: number;
  timeouts: number;
  ids?: string[];
}

export function assertLoopback(url: string): void {
  const host = new URL(url).hostname;
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '[::1]') {
    throw new Error(`refusing to send load to ${host}: the bench only talks to 127.0.0.1`);
  }
}

export function runLoad(spec: LoadSpec, onStart?: () => void): Promise<LoadResult> {
  assertLoopback(spec.url);
  const body = spec.body ?? (spec.bodyBase64 ? Buffer.from(spec.bodyBase64, 'base64') : undefined);
  const expected = new Set(spec.expect);
  const ids: string[] = [];
  let latencies = new Float64Array(1 << 16);
  let count = 0;
  let expectedCount = 0;
  const statuses: Record<string, number> = {};

  const request: Record<string, unknown> = {
    method: spec.method ?? 'POST',
    headers: spec.headers ?? {},
    body,
  };
  if (spec.collectIds) {
    request.onResponse = (status: number, text: string) => {
      if (status !== 202) return;
      try {
        const id = JSON.parse(text)?.deliveryId;
        if (typeof id === 'string') ids.push(id);
      } catch {}
    };
  }

  return new Promise<LoadResult>((resolve, reject) => {
    let stopped = false;
    const instance = autocannon(
      {
        url: spec.url,
        connections: spec.connections,
        duration: spec.durationSec,
        timeout: 30,
        overallRate: spec.overallRate,
        requests: [request as any],
      },
      (error, result) => {
        clearTimeout(hardStop);
        if (error) return reject(error);
        const sorted = latencies.subarray(0, expectedCount).sort();
        const seconds = result.duration || spec.durationSec;
        const unexpected = count - expectedCount;
        resolve({
          responses: count,
          seconds,
          rps: expectedCount / seconds,
          p50: percentile(sorted, 50),
          p90: percentile(sorted, 90),
          p99: percentile(sorted, 99),
          max: sorted.length ? sorted[sorted.length - 1] : Number.NaN,
          statuses,
          expected: expectedCount,
          errors: unexpected + (result.errors ?? 0) + (result.timeouts ?? 0),
          socketErrors: result.errors ?? 0,
          timeouts: result.timeouts ?? 0,
          ids: spec.collectIds ? ids : undefined,
        });
      },
    );
    // A bound on time whatever happens to the server.
    const hardStop = setTimeout(() => instance.stop(), (spec.durationSec + 30) * 1000);
    instance.on('start', () => onStart?.());
    instance.on('response', (_client: unknown, status: number, _bytes: number, responseTime: number) => {
      count++;
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (expected.has(status)) {
        if (expectedCount === latencies.length) {
          const grown = new Float64Array(latencies.length * 2);
          grown.set(latencies);
          latencies = grown;
        }
        latencies[expectedCount++] = responseTime;
      }
      if (!stopped && count >= spec.maxRequests) {
        stopped = true;
        instance.stop();
      }
    });
  });
}

if (require.main === module) {
  const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
  runLoad(spec, () => process.send?.({ started: true }))
    .then((result) => {
      if (process.send) process.send({ result }, () => process.exit(0));
      else {
        console.log(JSON.stringify(result));
        process.exit(0);
      }
    })
    .catch((error) => {
      console.error(error);
      process.exit(1);
    });
  process.on('disconnect', () => process.exit(0));
}
