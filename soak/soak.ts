/**
 * Soak: the application runner (scripts/start.ts, `npm run start:api`) in a child process under a steady
 * webhook load, with its figures printed every SOAK_REPORT_SECONDS:
 *
 *   RSS and open file descriptors (from /proc/<pid>), event-loop delay (the app's own
 *   monitorEventLoopDelay figures when it prints `STATS {...}` lines, else the answer time of a
 *   trivial request as a stand-in), webhook answer times, delivery-log rows, executions.
 *
 * At the end: whether RSS after warm-up grew by at most SOAK_RSS_LIMIT_MB (50) and whether the
 * delivery log stayed bounded by its retention (WEBHOOK_DELIVERY_MAX_ROWS, set low here).
 *
 *   npm run soak                          10 minutes, SQLite in a temporary directory
 *   SOAK_SECONDS=30 npm run soak          the short form CI runs
 *   DB_DIALECT=postgres DB_DATABASE=… npm run soak   on PostgreSQL (that database is used as is)
 *
 * Settings: SOAK_SECONDS (600), SOAK_RATE requests/s (30), SOAK_SYNC_SHARE (0.2),
 * SOAK_REPORT_SECONDS (10), SOAK_WARMUP_SECONDS (min(60, SOAK_SECONDS / 3)), SOAK_RSS_LIMIT_MB (50),
 * WEBHOOK_DELIVERY_MAX_ROWS (500), WEBHOOK_DELIVERY_SWEEP_MS (10000; how often the plugin applies
 * the retention). With WEBHOOK_STATS_MS the app prints `STATS {...}` lines (scripts/start.ts).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readSetting } from '../src/server/settings';

const root = path.resolve(__dirname, '..');
const num = (name: string, fallback: number) => {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && process.env[name] !== '' && process.env[name] !== undefined ? value : fallback;
};

const SECONDS = num('SOAK_SECONDS', 600);
const RATE = num('SOAK_RATE', 30);
const SYNC_SHARE = num('SOAK_SYNC_SHARE', 0.2);
const REPORT_SECONDS = num('SOAK_REPORT_SECONDS', 10);
const WARMUP_SECONDS = num('SOAK_WARMUP_SECONDS', Math.min(60, Math.floor(SECONDS / 3)));
const RSS_LIMIT_MB = num('SOAK_RSS_LIMIT_MB', 50);
// The app's own variables, checked as the plugin checks them; the soak's defaults keep the log small.
const MAX_ROWS = readSetting('WEBHOOK_DELIVERY_MAX_ROWS', 500);
const SWEEP_MS = readSetting('WEBHOOK_DELIVERY_SWEEP_MS', 10_000);
const PROBE_EVERY_MS = 250;
const ROWS_EVERY_MS = 3000;
const MAX_IN_FLIGHT = 256;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const pct = (values: number[], p: number) => {
  if (!values.length) return 0;
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};
const median = (values: number[]) => pct(values, 50);
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

interface AppStats {
  rssMb?: number;
  heapMb?: number;
  loopDelayMs?: { p50: number; p99: number; max: number };
  activeResources?: number;
}

interface App {
  origin: string;
  child: ChildProcess;
  /** The latest `STATS {...}` line the app printed, if it prints them. */
  stats: () => AppStats | null;
  output: () => string;
}

async function startApp(env: Record<string, string>): Promise<App> {
  const port = 20000 + Math.floor(Math.random() * 20000);
  // `node --import tsx` (not the tsx CLI) so that the child's pid is the application's.
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'scripts/start.ts')], {
    cwd: root,
    env: { ...process.env, WEBHOOK_DEMO: 'off', LOGGER_LEVEL: 'error', APP_PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let stats: AppStats | null = null;
  let buffered = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      if (line.startsWith('STATS ')) {
        try {
          stats = JSON.parse(line.slice(6));
        } catch {
          // a partial line: the next one will do
        }
      } else if (output.length < 200_000) output += `${line}\n`;
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    if (output.length < 200_000) output += chunk.toString();
  });
  const origin = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`app did not start in time:\n${output}`)), 120_000);
    const poll = setInterval(() => {
      const match = /READY (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        clearInterval(poll);
        resolve(match[1]);
      }
    }, 50);
    child.once('exit', (code) => {
      clearTimeout(timer);
      clearInterval(poll);
      reject(new Error(`app exited with ${code} before it was ready:\n${output}`));
    });
  });
  return { origin, child, stats: () => stats, output: () => output };
}

/** NocoBase's resource API as root; signs in again when the token has expired. */
function rootApi(origin: string) {
  let token = '';
  const signIn = async () => {
    const res = await fetch(`${origin}/api/auth:signIn`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Authenticator': 'basic' },
      body: JSON.stringify({
        account: process.env.INIT_ROOT_EMAIL ?? 'admin@nocobase.com',
        password: process.env.INIT_ROOT_PASSWORD ?? 'admin123',
      }),
    });
    const body = (await res.json()) as any;
    if (res.status !== 200) throw new Error(`sign-in failed: ${res.status} ${JSON.stringify(body)}`);
    token = body.data.token;
  };
  return async (action: string, values?: unknown): Promise<any> => {
    for (let attempt = 0; ; attempt++) {
      if (!token) await signIn();
      const res = await fetch(`${origin}/api/${action}`, {
        method: values === undefined ? 'GET' : 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: values === undefined ? undefined : JSON.stringify(values),
      });
      const fresh = res.headers.get('x-new-token');
      if (fresh) token = fresh;
      const json = (await res.json()) as any;
      if (res.status === 401 && attempt === 0) {
        token = '';
        continue;
      }
      if (res.status >= 400) throw new Error(`${action}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    }
  };
}

function procFigures(pid: number): { rssMb: number; fds: number; threads: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    const threads = Number(/Threads:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return { rssMb: round(kb / 1024), fds: readdirSync(`/proc/${pid}/fd`).length, threads };
  } catch {
    return null;
  }
}

async function main() {
  let tmp: string | null = null;
  const env: Record<string, string> = {
    WEBHOOK_DELIVERY_MAX_ROWS: String(MAX_ROWS),
    WEBHOOK_DELIVERY_SWEEP_MS: String(SWEEP_MS),
    WEBHOOK_STATS_MS: String(REPORT_SECONDS * 1000),
  };
  if (!process.env.DB_DIALECT || process.env.DB_DIALECT === 'sqlite') {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'webhook-soak-'));
    Object.assign(env, { DB_DIALECT: 'sqlite', DB_STORAGE: path.join(tmp, 'db.sqlite'), STORAGE_PATH: tmp });
  }
  const started = Date.now();
  const app = await startApp(env);
  const pid = app.child.pid!;
  const cleanup = () => {
    if (app.child.exitCode === null) app.child.kill('SIGTERM');
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  };
  process.on('SIGINT', () => {
    cleanup();
    process.exit(130);
  });

  const api = rootApi(app.origin);
  const run = randomBytes(3).toString('hex');
  const makeWorkflow = async (key: string, sync: boolean, node: object) => {
    const created = await api('workflows:create', { title: `soak ${key}`, type: 'webhook', sync, config: { key } });
    await api(`workflows/${created.data.id}/nodes:create`, node);
    await api(`workflows:update?filterByTk=${created.data.id}`, { enabled: true });
  };
  const asyncKey = `soak-async-${run}`;
  const syncKey = `soak-sync-${run}`;
  await makeWorkflow(asyncKey, false, { type: 'output', config: { value: '{{$context.data.n}}' } });
  await makeWorkflow(syncKey, true, {
    type: 'webhook-response',
    config: { status: 200, body: { ok: true, n: '{{$context.data.n}}' } },
  });
  console.log(
    [
      `soak: ${SECONDS} s at ${RATE} req/s (${Math.round(SYNC_SHARE * 100)}% sync) against ${app.origin}, pid ${pid},`,
      `database ${env.DB_DIALECT ?? process.env.DB_DIALECT}, app ready in ${round((Date.now() - started) / 1000)} s;`,
      `delivery log: at most ${MAX_ROWS} rows, sweep every ${SWEEP_MS / 1000} s;`,
      `warm-up ${WARMUP_SECONDS} s; report every ${REPORT_SECONDS} s.`,
    ].join(' '),
  );

  // Load: an open loop at a fixed rate, so a slow app shows as growing latency, not a lower rate.
  let inFlight = 0;
  let sent = 0;
  let skipped = 0;
  let window = {
    ok: 0,
    failed: 0,
    latencies: [] as number[],
    probes: [] as number[],
    statuses: {} as Record<string, number>,
  };
  let totalOk = 0;
  let totalFailed = 0;
  const fire = async (n: number) => {
    const sync = Math.random() < SYNC_SHARE;
    const t0 = performance.now();
    inFlight++;
    try {
      const res = await fetch(`${app.origin}/api/webhooks/${sync ? syncKey : asyncKey}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Request-Id': `soak-${n}` },
        body: JSON.stringify({ n, at: new Date().toISOString(), pad: 'x'.repeat(160) }),
      });
      await res.arrayBuffer();
      const ok = res.status === (sync ? 200 : 202);
      window.statuses[res.status] = (window.statuses[res.status] ?? 0) + 1;
      if (ok) window.ok++;
      else window.failed++;
    } catch (error) {
      window.failed++;
      const code = (error as any)?.cause?.code ?? 'fetch-error';
      window.statuses[code] = (window.statuses[code] ?? 0) + 1;
    } finally {
      inFlight--;
      window.latencies.push(performance.now() - t0);
    }
  };
  // Stand-in for the event-loop delay: a request the app answers from memory (an unknown key, 404).
  const probe = async () => {
    const t0 = performance.now();
    try {
      const res = await fetch(`${app.origin}/api/webhooks/soak-probe-${run}`);
      await res.arrayBuffer();
      window.probes.push(performance.now() - t0);
    } catch {
      // counted as a failed request by the load, if the app is down
    }
  };

  const samples: Array<{ t: number; rssMb: number; heapMb: number | null; fds: number; rows: number }> = [];
  let rowsMax = 0;
  let rowsMaxInWindow = 0;
  let rowsDropped = false;
  let lastRows = -1;
  /** The delivery log's size, sampled more often than the report so that peaks between sweeps show. */
  const countRows = async (): Promise<number> => {
    const rows: number = (await api('webhookDeliveries:list?pageSize=1')).meta?.count ?? -1;
    if (rows >= 0) {
      rowsMax = Math.max(rowsMax, rows);
      rowsMaxInWindow = Math.max(rowsMaxInWindow, rows);
      if (lastRows >= 0 && rows < lastRows) rowsDropped = true;
      lastRows = rows;
    }
    return rows;
  };
  let nextCount = Date.now() + ROWS_EVERY_MS;
  const loopP99: number[] = [];
  const loadStart = Date.now();
  const end = loadStart + SECONDS * 1000;
  const interval = 1000 / RATE;
  let nextAt = performance.now();
  let nextProbe = Date.now();
  let nextReport = loadStart + REPORT_SECONDS * 1000;
  const report = async () => {
    const current = window;
    window = { ok: 0, failed: 0, latencies: [], probes: [], statuses: {} };
    totalOk += current.ok;
    totalFailed += current.failed;
    const figures = procFigures(pid);
    let rows = -1;
    let executions = '';
    try {
      rows = await countRows();
      const all = (await api('executions:list?pageSize=1')).meta?.count ?? 0;
      const queued = (await api(`executions:list?pageSize=1&filter=${encodeURIComponent('{"status":null}')}`)).meta
        ?.count;
      executions = `${all} (${queued ?? '?'})`;
    } catch (error) {
      executions = `? (${(error as Error).message.slice(0, 60)})`;
    }
    const windowMax = rowsMaxInWindow;
    rowsMaxInWindow = 0;
    const t = Math.round((Date.now() - loadStart) / 1000);
    const stats = app.stats();
    const heapMb = stats?.heapMb ?? null;
    if (figures) samples.push({ t, rssMb: figures.rssMb, heapMb, fds: figures.fds, rows });
    if (t >= WARMUP_SECONDS) loopP99.push(stats?.loopDelayMs ? stats.loopDelayMs.p99 : pct(current.probes, 99));
    const loop = stats?.loopDelayMs
      ? `${stats.loopDelayMs.p50}/${stats.loopDelayMs.p99}/${stats.loopDelayMs.max} (app)`
      : `${round(pct(current.probes, 50))}/${round(pct(current.probes, 99))}/${round(Math.max(0, ...current.probes))} (probe)`;
    const failed = current.failed
      ? ` ${JSON.stringify(Object.fromEntries(Object.entries(current.statuses).filter(([s]) => !['200', '202'].includes(s))))}`
      : '';
    console.log(
      [
        String(t).padStart(7),
        String(figures?.rssMb ?? '?').padStart(8),
        String(heapMb ?? '-').padStart(8),
        String(figures?.fds ?? '?').padStart(4),
        loop.padStart(23),
        `${current.ok}/${current.failed}`.padStart(15),
        `${round(pct(current.latencies, 50))}/${round(pct(current.latencies, 99))}`.padStart(20),
        String(inFlight).padStart(10),
        `${rows} (${windowMax})`.padStart(18),
        `  ${executions}${failed}`,
      ].join(' '),
    );
  };
  const header =
    '   t(s)  rss(MB) heap(MB)  fds  loop p50/p99/max (ms)   req ok/failed  answer p50/p99 (ms)  in-flight  log rows (max)  executions (queued)';
  console.log(header);
  while (Date.now() < end) {
    const now = performance.now();
    while (nextAt <= now) {
      if (inFlight < MAX_IN_FLIGHT) void fire(sent++);
      else skipped++;
      nextAt += interval;
    }
    if (Date.now() >= nextProbe) {
      void probe();
      nextProbe += PROBE_EVERY_MS;
    }
    if (Date.now() >= nextCount) {
      nextCount += ROWS_EVERY_MS;
      void countRows().catch(() => undefined);
    }
    if (Date.now() >= nextReport) {
      nextReport += REPORT_SECONDS * 1000;
      void report();
    }
    await sleep(Math.max(1, Math.min(nextAt - performance.now(), 20)));
  }
  // Let the last requests finish, then the last report.
  for (let i = 0; i < 100 && inFlight > 0; i++) await sleep(100);
  await report();

  const after = samples.filter((s) => s.t > WARMUP_SECONDS);
  const baseline = median(after.slice(0, 3).map((s) => s.rssMb));
  const final = median(samples.slice(-3).map((s) => s.rssMb));
  const growth = round(final - baseline);
  const heaps = samples.filter((s) => s.heapMb !== null);
  const heapLine = heaps.length
    ? `heap after warm-up: ${median(after.slice(0, 3).map((s) => s.heapMb ?? 0))} MB -> ${median(
        samples.slice(-3).map((s) => s.heapMb ?? 0),
      )} MB`
    : '';
  const fdBaseline = median(after.slice(0, 3).map((s) => s.fds));
  const fdFinal = median(samples.slice(-3).map((s) => s.fds));
  const rssOk = after.length > 0 && growth <= RSS_LIMIT_MB;
  // Bounded: the table never held more than the limit plus what arrives between two sweeps.
  const perSweep = Math.ceil((RATE + 1000 / PROBE_EVERY_MS) * (SWEEP_MS / 1000) * 1.25);
  const rowsBound = MAX_ROWS + perSweep;
  const rowsOk = rowsMax <= rowsBound;
  const summary = [
    '',
    `requests: ${sent} sent, ${totalOk} answered as expected, ${totalFailed} not, ${skipped} not sent (more than ${MAX_IN_FLIGHT} in flight)`,
    `RSS after warm-up (${WARMUP_SECONDS} s): ${baseline} MB -> ${final} MB at the end: ${growth >= 0 ? '+' : ''}${growth} MB (limit ${RSS_LIMIT_MB} MB): ${rssOk ? 'PASS' : 'FAIL'}`,
    heapLine,
    `open file descriptors after warm-up: ${fdBaseline} -> ${fdFinal}`,
    `event-loop delay p99 after warm-up (${app.stats() ? "the app's own figures" : 'probe answer time'}): median ${round(
      median(loopP99),
    )} ms, worst ${round(Math.max(0, ...loopP99))} ms`,
    `delivery log: at most ${rowsMax} rows seen, bound ${rowsBound} (${MAX_ROWS} kept + ${perSweep} between sweeps), retention ${
      rowsDropped ? 'seen deleting rows' : 'not seen deleting rows in this run'
    }: ${rowsOk ? 'PASS' : 'FAIL'}`,
    app.stats() ? '' : 'loop delay: measured from outside (probe answer time); the app printed no STATS lines.',
  ];
  console.log(summary.filter(Boolean).join('\n'));
  cleanup();
  const failedShare = sent ? totalFailed / sent : 1;
  process.exit(rssOk && rowsOk && failedShare < 0.01 ? 0 : 1);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
