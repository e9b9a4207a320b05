/**
 * `npm run bench`: starts a real NocoBase app with this plugin (bench/server.ts, its own process,
 * a fresh database: SQLite file by default, PostgreSQL / MariaDB by DB_*), a bare Koa route as the
 * baseline (bench/koa-baseline.ts, its own process), drives both with autocannon over loopback
 * and prints one table, the targets of issue 5 with PASS or MISS, and writes the same as
 * Markdown to bench/results/latest.md. See bench/README.md for the knobs.
 */
import { type ChildProcess, execSync, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type BenchDatabase, createBenchDatabase } from './db';
import { type LoadResult, type LoadSpec, runLoad } from './load';
import { type EngineRunResult, type ExecStats, Rpc, type WorkflowSpec } from './protocol';
import { ForeignLoad, rssMb } from './system';

const root = path.resolve(__dirname, '..');

function numberEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number, got "${raw}"`);
  return value;
}

const DURATION = numberEnv('BENCH_DURATION', 5);
const CONNECTIONS = numberEnv('BENCH_CONNECTIONS', 32);
const ROUNDS = Math.max(1, Math.round(numberEnv('BENCH_ROUNDS', 3)));
const ROUTES = Math.round(numberEnv('BENCH_ROUTES', 10_000));
const SOAK = numberEnv('BENCH_SOAK', 60);
const SOAK_RATE = numberEnv('BENCH_SOAK_RATE', 50);
const DRAIN_TIMEOUT = numberEnv('BENCH_DRAIN_TIMEOUT', 300);
const START_TIMEOUT = numberEnv('BENCH_START_TIMEOUT', 240);
const ENGINE_ASYNC_COUNT = Math.round(numberEnv('BENCH_ENGINE_ASYNC_COUNT', 60 * Math.max(DURATION, 5)));
const PROFILE_DIR = process.env.BENCH_PROFILE ? path.resolve(process.env.BENCH_PROFILE) : null;
const KEEP = process.env.BENCH_KEEP === '1';
const ALL_GROUPS = [
  'baseline',
  'sync',
  'reject',
  'engine',
  'async',
  'bodies',
  'flood',
  'routing',
  'soak',
  'worst-bodies',
] as const;
type Group = (typeof ALL_GROUPS)[number];
/** Groups that run only when BENCH_ONLY names them. */
const OPT_IN: Group[] = ['worst-bodies'];
const WORST_DURATION = numberEnv('BENCH_WORST_DURATION', 30);
const ONLY = new Set(
  (process.env.BENCH_ONLY ?? ALL_GROUPS.filter((g) => !OPT_IN.includes(g)).join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);
for (const g of ONLY) {
  if (!ALL_GROUPS.includes(g as Group)) throw new Error(`BENCH_ONLY: unknown group "${g}" (${ALL_GROUPS.join(', ')})`);
}
const runs = (group: Group) => ONLY.has(group);
/** Upper bound of responses of one load run, whatever its duration. */
const MAX_REQUESTS = 5_000_000;
const SECRET = 'bench-github-secret';

// ---------------------------------------------------------------------------------------------
// Child processes: spawned with IPC, their output kept in a log file, all killed on any exit.

const children = new Set<ChildProcess>();
let tempDir = '';
let database: BenchDatabase | null = null;
let cleaningUp: Promise<void> | null = null;

interface Started {
  child: ChildProcess;
  rpc: Rpc;
  port: number;
  pid: number;
  tail: () => string;
}

function spawnNode(
  name: string,
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  logFile: string,
  nodeOptions?: string,
  nodeArgs: string[] = [],
): { child: ChildProcess; tail: () => string } {
  const childEnv = { ...env };
  if (nodeOptions !== undefined) childEnv.NODE_OPTIONS = nodeOptions;
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', path.join(__dirname, file), ...args], {
    cwd: root,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const log = createWriteStream(logFile);
  let tail = '';
  const keep = (chunk: Buffer) => {
    log.write(chunk);
    tail = (tail + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.once('exit', () => log.end());
  return { child, tail: () => `--- last output of ${name} (${logFile}) ---\n${tail.trim() || '(none)'}` };
}

function waitReady(name: string, spawned: { child: ChildProcess; tail: () => string }, timeoutSec: number) {
  return new Promise<Started>((resolve, reject) => {
    const { child } = spawned;
    const timer = setTimeout(() => {
      cleanupListeners();
      reject(new Error(`${name} did not start within ${timeoutSec} s (BENCH_START_TIMEOUT)\n${spawned.tail()}`));
    }, timeoutSec * 1000);
    const onMessage = (message: any) => {
      if (!message?.ready) return;
      cleanupListeners();
      resolve({
        child,
        rpc: new Rpc(child, name),
        port: message.port,
        pid: message.pid,
        tail: spawned.tail,
      });
    };
    const onExit = (code: number | null, signal: string | null) => {
      cleanupListeners();
      reject(new Error(`${name} exited (${code ?? signal}) before it was ready\n${spawned.tail()}`));
    };
    const cleanupListeners = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

async function stopChild(child: ChildProcess, graceMs: number, rpc?: Rpc): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    if (rpc && child.connected) await rpc.call('stop', undefined, 5_000);
    else child.kill('SIGTERM');
  } catch {
    child.kill('SIGTERM');
  }
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

function cleanup(): Promise<void> {
  cleaningUp ??= (async () => {
    await Promise.all(
      [...children].map((child) => stopChild(child, 25_000, app && child === app.child ? app.rpc : undefined)),
    );
    if (database) {
      await database.drop().catch((error) => console.error(`could not drop the bench database: ${error.message}`));
      database = null;
    }
    if (tempDir && !KEEP) rmSync(tempDir, { recursive: true, force: true });
  })();
  return cleaningUp;
}

process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    console.error(`\n${signal}: stopping the bench and its processes...`);
    const force = setTimeout(() => process.exit(130), 30_000);
    force.unref();
    cleanup().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------------------------
// Measurements

let app: Started;
let koa: Started | null = null;
let origin = '';
const foreignLoad = new ForeignLoad(() => [...children].map((c) => c.pid ?? 0).filter(Boolean));
let rssPeak = 0;
/** The process whose RSS the current run reports: the app, or the Koa baseline for its own rows. */
let watchPid = 0;
setInterval(() => {
  if (!watchPid) return;
  const rss = rssMb(watchPid);
  if (Number.isFinite(rss)) {
    rssPeak = Math.max(rssPeak, rss);
  }
}, 200).unref();

interface Measured {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  requests: number;
  rssPeak: number;
  rssEnd: number;
  foreign: number;
  load?: LoadResult;
}

async function measureWindow<T>(
  slug: string,
  body: () => Promise<T>,
  pid = app.pid,
): Promise<{ value: T; rssPeak: number; rssEnd: number; foreign: number }> {
  const profiling = PROFILE_DIR && !profiled.has(slug) && pid === app.pid;
  if (profiling) await app.rpc.call('profileStart');
  watchPid = pid;
  rssPeak = rssMb(pid);
  foreignLoad.start();
  const value = await body();
  const { foreign } = foreignLoad.stop();
  const rssEnd = rssMb(pid);
  watchPid = app.pid;
  if (profiling) {
    profiled.add(slug);
    await app.rpc.call('profileStop', { file: path.join(PROFILE_DIR, `${slug}.cpuprofile`) });
  }
  return { value, rssPeak: Math.max(rssPeak, rssEnd), rssEnd, foreign };
}
const profiled = new Set<string>();

async function load(
  slug: string,
  spec: Omit<LoadSpec, 'connections' | 'durationSec' | 'maxRequests'> & Partial<LoadSpec>,
  pid = app.pid,
) {
  const full: LoadSpec = { connections: CONNECTIONS, durationSec: DURATION, maxRequests: MAX_REQUESTS, ...spec };
  const w = await measureWindow(slug, () => runLoad(full), pid);
  await settle();
  return toMeasured(w.value, w);
}

function toMeasured(result: LoadResult, w: { rssPeak: number; rssEnd: number; foreign: number }): Measured {
  return {
    rps: result.rps,
    p50: result.p50,
    p99: result.p99,
    errors: result.errors,
    requests: result.responses,
    rssPeak: w.rssPeak,
    rssEnd: w.rssEnd,
    foreign: w.foreign,
    load: result,
  };
}

/** After a run: waits until the app has answered every request and its engine queue is idle. */
async function settle() {
  const { quiet, active } = await app.rpc.call<{ quiet: boolean; active: number }>(
    'quiesce',
    { timeoutMs: 60_000 },
    70_000,
  );
  if (!quiet) console.warn(`  (the app was still busy 60 s after the run: ${active} request(s) in flight)`);
  await new Promise((r) => setTimeout(r, 200));
}

// Rows of the table, in order; each row collects the runs of its scenario.
interface Row {
  name: string;
  runs: Measured[];
  vsEngine?: boolean;
  note: string[];
}
const rows = new Map<string, Row>();
function row(name: string): Row {
  let r = rows.get(name);
  if (!r) {
    r = { name, runs: [], note: [] };
    rows.set(name, r);
  }
  return r;
}
function record(name: string, measured: Measured): Measured {
  row(name).runs.push(measured);
  return measured;
}

const median = (values: number[]) => {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (!v.length) return Number.NaN;
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};
/** The run whose req/s is the median (its latencies are the ones printed). */
function medianRun(r: Row): Measured {
  const sorted = [...r.runs].sort((a, b) => a.rps - b.rps);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}
const rpsOf = (name: string) => {
  const r = rows.get(name);
  return r ? median(r.runs.map((m) => m.rps)) : Number.NaN;
};

// ---------------------------------------------------------------------------------------------
// Formatting

const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-');
const rate = (n: number) =>
  !Number.isFinite(n) ? '-' : n >= 100 ? int(n) : n >= 10 ? n.toFixed(1) : n.toFixed(2).replace(/\.?0+$/, '') || '0';
const ms = (n: number) =>
  !Number.isFinite(n) ? '-' : n >= 100 ? int(n) : n >= 10 ? n.toFixed(1) : n >= 1 ? n.toFixed(2) : n.toFixed(3);
const pct = (n: number) =>
  !Number.isFinite(n) ? '-' : n >= 10 ? `${n.toFixed(0)}%` : n >= 1 ? `${n.toFixed(1)}%` : `${n.toFixed(2)}%`;
const mb = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : '-');

function table(header: string[], body: string[][], align: Array<'l' | 'r'>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  const cell = (text: string, i: number) => (align[i] === 'r' ? text.padStart(widths[i]) : text.padEnd(widths[i]));
  const line = (cells: string[]) => `| ${cells.map((c, i) => cell(c ?? '', i)).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (align[i] === 'r' ? `${'-'.repeat(w + 1)}:` : `:${'-'.repeat(w + 1)}`)).join('|')}|`;
  return [line(header), rule, ...body.map(line)].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Workflows and requests

const outputNode = { type: 'output', config: { value: { ok: true, id: '{{$context.data.id}}' } } };
const MIB = 1024 * 1024;
const specs: WorkflowSpec[] = [
  { name: 'async', sync: false, config: { key: 'bench-async' }, nodes: [outputNode] },
  { name: 'sync', sync: true, config: { key: 'bench-sync' }, nodes: [outputNode] },
  {
    name: 'github',
    sync: true,
    config: { key: 'bench-github', verification: { type: 'github', secret: SECRET } },
    nodes: [outputNode],
  },
  { name: 'ip', sync: false, config: { key: 'bench-ip', ipAllowlist: ['10.0.0.1'] }, nodes: [outputNode] },
  { name: 'body1k', sync: false, config: { key: 'bench-body-1k', maxBodyBytes: 2 * MIB }, nodes: [outputNode] },
  { name: 'body100k', sync: false, config: { key: 'bench-body-100k', maxBodyBytes: 2 * MIB }, nodes: [outputNode] },
  { name: 'body1m', sync: false, config: { key: 'bench-body-1m', maxBodyBytes: 2 * MIB }, nodes: [outputNode] },
  { name: 'flood', sync: false, config: { key: 'bench-flood' }, nodes: [outputNode] },
  { name: 'engineAsync', sync: false, config: { key: 'bench-engine-async' }, nodes: [outputNode] },
  { name: 'soak', sync: false, config: { key: 'bench-soak' }, nodes: [outputNode] },
  {
    name: 'worst',
    sync: false,
    config: { key: 'bench-worst' },
    nodes: [{ type: 'output', config: { value: '{{$context.data}}' } }],
  },
];

const smallBody = Buffer.from(
  JSON.stringify({ id: 12345, event: 'push', repository: { full_name: 'bench/hooks' }, sender: { login: 'bench' } }),
);
/** Just under WEBHOOK_MAX_JSON_KEYS (10,000): 9,999 keys of ~93-character strings, just under 1 MiB. */
function manyKeysBody(): Buffer {
  const entries: string[] = [];
  for (let i = 0; i < 9_999; i++) entries.push(`"k${String(i).padStart(4, '0')}":"${String(i).padEnd(93, 'v')}"`);
  return Buffer.from(`{${entries.join(',')}}`);
}
/** Nested as deep as allowed (64) all through: 8,191 arrays of 63 nested arrays, just under 1 MiB. */
function deepBody(): Buffer {
  // The caps count array items over the whole body (WEBHOOK_MAX_JSON_ARRAY_ITEMS, 10,000): 156
  // items nested 63 deep use 9,984 of them, and their strings fill the body to 1 MiB.
  const item = `${'['.repeat(63)}"${'x'.repeat(6_600)}"${']'.repeat(63)}`;
  return Buffer.from(`[${Array.from({ length: 156 }, () => item).join(',')}]`);
}

/**
 * A fifth client: signs in as root, then reads `workflows:list` one request after another (every
 * 50 ms) until `until()`; returns each request's latency in ms.
 */
async function pollAdmin(until: () => boolean): Promise<{ latencies: number[]; errors: number; first?: string }> {
  const signIn = await fetch(`${origin}/api/auth:signIn`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Authenticator': 'basic' },
    body: JSON.stringify({
      account: process.env.INIT_ROOT_EMAIL ?? 'admin@nocobase.com',
      password: process.env.INIT_ROOT_PASSWORD ?? 'admin123',
    }),
  });
  const signed = (await signIn.json()) as any;
  if (signIn.status !== 200) throw new Error(`admin sign-in failed: ${signIn.status} ${JSON.stringify(signed)}`);
  const headers = { Authorization: `Bearer ${signed.data.token}` };
  const latencies: number[] = [];
  let errors = 0;
  let first: string | undefined;
  while (!until()) {
    const t = performance.now();
    try {
      const res = await fetch(`${origin}/api/workflows:list?pageSize=20`, { headers });
      await res.arrayBuffer();
      if (res.status === 200) latencies.push(performance.now() - t);
      else {
        errors++;
        first ??= `HTTP ${res.status}`;
      }
    } catch (error) {
      errors++;
      first ??= (error as Error).message;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { latencies, errors, first };
}

function sizedBody(bytes: number): Buffer {
  const head = '{"id":1,"event":"bench","pad":"';
  const tail = '"}';
  return Buffer.from(head + 'x'.repeat(Math.max(0, bytes - head.length - tail.length)) + tail);
}
const json = { 'content-type': 'application/json' };
const github = (body: Buffer, forged = false) => ({
  ...json,
  'x-github-event': 'push',
  'x-hub-signature-256': forged
    ? `sha256=${'0'.repeat(64)}`
    : `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
});

/** Whether the app has the no-op floor at the webhook route's place (see server.ts). */
let noopFloor = false;
let created: Record<string, { id: string; key: string; webhookKey: string }> = {};
const hook = (name: string) => `${origin}/api/webhooks/${created[name].webhookKey}`;

// Notes and verifications that go under the table.
/** Every async run's check: each 202's delivery id found as an execution when the load ended. */
const verifications: Array<{ ok: boolean; accepted: number; found: number }> = [];
const notes: string[] = [];
const facts: Record<string, number | string | boolean> = {};

async function execStats(name: string): Promise<ExecStats> {
  return app.rpc.call('execStats', { workflowId: created[name].id });
}

/**
 * After an async run: checks that every 202's delivery id is stored as an execution (eventKey)
 * right when the load ended, then optionally waits for the engine to run them all.
 */
async function verifyAccepted(name: string, label: string, measured: Measured) {
  const stats = await execStats(name);
  const ids = measured.load?.ids ?? [];
  const accepted = measured.load?.statuses?.['202'] ?? 0;
  const file = path.join(tempDir, `ids-${name}-${Date.now()}.txt`);
  writeFileSync(file, ids.join('\n'));
  const check = await app.rpc.call<{ ids: number; found: number; unique: number }>('verifyIds', {
    workflowId: created[name].id,
    file,
  });
  rmSync(file, { force: true });
  const ok = check.found === accepted && check.ids === accepted && check.unique === accepted;
  verifications.push({ ok, accepted, found: check.found });
  const text = `${label}: ${int(accepted)} answered 202, ${int(check.found)} of their delivery ids stored as executions when the load ended (${int(stats.total)} rows, ${int(stats.resolved)} already resolved)${ok ? '' : ' — MISMATCH'}`;
  return { ok, accepted, found: check.found, stats, text };
}

async function purge(name: string) {
  return app.rpc.call<{ deleted: number; idle: boolean }>(
    'purge',
    { workflowId: created[name].id, timeoutMs: 120_000 },
    150_000,
  );
}

// ---------------------------------------------------------------------------------------------

/** The commit the app is started from, and whether src/ or scripts/ differ from it. */
function revision(): string {
  try {
    let commit = execSync('git rev-parse --short HEAD', { cwd: root }).toString().trim();
    if (execSync('git status --porcelain -- src scripts', { cwd: root }).toString().trim()) {
      commit += ' + uncommitted changes in src/ or scripts/';
    }
    return commit;
  } catch {
    return 'unknown';
  }
}

async function main() {
  const startedAt = new Date();
  facts.revision = revision();
  const loadBefore = os.loadavg();
  tempDir = mkdtempSync(path.join(os.tmpdir(), 'webhook-bench-'));
  if (PROFILE_DIR) mkdirSync(PROFILE_DIR, { recursive: true });
  database = await createBenchDatabase(tempDir);
  console.log(
    `webhook bench: ${database.label}; ${CONNECTIONS} connections, ${DURATION} s per run, ${ROUNDS} round(s); temp ${tempDir}`,
  );

  // The baseline and the app, each in its own process.
  const koaSpawned = runs('baseline')
    ? spawnNode('koa baseline', 'koa-baseline.ts', [], process.env, path.join(tempDir, 'koa.log'))
    : null;
  const serverEnv: NodeJS.ProcessEnv = {
    ...process.env,
    ...database.env,
    STORAGE_PATH: path.join(tempDir, 'storage'),
    APP_PORT: '0',
    WEBHOOK_DEMO: 'off',
    LOGGER_TRANSPORT: 'console',
    LOGGER_LEVEL: process.env.LOGGER_LEVEL ?? 'error',
    DB_LOGGING: 'off',
  };
  const t0 = performance.now();
  const serverSpawned = spawnNode(
    'app server',
    'server.ts',
    [],
    serverEnv,
    path.join(tempDir, 'server.log'),
    process.env.BENCH_SERVER_NODE_OPTIONS,
    // Node options that NODE_OPTIONS refuses, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`.
    (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean),
  );
  if (koaSpawned) koa = await waitReady('koa baseline', koaSpawned, 60);
  app = await waitReady('app server', serverSpawned, START_TIMEOUT);
  origin = `http://127.0.0.1:${app.port}`;
  facts.startSeconds = (performance.now() - t0) / 1000;
  console.log(`app ready at ${origin} (pid ${app.pid}) in ${facts.startSeconds.toFixed(1)} s; creating workflows...`);
  created = await app.rpc.call('setup', specs);
  // Rejection rows measure what a rejection costs: the per-source budget for failed
  // authentication (which holds a flood's 401s) is off for them, and on for the flood test.
  const budget = await app.rpc.call<{ perSecond: number; delayMs: number }>('authBudget', { on: true });
  facts.authBudget = `${budget.perSecond} failures/s per source, then ${budget.delayMs} ms hold`;
  await app.rpc.call('authBudget', { on: false });
  notes.push(
    `The per-source budget for failed authentication (${facts.authBudget}) is off in the rejection and routing rows, which measure the cost of a rejection, and on (as shipped) in the flood test, unless the row says otherwise`,
  );
  const { order: fullOrder, natural } = (await app.rpc.call('middlewareOrder')) as {
    order: string[];
    natural: string[] | null;
  };
  noopFloor = fullOrder.includes('bench-noop-position');
  const order = fullOrder.filter((t) => !t.startsWith('bench-'));
  const webhookAt = order.indexOf('webhooks');
  facts.middleware = `NocoBase middleware a webhook request passes before the webhook route: ${
    order.slice(0, webhookAt).join(' > ') || '(none)'
  }`;
  console.log(facts.middleware);
  const nocobaseOnly = order.filter((t) => t !== 'webhooks' && t !== 'webhookMaskSecrets');
  if (natural && natural.join('>') !== nocobaseOnly.join('>')) {
    const warning = `WARNING: the plugin's middleware changes the order of NocoBase's own middleware for every request. Without it: ${natural.join(' > ')}. With it: ${nocobaseOnly.join(' > ')}`;
    console.warn(warning);
    notes.push(warning);
  }
  facts.rssAfterStart = rssMb(app.pid);

  // Warm-up (not recorded): JIT, connection pools, caches.
  console.log('warming up...');
  const warm = { durationSec: 1 };
  if (koa)
    await runLoad({
      ...warm,
      url: `http://127.0.0.1:${koa.port}/hook`,
      headers: json,
      body: smallBody,
      connections: CONNECTIONS,
      maxRequests: MAX_REQUESTS,
      expect: [200],
    });
  const warmups: Array<[Group, string, Record<string, string>, number]> = [
    ['reject', hook('github'), github(smallBody, true), 401],
    ['sync', hook('sync'), json, 200],
    ['sync', hook('github'), github(smallBody), 200],
    ['async', hook('async'), json, 202],
  ];
  for (const [group, url, headers, expect] of warmups) {
    if (!runs(group)) continue;
    await runLoad({
      ...warm,
      url,
      headers,
      body: smallBody,
      connections: CONNECTIONS,
      maxRequests: MAX_REQUESTS,
      expect: [expect],
    });
    await settle();
  }
  if (runs('async')) await purge('async');
  await settle();

  // 1. Interleaved rounds of the quick scenarios: baseline, rejections, sync, the engine alone.
  for (let round = 1; round <= ROUNDS; round++) {
    if (!['baseline', 'reject', 'sync', 'engine'].some((g) => runs(g as Group))) break;
    console.log(`round ${round}/${ROUNDS}: baseline, rejections, sync, engine...`);
    if (koa && runs('baseline')) {
      record(
        'Koa baseline: bare route + JSON body parser',
        await load(
          'koa',
          { url: `http://127.0.0.1:${koa.port}/hook`, headers: json, body: smallBody, expect: [200] },
          koa.pid,
        ),
      );
    }
    if (runs('baseline')) {
      record(
        'floor: node:http 204 in the app process',
        await load('noop-raw', { url: `${origin}/bench-noop/raw`, headers: json, body: smallBody, expect: [204] }),
      );
      if (noopFloor)
        record(
          "floor: NocoBase no-op 204 at the webhook route's place",
          await load('noop-position', {
            url: `${origin}/api/bench-noop/position`,
            headers: json,
            body: smallBody,
            expect: [204],
          }),
        );
    }
    if (runs('reject')) {
      record(
        'reject: forged GitHub signature (401)',
        await load('reject-forged', {
          url: hook('github'),
          headers: github(smallBody, true),
          body: smallBody,
          expect: [401],
        }),
      );
      record(
        'reject: unknown key (404)',
        await load('reject-unknown', {
          url: `${origin}/api/webhooks/bench-no-such-key`,
          headers: json,
          body: smallBody,
          expect: [404],
        }),
      );
      record(
        'reject: IP not allowed (403)',
        await load('reject-ip', { url: hook('ip'), headers: json, body: smallBody, expect: [403] }),
      );
    }
    if (runs('sync')) {
      record(
        `sync: one Output node, ${CONNECTIONS} conn.`,
        await load('sync', { url: hook('sync'), headers: json, body: smallBody, expect: [200] }),
      );
      row(`sync: one Output node, ${CONNECTIONS} conn.`).vsEngine = true;
      record(
        `sync + GitHub signature, ${CONNECTIONS} conn.`,
        await load('sync-github', { url: hook('github'), headers: github(smallBody), body: smallBody, expect: [200] }),
      );
      row(`sync + GitHub signature, ${CONNECTIONS} conn.`).vsEngine = true;
    }
    if (runs('engine') || runs('sync')) {
      await engineSync(1);
      // On SQLite, 32 trigger() calls in flight can hang the engine for good: measured last.
      if (database?.dialect !== 'sqlite') await engineSync(CONNECTIONS);
    }
  }

  // 2. Sync at lower concurrency: zero errors at any concurrency.
  if (runs('sync')) {
    for (const c of [1, 8]) {
      console.log(`sync at ${c} connection(s)...`);
      record(
        `sync: one Output node, ${c} conn.`,
        await load(`sync-${c}`, {
          url: hook('sync'),
          headers: json,
          body: smallBody,
          expect: [200],
          connections: c,
          durationSec: Math.max(2, Math.ceil(DURATION / 2)),
        }),
      );
    }
  }

  // 3. The engine alone on an async workflow: how fast its own queue drains a burst.
  let engineAsyncRate = Number.NaN;
  if (runs('engine') || runs('async')) {
    console.log(`engine alone, async: ${ENGINE_ASYNC_COUNT} events via trigger()...`);
    const w = await measureWindow('engine-async', () =>
      app.rpc.call<{ count: number; done: number; failed: number; seconds: number; rate: number }>(
        'engineAsync',
        {
          webhookKey: created.engineAsync.webhookKey,
          workflowId: created.engineAsync.id,
          count: ENGINE_ASYNC_COUNT,
          timeoutMs: DRAIN_TIMEOUT * 1000,
        },
        (DRAIN_TIMEOUT + 60) * 1000,
      ),
    );
    const e = w.value;
    engineAsyncRate = e.rate;
    facts.engineAsync = `${e.done} of ${e.count} executions final in ${e.seconds.toFixed(1)} s (${e.failed} failed)`;
    await purge('engineAsync');
  }

  // 4. Async accept, then the drain of its backlog.
  let drainRate = Number.NaN;
  if (runs('async')) {
    console.log('async accept...');
    const m = record(
      'async accept (202), one Output node',
      await load('async', { url: hook('async'), headers: json, body: smallBody, expect: [202], collectIds: true }),
    );
    const asyncCheck = await verifyAccepted('async', 'async accept', m);
    notes.push(asyncCheck.text);
    const backlog = asyncCheck.stats.queueing + asyncCheck.stats.started;
    console.log(`draining ${int(backlog)} accepted executions (up to ${DRAIN_TIMEOUT} s)...`);
    const drainStart = performance.now();
    let stats = asyncCheck.stats;
    const w = await measureWindow('async-drain', async () => {
      while (stats.queueing + stats.started > 0 && performance.now() - drainStart < DRAIN_TIMEOUT * 1000) {
        await new Promise((r) => setTimeout(r, 250));
        stats = await execStats('async');
      }
    });
    const seconds = (performance.now() - drainStart) / 1000;
    const left = stats.queueing + stats.started;
    const done = backlog - left;
    drainRate = done / seconds;
    facts.drain = `${int(done)} of ${int(backlog)} backlog executions finished in ${seconds.toFixed(1)} s after the load ended${left ? ` (timed out, ${int(left)} left: about ${int(left / drainRate)} s more)` : ''}; ${int(stats.failed)} failed; server RSS peak ${mb(w.rssPeak)} MB`;
    notes.push(`async drain: ${facts.drain}`);
    if (left) await purge('async');
  }

  // 5. Bodies of 1 KB, 100 KB and 1 MB to an async webhook.
  if (runs('bodies')) {
    for (const [name, bytes, label] of [
      ['body1k', 1024, '1 KB'],
      ['body100k', 100 * 1024, '100 KB'],
      ['body1m', MIB, '1 MB'],
    ] as const) {
      console.log(`async accept, ${label} bodies...`);
      const body = sizedBody(bytes);
      const m = record(
        `async accept, ${label} JSON body`,
        await load(`body-${name}`, { url: hook(name), headers: json, body, expect: [202], collectIds: true }),
      );
      const check = await verifyAccepted(name, `${label} bodies`, m);
      notes.push(check.text);
      await purge(name);
    }
  }

  // 6. Flood: accepted traffic alone vs. while forged requests flood the same server.
  if (runs('flood')) {
    for (let round = 1; round <= ROUNDS; round++) {
      console.log(`flood round ${round}/${ROUNDS}: accepted alone, then with a forged-signature flood...`);
      const alone = record(
        'flood test: async accept alone',
        await load('flood-alone', {
          url: hook('flood'),
          headers: json,
          body: smallBody,
          expect: [202],
          collectIds: true,
        }),
      );
      const checkAlone = await verifyAccepted('flood', 'flood test, alone', alone);
      if (!checkAlone.ok) notes.push(checkAlone.text);
      await purge('flood');
      for (const on of [true, false]) {
        await app.rpc.call('authBudget', { on });
        const suffix = on ? '' : ', failure budget off';
        const { accepted, flood } = await withFlood(() =>
          load(`flood-with${on ? '' : '-nobudget'}`, {
            url: hook('flood'),
            headers: json,
            body: smallBody,
            expect: [202],
            collectIds: true,
          }),
        );
        record(`flood test: async accept during the flood${suffix}`, accepted);
        record(`flood test: the forged flood itself (401)${suffix}`, flood);
        const checkWith = await verifyAccepted('flood', `flood test, with flood${suffix}`, accepted);
        if (!checkWith.ok) notes.push(checkWith.text);
        await purge('flood');
      }
      await app.rpc.call('authBudget', { on: false });
    }
  }

  // 7. Routing: the same scenarios with 10,000 more enabled webhook workflows, interleaved.
  if (runs('routing') && ROUTES > 0) {
    console.log(`routing: creating ${int(ROUTES)} more enabled webhook workflows...`);
    const setup = await app.rpc.call<{ ms: number; indexSize: number }>('bulkWorkflows', { count: ROUTES }, 600_000);
    facts.routingSetup = `${int(ROUTES)} enabled webhook workflows created in ${(setup.ms / 1000).toFixed(1)} s (bulk INSERT per 500 + the engine's start-up toggle per workflow); index holds ${int(setup.indexSize)} keys`;
    const few = specs.length;
    const many = setup.indexSize;
    for (let round = 1; round <= ROUNDS; round++) {
      console.log(`routing round ${round}/${ROUNDS}...`);
      for (const state of ['many', 'few'] as const) {
        if (state === 'few') {
          const t = await app.rpc.call<{ ms: number; indexSize: number }>('toggleRouting', { enabled: false }, 600_000);
          facts.routingToggle = `${int(ROUTES)} workflows switched off/on in ${(t.ms / 1000).toFixed(1)} s`;
        }
        const count = state === 'many' ? many : few;
        record(
          `routing: forged signature (401), ${int(count)} enabled`,
          await load(`routing-${state}-forged`, {
            url: hook('github'),
            headers: github(smallBody, true),
            body: smallBody,
            expect: [401],
          }),
        );
        record(
          `routing: sync one node, ${int(count)} enabled`,
          await load(`routing-${state}-sync`, { url: hook('sync'), headers: json, body: smallBody, expect: [200] }),
        );
        row(`routing: sync one node, ${int(count)} enabled`).vsEngine = true;
        if (state === 'few') await app.rpc.call('toggleRouting', { enabled: true }, 600_000);
      }
    }
    facts.routingFew = few;
    facts.routingMany = many;
    const one = await app.rpc.call<{ ms: number }>(
      'createOne',
      { name: 'one-more', sync: false, config: { key: 'bench-one-more' }, nodes: [outputNode] },
      600_000,
    );
    facts.createOne = `one more webhook workflow created and enabled through the repository (all hooks, key check) with ${int(many)} enabled: ${int(one.ms)} ms`;
  }

  // 8. Memory: RSS at a steady rate, after warm-up and at the end.
  let soak: { warm: number; end: number; seconds: number; stored: boolean } | null = null;
  if (runs('soak') && SOAK > 0) {
    const warmup = Math.min(60, Math.max(5, SOAK / 4));
    console.log(`soak: async accept at ${SOAK_RATE} req/s for ${SOAK} s (warm-up ${warmup} s)...`);
    const samples: Array<[number, number]> = [];
    const started = performance.now();
    const timer = setInterval(() => samples.push([(performance.now() - started) / 1000, rssMb(app.pid)]), 1000);
    const m = record(
      `soak: async accept at ${SOAK_RATE} req/s for ${SOAK} s`,
      await load('soak', {
        url: hook('soak'),
        headers: json,
        body: smallBody,
        expect: [202],
        collectIds: true,
        durationSec: SOAK,
        overallRate: SOAK_RATE,
        maxRequests: Math.ceil(SOAK_RATE * SOAK * 1.2) + 100,
      }),
    );
    clearInterval(timer);
    const at = (from: number, to: number) => median(samples.filter(([t]) => t >= from && t <= to).map(([, v]) => v));
    const check = await verifyAccepted('soak', 'soak', m);
    soak = {
      warm: at(warmup - 5, warmup),
      end: at(SOAK - 5, SOAK + 5),
      seconds: SOAK,
      stored: check.ok,
    };
    notes.push(check.text);
    await purge('soak');
  }

  // 10. Issue 10: the admin API while 4 connections send the worst 1 MiB JSON bodies the caps allow
  // to an async webhook whose workflow renders them (BENCH_ONLY=worst-bodies).
  if (runs('worst-bodies')) {
    const keysBody = manyKeysBody();
    const nestedBody = deepBody();
    console.log(
      `worst bodies: 4 conn. (${int(keysBody.length)}-byte 9,999-key and ${int(nestedBody.length)}-byte depth-64 JSON) for ${WORST_DURATION} s, admin API polled alongside...`,
    );
    let done = false;
    const w = await measureWindow('worst-bodies', async () => {
      const poll = pollAdmin(() => done);
      const spec = { url: hook('worst'), headers: json, expect: [202], durationSec: WORST_DURATION, connections: 2 };
      const loads = await Promise.all([
        runLoad({ ...spec, body: keysBody, maxRequests: MAX_REQUESTS }),
        runLoad({ ...spec, body: nestedBody, maxRequests: MAX_REQUESTS }),
      ]);
      done = true;
      return { loads, admin: await poll };
    });
    await settle();
    const { loads, admin } = w.value;
    const sorted = [...admin.latencies].sort((a, b) => a - b);
    const pick = (p: number) =>
      sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : Number.NaN;
    const names = ['worst bodies: 9,999-key 1 MiB JSON, 2 conn.', 'worst bodies: depth-64 1 MiB JSON, 2 conn.'];
    for (const [i, l] of loads.entries()) record(names[i], toMeasured(l, w));
    record('worst bodies: admin workflows:list alongside (1 client, every 50 ms)', {
      rps: sorted.length / WORST_DURATION,
      p50: pick(50),
      p99: pick(99),
      errors: admin.errors,
      requests: sorted.length + admin.errors,
      rssPeak: w.rssPeak,
      rssEnd: w.rssEnd,
      foreign: w.foreign,
    });
    facts.worstAdminMax = sorted[sorted.length - 1] ?? Number.NaN;
    const stats = await execStats('worst');
    notes.push(
      `worst bodies: ${int(loads.reduce((n, l) => n + l.expected, 0))} accepted in ${WORST_DURATION} s; admin reads: ${int(sorted.length)}, max ${ms(Number(facts.worstAdminMax))} ms${admin.first ? `, first error ${admin.first}` : ''}; executions when the load ended: ${int(stats.resolved)} resolved, ${int(stats.queueing + stats.started)} waiting, ${int(stats.failed)} failed (the waiting ones are deleted before the next scenario)`,
    );
    await purge('worst');
  }

  // 9. SQLite: the engine alone with 32 trigger() calls in flight, last, as it may hang the app.
  if ((runs('engine') || runs('sync')) && database?.dialect === 'sqlite') {
    console.log(`engine alone, ${CONNECTIONS} trigger() calls in flight (last: on SQLite this may hang the app)...`);
    for (let round = 1; round <= ROUNDS; round++) {
      const e = await engineSync(CONNECTIONS, 15_000);
      if (e.stuck) break;
    }
  }

  const loadAfter = os.loadavg();
  await report({ startedAt, loadBefore, loadAfter, engineAsyncRate, drainRate, soak });
}

const engineRowName = (concurrency: number) => `engine alone: trigger() x${concurrency} in flight, in-process`;

/** The engine's own sync rate: direct trigger() calls inside the app process, `concurrency` in flight. */
async function engineSync(concurrency: number, graceMs = 20_000): Promise<EngineRunResult> {
  const w = await measureWindow(`engine-sync-${concurrency}`, () =>
    app.rpc.call<EngineRunResult>(
      'engineSync',
      {
        webhookKey: created.sync.webhookKey,
        concurrency,
        durationMs: DURATION * 1000,
        maxRuns: MAX_REQUESTS,
        graceMs,
      },
      DURATION * 1000 + graceMs + 60_000,
    ),
  );
  const e = w.value;
  if (!e.stuck) await settle();
  record(engineRowName(concurrency), {
    rps: e.rate,
    p50: e.p50,
    p99: e.p99,
    errors: e.errors,
    requests: e.runs + e.errors,
    rssPeak: w.rssPeak,
    rssEnd: w.rssEnd,
    foreign: w.foreign,
  });
  if (e.firstError) notes.push(`engine alone x${concurrency}: ${e.firstError}`);
  return e;
}

/** Runs `body` while a second autocannon, in a process of its own, floods forged signatures. */
async function withFlood(body: () => Promise<Measured>): Promise<{ accepted: Measured; flood: Measured }> {
  const spec: LoadSpec = {
    url: hook('github'),
    headers: github(smallBody, true),
    bodyBase64: smallBody.toString('base64'),
    connections: CONNECTIONS,
    durationSec: DURATION + 2,
    maxRequests: MAX_REQUESTS,
    expect: [401],
  };
  const spawned = spawnNode(
    'flood loader',
    'load.ts',
    [JSON.stringify(spec)],
    process.env,
    path.join(tempDir, 'flood.log'),
  );
  const { child } = spawned;
  const result = new Promise<LoadResult>((resolve, reject) => {
    child.on('message', (message: any) => message?.result && resolve(message.result));
    child.once('exit', (code) =>
      reject(new Error(`flood loader exited (${code}) without a result\n${spawned.tail()}`)),
    );
  });
  result.catch(() => undefined);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`flood loader did not start\n${spawned.tail()}`)), 60_000);
    child.on('message', (message: any) => {
      if (message?.started) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', () => clearTimeout(timer));
  });
  await new Promise((r) => setTimeout(r, 500));
  const accepted = await body();
  const timer = setTimeout(() => child.kill('SIGKILL'), (DURATION + 60) * 1000);
  const floodResult = await result;
  clearTimeout(timer);
  return {
    accepted,
    flood: toMeasured(floodResult, { rssPeak: accepted.rssPeak, rssEnd: accepted.rssEnd, foreign: accepted.foreign }),
  };
}

// ---------------------------------------------------------------------------------------------
// The report

async function report(ctx: {
  startedAt: Date;
  loadBefore: number[];
  loadAfter: number[];
  engineAsyncRate: number;
  drainRate: number;
  soak: { warm: number; end: number; seconds: number; stored: boolean } | null;
}) {
  const koaRps = rpsOf('Koa baseline: bare route + JSON body parser');
  const engineAt1 = rpsOf(engineRowName(1));
  const engineAtN = rpsOf(engineRowName(CONNECTIONS));
  // The engine's own rate: its best at either concurrency (on SQLite, 32 in flight can hang it).
  const engineRps =
    Math.max(Number.isFinite(engineAt1) ? engineAt1 : 0, Number.isFinite(engineAtN) ? engineAtN : 0) || Number.NaN;
  const engineBest = engineAtN >= engineAt1 || !Number.isFinite(engineAt1) ? CONNECTIONS : 1;
  const dialect = database?.dialect ?? 'sqlite';

  const header = [
    'scenario',
    'req/s',
    'min-max',
    'vs Koa',
    'vs engine',
    'p50 ms',
    'p99 ms',
    'errors',
    'RSS MB',
    'other load',
  ];
  const body: string[][] = [];
  for (const r of rows.values()) {
    const rps = median(r.runs.map((m) => m.rps));
    const mid = medianRun(r);
    const spread =
      r.runs.length > 1
        ? `${rate(Math.min(...r.runs.map((m) => m.rps)))}-${rate(Math.max(...r.runs.map((m) => m.rps)))}`
        : '';
    const errors = r.runs.reduce((s, m) => s + m.errors, 0);
    const requests = r.runs.reduce((s, m) => s + m.requests, 0);
    body.push([
      r.name,
      rate(rps),
      spread,
      r.name.startsWith('Koa') ? '100%' : pct((100 * rps) / koaRps),
      r.vsEngine || r.name.startsWith('engine alone: trigger') ? pct((100 * rps) / engineRps) : '',
      ms(mid.p50),
      ms(mid.p99),
      `${int(errors)}/${int(requests)}`,
      mb(Math.max(...r.runs.map((m) => m.rssPeak))),
      `${median(r.runs.map((m) => m.foreign)).toFixed(2)} cores`,
    ]);
  }
  if (Number.isFinite(ctx.engineAsyncRate)) {
    body.push([
      'engine alone, async: drain of a trigger() burst',
      rate(ctx.engineAsyncRate),
      '',
      '',
      '',
      '',
      '',
      '',
      '',
      '',
    ]);
  }
  if (Number.isFinite(ctx.drainRate)) {
    body.push([
      'async backlog drain after the load (executions/s)',
      rate(ctx.drainRate),
      '',
      '',
      pct((100 * ctx.drainRate) / ctx.engineAsyncRate),
      '',
      '',
      '',
      '',
      '',
    ]);
  }
  const main = table(header, body, ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r']);

  // Targets of issue 5.
  type Verdict = [string, boolean | null, string];
  const targets: Verdict[] = [];
  const get = (name: string) => rows.get(name);
  const asyncRow = get('async accept (202), one Output node');
  if (asyncRow) {
    const rps = rpsOf(asyncRow.name);
    const p99 = medianRun(asyncRow).p99;
    targets.push(['async: >= 2,500 accepted req/s', rps >= 2500, `${rate(rps)} req/s`]);
    targets.push(['async: p99 < 50 ms', p99 < 50, `p99 ${ms(p99)} ms`]);
  }
  if (verifications.length) {
    const accepted = verifications.reduce((n, v) => n + v.accepted, 0);
    const found = verifications.reduce((n, v) => n + v.found, 0);
    targets.push([
      'async: every 202 stored before it is sent',
      verifications.every((v) => v.ok),
      `${int(found)} of ${int(accepted)} delivery ids of 202 answers found as executions right when each load ended (${verifications.length} async runs)`,
    ]);
  }
  const syncRow = get(`sync: one Output node, ${CONNECTIONS} conn.`);
  if (syncRow && Number.isFinite(engineRps)) {
    const rps = rpsOf(syncRow.name);
    targets.push([
      "sync: >= 90% of the engine's own rate",
      rps >= 0.9 * engineRps,
      `${rate(rps)} vs ${rate(engineRps)} req/s (engine x${engineBest}, its best; x${engineBest === 1 ? CONNECTIONS : 1}: ${rate(engineBest === 1 ? engineAtN : engineAt1)}) = ${pct((100 * rps) / engineRps)}`,
    ]);
    const syncRows = [...rows.values()].filter((r) => /^sync/.test(r.name));
    const errors = syncRows.reduce((s, r) => s + r.runs.reduce((t, m) => t + m.errors, 0), 0);
    const total = syncRows.reduce((s, r) => s + r.runs.reduce((t, m) => t + m.requests, 0), 0);
    targets.push([
      `sync: zero errors at any concurrency (1, 8, ${CONNECTIONS} conn.)${dialect === 'sqlite' ? '' : ' [target is for SQLite]'}`,
      errors === 0,
      `${int(errors)} errors in ${int(total)} requests`,
    ]);
  }
  const rejectNames = [
    'reject: forged GitHub signature (401)',
    'reject: unknown key (404)',
    'reject: IP not allowed (403)',
  ];
  if (rejectNames.every((n) => rows.has(n))) {
    const values = rejectNames.map(rpsOf);
    targets.push([
      'rejections: >= 15,000 req/s',
      Math.min(...values) >= 15_000,
      `forged ${rate(values[0])}, unknown key ${rate(values[1])}, IP ${rate(values[2])} req/s (floor at the route's place in NocoBase's stack: ${rate(rpsOf("floor: NocoBase no-op 204 at the webhook route's place"))})`,
    ]);
  }
  if (rows.has('flood test: async accept alone')) {
    const alone = rpsOf('flood test: async accept alone');
    const during = rpsOf('flood test: async accept during the flood');
    const slowdown = 100 * (1 - during / alone);
    const p99a = medianRun(get('flood test: async accept alone')!).p99;
    const p99b = medianRun(get('flood test: async accept during the flood')!).p99;
    targets.push([
      'flood: forged requests slow accepted traffic by < 20%',
      slowdown < 20,
      `${rate(alone)} -> ${rate(during)} accepted req/s = ${pct(slowdown)} slower (p99 ${ms(p99a)} -> ${ms(p99b)} ms; flood ${rate(rpsOf('flood test: the forged flood itself (401)'))} req/s, its 401s held past the failure budget)${
        rows.has('flood test: async accept during the flood, failure budget off')
          ? `; with the budget off: ${rate(rpsOf('flood test: async accept during the flood, failure budget off'))} accepted req/s = ${pct(100 * (1 - rpsOf('flood test: async accept during the flood, failure budget off') / alone))} slower, flood ${rate(rpsOf('flood test: the forged flood itself (401), failure budget off'))} req/s`
          : ''
      }`,
    ]);
  }
  if (facts.routingMany) {
    const few = rpsOf(`routing: forged signature (401), ${int(facts.routingFew as number)} enabled`);
    const many = rpsOf(`routing: forged signature (401), ${int(facts.routingMany as number)} enabled`);
    const syncFew = rpsOf(`routing: sync one node, ${int(facts.routingFew as number)} enabled`);
    const syncMany = rpsOf(`routing: sync one node, ${int(facts.routingMany as number)} enabled`);
    const cost = 100 * (1 - many / few);
    targets.push([
      `routing: ${int(facts.routingMany as number)} enabled webhooks cost < 5% against ${facts.routingFew}`,
      cost < 5,
      `forged-signature rejections ${rate(few)} -> ${rate(many)} req/s = ${pct(cost)} (sync ${rate(syncFew)} -> ${rate(syncMany)} req/s = ${pct(100 * (1 - syncMany / syncFew))})`,
    ]);
  }
  if (Number.isFinite(ctx.drainRate) && Number.isFinite(ctx.engineAsyncRate)) {
    const ratio = ctx.drainRate / ctx.engineAsyncRate;
    if (dialect === 'sqlite') {
      targets.push([
        'drain: at least as fast as the engine alone',
        ratio >= 1,
        `${rate(ctx.drainRate)} vs ${rate(ctx.engineAsyncRate)} executions/s = ${ratio.toFixed(2)}x`,
      ]);
    } else {
      targets.push([
        'drain: faster than the engine alone (>= 1.2x) where executions run side by side',
        ratio >= 1.2,
        `${rate(ctx.drainRate)} vs ${rate(ctx.engineAsyncRate)} executions/s = ${ratio.toFixed(2)}x`,
      ]);
    }
  }
  const adminRow = get('worst bodies: admin workflows:list alongside (1 client, every 50 ms)');
  if (adminRow) {
    const m = medianRun(adminRow);
    targets.push([
      'issue 10: admin API p99 < 200 ms while 4 conn. send the worst 1 MiB JSON bodies',
      m.p99 < 200,
      `p50 ${ms(m.p50)} ms, p99 ${ms(m.p99)} ms, max ${ms(Number(facts.worstAdminMax))} ms over ${int(m.requests)} reads; app RSS peak ${mb(m.rssPeak)} MB`,
    ]);
  }
  if (ctx.soak) {
    const delta = ctx.soak.end - ctx.soak.warm;
    targets.push([
      `memory: RSS after the steady run within 50 MB of warm-up${ctx.soak.seconds < 600 ? ` (ran ${ctx.soak.seconds} s; the target asks 600 s: BENCH_SOAK=600)` : ''}`,
      delta <= 50 && ctx.soak.stored,
      `${mb(ctx.soak.warm)} -> ${mb(ctx.soak.end)} MB (${delta >= 0 ? '+' : ''}${delta.toFixed(0)} MB) at ${SOAK_RATE} req/s`,
    ]);
  }
  const targetTable = table(
    ['target (issue 5)', 'result', 'measured'],
    targets.map(([t, ok, m]) => [t, ok === null ? 'n/a' : ok ? 'PASS' : 'MISS', m]),
    ['l', 'l', 'l'],
  );

  const commit = String(facts.revision ?? '');
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const head = [
    `Webhook trigger bench: ${ctx.startedAt.toISOString()}, commit ${commit || 'unknown'}`,
    `Database: ${database?.label}. Node ${process.version}, NocoBase ${pkgVersion('@nocobase/server')}, ${os.cpus().length} x ${cpu}.`,
    `Load: autocannon ${pkgVersion('autocannon')}, ${CONNECTIONS} connections over loopback, ${DURATION} s per run, median of ${ROUNDS} interleaved round(s) where a range is shown. The app, the Koa baseline and the load generator are separate processes.`,
    `Machine load average (1/5/15 min) before ${ctx.loadBefore.map((v) => v.toFixed(2)).join('/')}, after ${ctx.loadAfter.map((v) => v.toFixed(2)).join('/')}; "other load" = cores kept busy by processes that are not the bench's during the run.`,
  ];
  const extra = [
    `App start (install + start) ${Number(facts.startSeconds).toFixed(1)} s; RSS after start ${mb(Number(facts.rssAfterStart))} MB.`,
    `${facts.middleware}.`,
    ...(facts.engineAsync ? [`Engine alone, async burst: ${facts.engineAsync}.`] : []),
    ...notes.map((n) => `${n}.`),
    ...(facts.routingSetup
      ? [`Routing setup: ${facts.routingSetup}; ${facts.routingToggle}; ${facts.createOne}.`]
      : []),
    `errors = responses with another status than the scenario expects + socket errors + timeouts, over all rounds. RSS MB = peak VmRSS of the app process during the run (of the Koa process on its own row). "vs engine" = req/s against the engine's own rate: direct trigger() calls inside the app process on the same sync workflow, the better of 1 and ${CONNECTIONS} in flight, counting (as autocannon does for the HTTP rows) the runs that ended within the run's duration.`,
    PROFILE_DIR
      ? `CPU profiles of the app process (first round of each scenario) in ${PROFILE_DIR}; profiling slows the app, so these figures are not the reference ones.`
      : '',
  ].filter(Boolean);

  const text = [
    head.join('\n'),
    '',
    main,
    '',
    targetTable,
    '',
    ...extra.map((e) => `- ${e}`),
    '',
    `Reproduce: \`npm run bench\` (SQLite), or \`DB_DIALECT=postgres DB_HOST=127.0.0.1 DB_PORT=5432 DB_USER=postgres npm run bench\`.`,
  ].join('\n');
  console.log(`\n${text}\n`);

  const resultsDir = path.join(__dirname, 'results');
  mkdirSync(resultsDir, { recursive: true });
  const file =
    process.env.BENCH_RESULTS ?? path.join(resultsDir, dialect === 'sqlite' ? 'latest.md' : `latest-${dialect}.md`);
  writeFileSync(
    file,
    `# Webhook trigger bench: latest results\n\n${head.join('  \n')}\n\n${main}\n\n## Targets\n\n${targetTable}\n\n## Notes\n\n${extra.map((e) => `- ${e}`).join('\n')}\n\nReproduce: \`npm run bench\` (SQLite), or \`DB_DIALECT=postgres DB_HOST=127.0.0.1 DB_PORT=5432 DB_USER=postgres npm run bench\`. See bench/README.md.\n`,
  );
  console.log(`written to ${path.relative(process.cwd(), file)}`);
}

function pkgVersion(name: string): string {
  try {
    return require(`${name}/package.json`).version;
  } catch {
    return '?';
  }
}

main()
  .then(() => cleanup())
  .then(() => process.exit(0))
  .catch(async (error) => {
    console.error(`\nbench failed: ${error?.stack ?? error}`);
    if (app) console.error(app.tail());
    await cleanup();
    process.exit(1);
  });
