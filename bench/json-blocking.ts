/**
 * How long a large JSON body holds the event loop, parsed in the request's thread and by the
 * JSON worker (src/server/http/parse/json-pool.ts):
 *
 *     node --import tsx bench/json-blocking.ts [MB=20]
 *
 * The body: `MB` of ~2 KB strings under as many keys. "blocked" is the longest the event loop
 * went without turning (a 1 ms interval and monitorEventLoopDelay) while one body was parsed.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseJsonBytes } from '../src/server/http/parse/json';
import { JsonWorkerPool } from '../src/server/http/parse/json-pool';

const mb = Number(process.argv[2] ?? 20);
const limits = { maxKeys: 10_000, maxArrayItems: 10_000 };
const value = 'x'.repeat(2000);
const entries: string[] = [];
let size = 2;
for (let i = 0; size < mb * 1e6; i++) {
  const entry = `"key${i}":"${value}"`;
  entries.push(entry);
  size += entry.length + 1;
}
const body = Buffer.from(`{${entries.join(',')}}`);

/** Runs `work` while a 1 ms interval notes the longest gap between its turns. */
async function blocked(work: () => unknown): Promise<{ total: number; maxGap: number; histMax: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  let last = performance.now();
  let maxGap = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
  }, 1);
  await new Promise((r) => setTimeout(r, 20));
  maxGap = 0;
  histogram.enable();
  const started = performance.now();
  last = started;
  await work();
  const total = performance.now() - started;
  await new Promise((r) => setTimeout(r, 5));
  histogram.disable();
  clearInterval(timer);
  return { total, maxGap, histMax: histogram.max / 1e6 };
}

async function main() {
  console.log(`body: ${(body.length / 1e6).toFixed(1)} MB, ${entries.length} keys of 2 KB strings`);
  const pool = new JsonWorkerPool({ thresholdBytes: 0, workers: 1, timeoutMs: 60_000 });
  await pool.parse(Buffer.from('{}'), undefined, false, limits); // the worker's start-up, not counted
  const rows: Array<[string, Awaited<ReturnType<typeof blocked>>]> = [];
  for (let round = 0; round < 3; round++) {
    rows.push(['in thread', await blocked(() => parseJsonBytes(body, undefined, false, limits))]);
    rows.push(['worker', await blocked(() => pool.parse(body, undefined, false, limits))]);
  }
  for (const [name, r] of rows) {
    console.log(
      `${name.padEnd(10)} total ${r.total.toFixed(0).padStart(4)} ms, longest event-loop gap ${r.maxGap.toFixed(1).padStart(6)} ms (monitorEventLoopDelay max ${r.histMax.toFixed(1)} ms)`,
    );
  }
  await pool.close();
}

main();
