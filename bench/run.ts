/**
 * `npm run bench`: measures this plugin where users run it, the full NocoBase application
 * (`nocobase-v1 start` of a stock NocoBase 2.2.15 app with the plugin installed from its tarball,
 * bench/full-app.ts, driven over HTTP only), and beside it the light runner (`app.callback()` on a
 * bare `http.createServer`, bench/server.ts, driven over IPC); both on a fresh database of their
 * own (SQLite file by default, PostgreSQL / MariaDB by DB_*), against a bare Koa route
 * (bench/koa-baseline.ts) measured in the same run. Prints one table with both columns, the
 * targets of issue 14 with PASS or MISS, and writes the same as Markdown to bench/results/.
 * See bench/README.md for the method and the knobs.
 */
import { type ChildProcess, execSync, spawn } from 'node:child_process';
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { encrypt as wecomEncrypt, getSignature as wecomSignature } from '@wecom/crypto';
import { type BenchDatabase, createBenchDatabase } from './db';
import { FullApp, packPlugins } from './full-app';
import { type LoadResult, type LoadSpec, runLoad } from './load';
import { type EngineRunResult, Rpc, type WorkflowSpec } from './protocol';
import { ForeignLoad, rssMb } from './system';
import { FLOOR_KOA, FLOOR_POSITION, FLOOR_RAW, fullTarget, lightTarget, type Target, type TargetId } from './targets';

const root = path.resolve(__dirname, '..');

function numberEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number, got "${raw}"`);
  return value;
}

const DURATION = numberEnv('BENCH_DURATION', 4);
const CONNECTIONS = numberEnv('BENCH_CONNECTIONS', 32);
const ROUNDS = Math.max(1, Math.round(numberEnv('BENCH_ROUNDS', 3)));
const FLOOD_ROUNDS = Math.max(1, Math.round(numberEnv('BENCH_FLOOD_ROUNDS', 2)));
const ROUTES = Math.round(numberEnv('BENCH_ROUTES', 10_000));
const SOAK = numberEnv('BENCH_SOAK', 60);
const SOAK_RATE = numberEnv('BENCH_SOAK_RATE', 50);
const DRAIN_TIMEOUT = numberEnv('BENCH_DRAIN_TIMEOUT', 400);
const START_TIMEOUT = numberEnv('BENCH_START_TIMEOUT', 240);
const BURST = Math.round(numberEnv('BENCH_BURST', 10_000));
const PROFILE_DIR = process.env.BENCH_PROFILE ? path.resolve(process.env.BENCH_PROFILE) : null;
const KEEP = process.env.BENCH_KEEP === '1';
const APP_DIR = path.resolve(process.env.BENCH_APP_DIR ?? path.join(root, '.bench-app'));
const ALL_TARGETS: TargetId[] = ['full', 'light'];
const TARGETS = (process.env.BENCH_TARGETS ?? 'full,light')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean) as TargetId[];
for (const t of TARGETS) {
  if (!ALL_TARGETS.includes(t)) throw new Error(`BENCH_TARGETS: unknown target "${t}" (full, light)`);
}
const ALL_GROUPS = [
  'baseline',
  'reject',
  'sync',
  'engine',
  'flood',
  'async',
  'burst',
  'bodies',
  'routing',
  'soak',
  'worst-bodies',
] as const;
type Group = (typeof ALL_GROUPS)[number];
/** Groups that run only when BENCH_ONLY names them (the default run stays near 10 minutes). */
const OPT_IN: Group[] = ['bodies', 'routing', 'soak', 'worst-bodies'];
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
const databases: BenchDatabase[] = [];
let cleaningUp: Promise<void> | null = null;
let full: FullApp | null = null;
let lightChild: { child: ChildProcess; rpc: Rpc; tail: () => string } | null = null;

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
      resolve({ child, rpc: new Rpc(child, name), port: message.port, pid: message.pid, tail: spawned.tail });
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
    await Promise.all([
      ...[...children].map((child) =>
        stopChild(child, 25_000, lightChild && child === lightChild.child ? lightChild.rpc : undefined),
      ),
      full?.stop(),
    ]);
    for (const database of databases.splice(0)) {
      await database.drop().catch((error) => console.error(`could not drop the bench database: ${error.message}`));
    }
    if (tempDir && !KEEP) rmSync(tempDir, { recursive: true, force: true });
  })();
  return cleaningUp;
}

process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
  full?.killNow();
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    console.error(`\n${signal}: stopping the bench and its processes...`);
    const force = setTimeout(() => process.exit(130), 30_000);
    force.unref();
    cleanup().finally(() => process.exit(130));
  });
}

/** A free loopback port for the full app (its CLI takes a port, not 0). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Every process under the bench's children (the full app runs as npx > CLI > node). */
function descendants(pids: number[]): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {}
  }
  const out = new Set(pids);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, ppid] of parentOf) {
      if (!out.has(pid) && out.has(ppid)) {
        out.add(pid);
        grew = true;
      }
    }
  }
  return [...out];
}

// ---------------------------------------------------------------------------------------------
// Measurements

let koa: Started | null = null;
const targets: Target[] = [];
const foreignLoad = new ForeignLoad(() =>
  descendants([...[...children].map((c) => c.pid ?? 0), full?.child?.pid ?? 0].filter(Boolean)),
);
let rssPeak = 0;
/** The process whose RSS the current run reports. */
let watchPid = 0;
setInterval(() => {
  if (!watchPid) return;
  const rss = rssMb(watchPid);
  if (Number.isFinite(rss)) rssPeak = Math.max(rssPeak, rss);
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

const profiled = new Set<string>();

async function measureWindow<T>(
  target: Target | null,
  slug: string,
  body: () => Promise<T>,
  pid = target?.pid ?? 0,
): Promise<{ value: T; rssPeak: number; rssEnd: number; foreign: number }> {
  const key = `${target?.id}-${slug}`;
  const profiling = PROFILE_DIR && target && !profiled.has(key);
  if (profiling) await target.profileStart();
  watchPid = pid;
  rssPeak = rssMb(pid);
  foreignLoad.start();
  const value = await body();
  const { foreign } = foreignLoad.stop();
  const rssEnd = rssMb(pid);
  watchPid = 0;
  if (profiling) {
    profiled.add(key);
    await target.profileStop(path.join(PROFILE_DIR, `${key}.cpuprofile`));
  }
  return { value, rssPeak: Math.max(rssPeak, rssEnd), rssEnd, foreign };
}

async function load(
  target: Target | null,
  slug: string,
  spec: Omit<LoadSpec, 'connections' | 'durationSec' | 'maxRequests'> & Partial<LoadSpec>,
  pid?: number,
) {
  const fullSpec: LoadSpec = { connections: CONNECTIONS, durationSec: DURATION, maxRequests: MAX_REQUESTS, ...spec };
  const w = await measureWindow(target, slug, () => runLoad(fullSpec), pid);
  if (target) await target.settle();
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

// Rows of the table, in order; each row collects the runs of its scenario per target.
interface Row {
  name: string;
  runs: Partial<Record<TargetId, Measured[]>>;
  vsEngine?: boolean;
  /** How the row treats its backlog, printed after its name. */
  backlog?: string;
}
const rows = new Map<string, Row>();
function row(name: string): Row {
  let r = rows.get(name);
  if (!r) {
    r = { name, runs: {} };
    rows.set(name, r);
  }
  return r;
}
function record(target: TargetId, name: string, measured: Measured): Measured {
  const r = row(name);
  r.runs[target] ??= [];
  r.runs[target].push(measured);
  return measured;
}

const median = (values: number[]) => {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (!v.length) return Number.NaN;
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};
/** The run whose req/s is the median (its latencies are the ones printed). */
function medianRun(list: Measured[]): Measured {
  const sorted = [...list].sort((a, b) => a.rps - b.rps);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}
const rpsOf = (target: TargetId, name: string) => {
  const list = rows.get(name)?.runs[target];
  return list?.length ? median(list.map((m) => m.rps)) : Number.NaN;
};
const p99Of = (target: TargetId, name: string) => {
  const list = rows.get(name)?.runs[target];
  return list?.length ? medianRun(list).p99 : Number.NaN;
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
// An Ed25519 sender (Discord: a public key, 32 raw bytes in hex) and a decrypting one (WeCom).
const DISCORD_PUBLIC_KEY = (generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' }) as Buffer)
  .subarray(-32)
  .toString('hex');
const WECOM = { token: 'bench-wecom-token', encodingAESKey: `${'a'.repeat(42)}Q`, receiveId: 'wwbench' };
const specs: WorkflowSpec[] = [
  {
    name: 'discord',
    sync: true,
    config: { key: 'bench-discord', verification: { type: 'discord', publicKey: DISCORD_PUBLIC_KEY } },
    nodes: [outputNode],
  },
  {
    name: 'wecom',
    sync: true,
    // The schema refuses every event once it is decrypted: the row costs signature, decryption
    // and the XML parse, and starts nothing.
    config: {
      key: 'bench-wecom',
      verification: { type: 'wecom', ...WECOM },
      bodySchema: { type: 'object', required: ['BenchNeverSent'] },
    },
    nodes: [outputNode],
  },
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
  { name: 'burst', sync: false, config: { key: 'bench-burst' }, nodes: [outputNode] },
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
/**
 * Nested as deep as allowed (64) within the caps, just under 1 MiB (the default maxBodyBytes):
 * array items count over the whole body (WEBHOOK_MAX_JSON_ARRAY_ITEMS, 10,000), so 156 items
 * nested 63 deep use 9,984 of them, and their strings fill the body.
 */
function deepBody(): Buffer {
  const item = `${'['.repeat(63)}"${'x'.repeat(6_500)}"${']'.repeat(63)}`;
  return Buffer.from(`[${Array.from({ length: 156 }, () => item).join(',')}]`);
}

/**
 * A fifth client: signs in as root, then reads `workflows:list` one request after another (every
 * 50 ms) until `until()`; returns each request's latency in ms.
 */
async function pollAdmin(
  origin: string,
  until: () => boolean,
): Promise<{ latencies: number[]; errors: number; first?: string }> {
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
/** Discord's headers, with a well-formed signature that does not match (the Ed25519 check runs). */
const discordForged = { ...json, 'x-signature-ed25519': '0'.repeat(128), 'x-signature-timestamp': '1700000000' };
/** A WeCom event as WeCom sends it: `<xml><Encrypt>` and msg_signature/timestamp/nonce in the query. */
const wecomEncrypted = wecomEncrypt(
  WECOM.encodingAESKey,
  '<xml><ToUserName><![CDATA[wwbench]]></ToUserName><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[bench]]></Content></xml>',
  WECOM.receiveId,
);
const wecomBody = Buffer.from(
  `<xml><ToUserName><![CDATA[wwbench]]></ToUserName><Encrypt><![CDATA[${wecomEncrypted}]]></Encrypt></xml>`,
);
const wecomQuery = (forged: boolean) =>
  `?msg_signature=${forged ? '0'.repeat(40) : wecomSignature(WECOM.token, '1700000000', 'bench', wecomEncrypted)}&timestamp=1700000000&nonce=bench`;
const xml = { 'content-type': 'text/xml' };
const hook = (t: Target, name: string) => `${t.origin}/api/webhooks/${t.created[name].webhookKey}`;

// Notes and verifications that go under the table.
/** Every async run's check: each 202's delivery id found as an execution when the load ended. */
const verifications: Record<TargetId, Array<{ ok: boolean; accepted: number; found: number }>> = {
  full: [],
  light: [],
};
const notes: string[] = [];
const facts: Record<string, number | string | boolean> = {};

/**
 * After an async run: checks that every 202's delivery id is stored as an execution (eventKey)
 * right when the load ended.
 */
async function verifyAccepted(t: Target, name: string, label: string, measured: Measured) {
  const stats = await t.execStats(t.created[name].id);
  const ids = measured.load?.ids ?? [];
  const accepted = measured.load?.statuses?.['202'] ?? 0;
  const check = await t.verifyIds(t.created[name].id, ids);
  const ok = check.found === accepted && check.ids === accepted && check.unique === accepted;
  verifications[t.id].push({ ok, accepted, found: check.found });
  const text = `${t.title}, ${label}: ${int(accepted)} answered 202, ${int(check.found)} of their delivery ids stored as executions when the load ended (${int(stats.total)} rows, ${int(stats.resolved)} already resolved)${ok ? '' : ' — MISMATCH'}`;
  return { ok, accepted, found: check.found, stats, text };
}

/** The commit the app is started from, and whether src/ or scripts/ differ from it. */
function revision(): string {
  try {
    let commit = execSync('git rev-parse --short HEAD', { cwd: root }).toString().trim();
    if (execSync('git status --porcelain -- src scripts bench', { cwd: root }).toString().trim()) {
      commit += ' + uncommitted changes in src/, scripts/ or bench/';
    }
    return commit;
  } catch {
    return 'unknown';
  }
}

const engineRowName = (concurrency: number) => `engine alone: trigger() x${concurrency} in flight, in the app process`;
const SYNC32 = `sync: one Output node, ${CONNECTIONS} conn.`;
const KOA = 'Koa baseline: bare route + JSON body parser';
const REJECTS = {
  forged: 'reject: forged GitHub signature (401), failure budget off',
  discord: 'reject: forged Discord Ed25519 signature (401), failure budget off',
  wecomForged: 'reject: forged WeCom msg_signature (401), failure budget off',
  wecomDecrypted: 'reject: WeCom event signed, decrypted, then refused by its schema (422)',
  unknown: 'reject: unknown key (404)',
  ip: 'reject: IP not allowed (403)',
};
const ASYNC = 'async accept (202), one Output node [backlog: checked, then purged]';
const FLOOD_ALONE = 'flood test: async accept alone [backlog purged after each run]';
const FLOOD_WITH = 'flood test: async accept during a forged flood (budget on, as shipped)';
const FLOOD_WITH_OFF = 'flood test: async accept during a forged flood, failure budget off';
const FLOOD_ITSELF = 'flood test: the forged flood itself (401, budget on)';
const FLOOD_ITSELF_OFF = 'flood test: the forged flood itself (401, budget off)';

/** The engine's own sync rate in the target's app process, `concurrency` trigger() calls in flight. */
async function engineSync(t: Target, concurrency: number, graceMs = 20_000): Promise<EngineRunResult> {
  const w = await measureWindow(t, `engine-sync-${concurrency}`, () =>
    t.engineSync({
      workflow: t.created.sync,
      concurrency,
      durationMs: DURATION * 1000,
      maxRuns: MAX_REQUESTS,
      graceMs,
    }),
  );
  const e = w.value;
  if (!e.stuck) await t.settle();
  record(t.id, engineRowName(concurrency), {
    rps: e.rate,
    p50: e.p50,
    p99: e.p99,
    errors: e.errors,
    requests: e.runs + e.errors,
    rssPeak: w.rssPeak,
    rssEnd: w.rssEnd,
    foreign: w.foreign,
  });
  if (e.firstError) notes.push(`${t.title}, engine alone x${concurrency}: ${e.firstError}`);
  return e;
}

/** Runs `body` while a second autocannon, in a process of its own, floods forged signatures. */
async function withFlood(t: Target, body: () => Promise<Measured>): Promise<{ accepted: Measured; flood: Measured }> {
  const spec: LoadSpec = {
    url: hook(t, 'github'),
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

/** Polls a workflow's executions until `count` more than `before` are final; returns the time of the last. */
async function waitFinal(t: Target, workflowId: string, beforeFinal: number, count: number, since: number) {
  const deadline = since + DRAIN_TIMEOUT * 1000;
  for (;;) {
    const stats = await t.execStats(workflowId);
    const done = stats.resolved + stats.failed - beforeFinal;
    if (done >= count || performance.now() > deadline) {
      return { done, failed: stats.failed, seconds: (performance.now() - since) / 1000, timedOut: done < count };
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

// ---------------------------------------------------------------------------------------------

async function startLight(dbEnv: Record<string, string>): Promise<Target> {
  const serverEnv: NodeJS.ProcessEnv = {
    ...process.env,
    ...dbEnv,
    STORAGE_PATH: path.join(tempDir, 'light-storage'),
    APP_PORT: '0',
    WEBHOOK_DEMO: 'off',
    LOGGER_TRANSPORT: 'console',
    LOGGER_LEVEL: process.env.LOGGER_LEVEL ?? 'error',
    DB_LOGGING: 'off',
  };
  const spawned = spawnNode(
    'light runner',
    'server.ts',
    [],
    serverEnv,
    path.join(tempDir, 'light.log'),
    process.env.BENCH_SERVER_NODE_OPTIONS,
    (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean),
  );
  const started = await waitReady('light runner', spawned, START_TIMEOUT);
  lightChild = { child: started.child, rpc: started.rpc, tail: started.tail };
  const order = (await started.rpc.call('middlewareOrder')) as { order: string[] };
  return lightTarget(
    started.rpc,
    `http://127.0.0.1:${started.port}`,
    started.pid,
    dbEnv.DB_DIALECT ?? 'sqlite',
    order.order.includes('bench-noop-position'),
  );
}

async function startFull(dbEnv: Record<string, string>): Promise<Target> {
  console.log(
    `full app: building and packing the plugin, installing it into ${path.relative(root, APP_DIR)} on a fresh database...`,
  );
  // The stock app, created once from the registry (minutes, ~1 GB), as `npm start` does.
  execSync(`bash ${JSON.stringify(path.join(root, 'e2e', 'setup-app.sh'))}`, {
    cwd: root,
    env: { ...process.env, E2E_APP_DIR: APP_DIR },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const tarballs = packPlugins(path.join(tempDir, 'pack'));
  full = new FullApp({
    appDir: APP_DIR,
    tempDir,
    dbEnv,
    port: await freePort(),
    startTimeoutSec: START_TIMEOUT,
    nodeOptions: process.env.BENCH_SERVER_NODE_OPTIONS,
    log: (line) => console.log(line),
  });
  const t0 = performance.now();
  await full.install(tarballs);
  const t1 = performance.now();
  await full.start();
  facts.fullStart = `full app: install + pm add + enable ${((t1 - t0) / 1000).toFixed(1)} s, start ${((performance.now() - t1) / 1000).toFixed(1)} s (pid ${full.pid})`;
  return fullTarget(full, dbEnv.DB_DIALECT ?? 'sqlite');
}

async function main() {
  const startedAt = new Date();
  facts.revision = revision();
  const loadBefore = os.loadavg();
  tempDir = mkdtempSync(path.join(os.tmpdir(), 'webhook-bench-'));
  if (PROFILE_DIR) mkdirSync(PROFILE_DIR, { recursive: true });
  const dialect = process.env.DB_DIALECT ?? 'sqlite';
  console.log(
    `webhook bench: ${TARGETS.join(' + ')} on ${dialect}; ${CONNECTIONS} connections, ${DURATION} s per run, ${ROUNDS} round(s); temp ${tempDir}`,
  );

  const koaSpawned = runs('baseline')
    ? spawnNode('koa baseline', 'koa-baseline.ts', [], process.env, path.join(tempDir, 'koa.log'))
    : null;
  // One fresh database per target, so that neither shares rows or locks with the other.
  const dbFor = async (id: TargetId) => {
    const sub = path.join(tempDir, id);
    mkdirSync(sub, { recursive: true });
    const database = await createBenchDatabase(sub);
    databases.push(database);
    return database;
  };
  for (const id of TARGETS) {
    const database = await dbFor(id);
    facts.database = database.label;
    targets.push(id === 'full' ? await startFull(database.env) : await startLight(database.env));
  }
  if (koaSpawned) koa = await waitReady('koa baseline', koaSpawned, 60);

  for (const t of targets) {
    console.log(`${t.title} ready at ${t.origin} (pid ${t.pid}); creating workflows...`);
    t.created = await t.setup(specs);
    const budget = await t.authBudget(true);
    facts.authBudget = `${budget.perSecond} failures/s per source, then ${budget.delayMs} ms hold`;
    await t.authBudget(false);
    const { order } = await t.middlewareOrder();
    const clean = order.filter((g) => !g.startsWith('bench-'));
    const at = clean.indexOf('webhooks');
    facts[`middleware-${t.id}`] =
      `${t.title}: NocoBase middleware a webhook request passes in the app's Koa chain before the route: ${clean.slice(0, at).join(' > ') || '(none)'}`;
    facts[`rss-${t.id}`] = rssMb(t.pid);
  }
  notes.push(
    `The per-source budget for failed authentication (${facts.authBudget}) is off in the rejection rows, which measure the cost of a rejection, and on (as shipped) in the flood test unless the row says otherwise`,
  );

  // Warm-up (not recorded): JIT, connection pools, caches.
  console.log('warming up...');
  const warm = { durationSec: 1, connections: CONNECTIONS, maxRequests: MAX_REQUESTS };
  if (koa)
    await runLoad({ ...warm, url: `http://127.0.0.1:${koa.port}/hook`, headers: json, body: smallBody, expect: [200] });
  for (const t of targets) {
    for (const [url, headers, expect] of [
      [hook(t, 'github'), github(smallBody, true), 401],
      [hook(t, 'sync'), json, 200],
      [hook(t, 'async'), json, 202],
      [t.floors[t.floors.length - 1].url, json, 204],
    ] as Array<[string, Record<string, string>, number]>) {
      await runLoad({ ...warm, url, headers, body: smallBody, expect: [expect] });
      await t.settle();
    }
    await t.purge(t.created.async.id);
  }

  // 1. Interleaved rounds: Koa, then each target (alternating which goes first): floors,
  // rejections, sync, the engine alone.
  for (let round = 1; round <= ROUNDS; round++) {
    if (!['baseline', 'reject', 'sync', 'engine'].some((g) => runs(g as Group))) break;
    console.log(`round ${round}/${ROUNDS}: baseline, floors, rejections, sync, engine...`);
    if (koa) {
      const m = await load(
        null,
        'koa',
        { url: `http://127.0.0.1:${koa.port}/hook`, headers: json, body: smallBody, expect: [200] },
        koa.pid,
      );
      for (const t of targets) record(t.id, KOA, m);
    }
    const order = round % 2 ? targets : [...targets].reverse();
    for (const t of order) {
      if (runs('baseline')) {
        for (const floor of t.floors) {
          const slug = floor.name === FLOOR_RAW ? 'floor-raw' : floor.name === FLOOR_KOA ? 'floor-koa' : 'floor-route';
          const m = record(
            t.id,
            floor.name,
            await load(t, slug, { url: floor.url, headers: json, body: smallBody, expect: [204] }),
          );
          if (floor.alsoAs) record(t.id, floor.alsoAs, m);
        }
      }
      if (runs('reject')) {
        record(
          t.id,
          REJECTS.forged,
          await load(t, 'reject-forged', {
            url: hook(t, 'github'),
            headers: github(smallBody, true),
            body: smallBody,
            expect: [401],
          }),
        );
        record(
          t.id,
          REJECTS.discord,
          await load(t, 'reject-discord', {
            url: hook(t, 'discord'),
            headers: discordForged,
            body: smallBody,
            expect: [401],
          }),
        );
        record(
          t.id,
          REJECTS.wecomForged,
          await load(t, 'reject-wecom-forged', {
            url: `${hook(t, 'wecom')}${wecomQuery(true)}`,
            headers: xml,
            body: wecomBody,
            expect: [401],
          }),
        );
        record(
          t.id,
          REJECTS.wecomDecrypted,
          await load(t, 'reject-wecom-decrypted', {
            url: `${hook(t, 'wecom')}${wecomQuery(false)}`,
            headers: xml,
            body: wecomBody,
            expect: [422],
          }),
        );
        record(
          t.id,
          REJECTS.unknown,
          await load(t, 'reject-unknown', {
            url: `${t.origin}/api/webhooks/bench-no-such-key`,
            headers: json,
            body: smallBody,
            expect: [404],
          }),
        );
        record(
          t.id,
          REJECTS.ip,
          await load(t, 'reject-ip', { url: hook(t, 'ip'), headers: json, body: smallBody, expect: [403] }),
        );
      }
      if (runs('reject') && t.id === 'full') {
        // The same rejections the Gateway's own way (`X-App: main` leaves them to it, so the route
        // answers from the head of the Koa chain): WEBHOOK_MOUNT=app, in the same app and round.
        const viaKoa = { 'x-app': 'main' };
        record(
          t.id,
          `${REJECTS.forged}, through the Gateway to the Koa chain (X-App: main)`,
          await load(t, 'reject-forged-koa', {
            url: hook(t, 'github'),
            headers: { ...github(smallBody, true), ...viaKoa },
            body: smallBody,
            expect: [401],
          }),
        );
        record(
          t.id,
          `${REJECTS.unknown}, through the Gateway to the Koa chain (X-App: main)`,
          await load(t, 'reject-unknown-koa', {
            url: `${t.origin}/api/webhooks/bench-no-such-key`,
            headers: { ...json, ...viaKoa },
            body: smallBody,
            expect: [404],
          }),
        );
      }
      if (runs('sync')) {
        record(
          t.id,
          SYNC32,
          await load(t, 'sync', { url: hook(t, 'sync'), headers: json, body: smallBody, expect: [200] }),
        );
        row(SYNC32).vsEngine = true;
        const name = `sync + GitHub signature, ${CONNECTIONS} conn.`;
        record(
          t.id,
          name,
          await load(t, 'sync-github', {
            url: hook(t, 'github'),
            headers: github(smallBody),
            body: smallBody,
            expect: [200],
          }),
        );
        row(name).vsEngine = true;
      }
      if (runs('engine') || runs('sync')) {
        await engineSync(t, 1);
        // On SQLite, 32 trigger() calls in flight can hang the engine: measured last.
        if (t.dialect !== 'sqlite') await engineSync(t, CONNECTIONS);
      }
    }
  }
  if (runs('reject')) {
    // The cost of one request of each scheme: the app's (single) thread time per answer at 32
    // connections, and what the scheme adds to an unknown key's 404.
    for (const t of targets) {
      const us = (name: string) => 1e6 / rpsOf(t.id, name);
      const base = us(REJECTS.unknown);
      const cost = (name: string, label: string) =>
        `${label} ${int(us(name))} µs (+${int(us(name) - base)} µs over the 404)`;
      notes.push(
        `${t.title}, cost per request: unknown key 404 ${int(base)} µs; ${[
          cost(REJECTS.forged, 'forged GitHub HMAC'),
          cost(REJECTS.discord, 'forged Discord Ed25519'),
          cost(REJECTS.wecomForged, 'forged WeCom SHA-1'),
          cost(REJECTS.wecomDecrypted, 'signed WeCom event decrypted (AES-256-CBC) and parsed'),
        ].join('; ')}`,
      );
    }
  }

  // 2. Sync at lower concurrency: zero errors at any concurrency.
  if (runs('sync')) {
    for (const c of [1, 8]) {
      for (const t of targets) {
        console.log(`${t.title}: sync at ${c} connection(s)...`);
        const name = `sync: one Output node, ${c} conn.`;
        record(
          t.id,
          name,
          await load(t, `sync-${c}`, {
            url: hook(t, 'sync'),
            headers: json,
            body: smallBody,
            expect: [200],
            connections: c,
            durationSec: Math.max(2, Math.ceil(DURATION / 2)),
          }),
        );
        row(name).vsEngine = true;
      }
    }
  }

  // 3. Flood: accepted traffic alone vs. while forged requests flood the same server. Each run's
  // backlog is checked, then purged, so that no drain runs under the next one.
  if (runs('flood')) {
    for (let round = 1; round <= FLOOD_ROUNDS; round++) {
      for (const t of targets) {
        console.log(`${t.title}: flood round ${round}/${FLOOD_ROUNDS}...`);
        const floodSpec = { url: hook(t, 'flood'), headers: json, body: smallBody, expect: [202], collectIds: true };
        const alone = record(t.id, FLOOD_ALONE, await load(t, 'flood-alone', floodSpec));
        const checkAlone = await verifyAccepted(t, 'flood', 'flood test, alone', alone);
        if (!checkAlone.ok) notes.push(checkAlone.text);
        await t.purge(t.created.flood.id);
        for (const on of [true, false]) {
          await t.authBudget(on);
          const { accepted, flood } = await withFlood(t, () =>
            load(t, `flood-with${on ? '' : '-nobudget'}`, floodSpec),
          );
          record(t.id, on ? FLOOD_WITH : FLOOD_WITH_OFF, accepted);
          record(t.id, on ? FLOOD_ITSELF : FLOOD_ITSELF_OFF, flood);
          const check = await verifyAccepted(t, 'flood', `flood test, with flood${on ? '' : ', budget off'}`, accepted);
          if (!check.ok) notes.push(check.text);
          await t.purge(t.created.flood.id);
        }
        await t.authBudget(false);
      }
    }
  }

  // 4. Async accept: req/s and latency; every 202's delivery id looked up when the load ends; the
  // backlog is then purged (its drain is the burst's business, below).
  if (runs('async')) {
    for (let round = 1; round <= Math.min(ROUNDS, 2); round++) {
      for (const t of targets) {
        console.log(`${t.title}: async accept ${round}...`);
        const m = record(
          t.id,
          ASYNC,
          await load(t, 'async', {
            url: hook(t, 'async'),
            headers: json,
            body: smallBody,
            expect: [202],
            collectIds: true,
          }),
        );
        const check = await verifyAccepted(t, 'async', 'async accept', m);
        if (round === 1 || !check.ok) notes.push(check.text);
        await t.purge(t.created.async.id);
      }
    }
  }

  // 5. Optional: bodies of 1 KB, 100 KB and 1 MB to an async webhook.
  if (runs('bodies')) {
    for (const t of targets) {
      for (const [name, bytes, label] of [
        ['body1k', 1024, '1 KB'],
        ['body100k', 100 * 1024, '100 KB'],
        ['body1m', MIB, '1 MB'],
      ] as const) {
        console.log(`${t.title}: async accept, ${label} bodies...`);
        const m = record(
          t.id,
          `async accept, ${label} JSON body [backlog purged]`,
          await load(t, `body-${name}`, {
            url: hook(t, name),
            headers: json,
            body: sizedBody(bytes),
            expect: [202],
            collectIds: true,
          }),
        );
        notes.push((await verifyAccepted(t, name, `${label} bodies`, m)).text);
        await t.purge(t.created[name].id);
      }
    }
  }

  // 6. Optional, light runner only (bulk-created rows through IPC): routing with 10,000 more webhooks.
  const light = targets.find((t) => t.id === 'light');
  if (runs('routing') && ROUTES > 0 && light?.rpc) {
    const rpc = light.rpc;
    console.log(`light runner, routing: creating ${int(ROUTES)} more enabled webhook workflows...`);
    const setup = await rpc.call<{ ms: number; indexSize: number }>('bulkWorkflows', { count: ROUTES }, 600_000);
    facts.routingSetup = `${int(ROUTES)} enabled webhook workflows created in ${(setup.ms / 1000).toFixed(1)} s; index holds ${int(setup.indexSize)} keys`;
    for (let round = 1; round <= ROUNDS; round++) {
      for (const state of ['many', 'few'] as const) {
        if (state === 'few') await rpc.call('toggleRouting', { enabled: false }, 600_000);
        const label = state === 'many' ? `${int(setup.indexSize)} enabled` : `${specs.length} enabled`;
        record(
          'light',
          `routing (light runner only): forged signature (401), ${label}`,
          await load(light, `routing-${state}-forged`, {
            url: hook(light, 'github'),
            headers: github(smallBody, true),
            body: smallBody,
            expect: [401],
          }),
        );
        if (state === 'few') await rpc.call('toggleRouting', { enabled: true }, 600_000);
      }
    }
  }

  // 7. Optional: memory at a steady rate.
  if (runs('soak') && SOAK > 0) {
    for (const t of targets) {
      console.log(`${t.title}: soak, async accept at ${SOAK_RATE} req/s for ${SOAK} s...`);
      const warmup = Math.min(60, Math.max(5, SOAK / 4));
      const samples: Array<[number, number]> = [];
      const started = performance.now();
      const timer = setInterval(() => samples.push([(performance.now() - started) / 1000, rssMb(t.pid)]), 1000);
      const m = record(
        t.id,
        `soak: async accept at ${SOAK_RATE} req/s for ${SOAK} s`,
        await load(t, 'soak', {
          url: hook(t, 'soak'),
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
      const at = (from: number, to: number) => median(samples.filter(([s]) => s >= from && s <= to).map(([, v]) => v));
      notes.push(
        `${t.title}, soak: RSS ${mb(at(warmup - 5, warmup))} MB after warm-up -> ${mb(at(SOAK - 5, SOAK + 5))} MB at the end`,
      );
      notes.push((await verifyAccepted(t, 'soak', 'soak', m)).text);
      await t.purge(t.created.soak.id);
    }
  }

  // 8. Optional (issue 10): the admin API while 4 connections send the worst 1 MiB JSON bodies.
  if (runs('worst-bodies')) {
    const keysBody = manyKeysBody();
    const nestedBody = deepBody();
    for (const t of targets) {
      console.log(`${t.title}: worst bodies for ${WORST_DURATION} s, admin API polled alongside...`);
      let done = false;
      const w = await measureWindow(t, 'worst-bodies', async () => {
        const poll = pollAdmin(t.origin, () => done);
        const spec = {
          url: hook(t, 'worst'),
          headers: json,
          // 429: the backlog of queued async bodies is full (WEBHOOK_MAX_BACKLOG_BYTES), retry later.
          expect: [202, 429],
          durationSec: WORST_DURATION,
          connections: 2,
        };
        const loads = await Promise.all([
          runLoad({ ...spec, body: keysBody, maxRequests: MAX_REQUESTS }),
          runLoad({ ...spec, body: nestedBody, maxRequests: MAX_REQUESTS }),
        ]);
        done = true;
        return { loads, admin: await poll };
      });
      await t.settle();
      const { loads, admin } = w.value;
      const sorted = [...admin.latencies].sort((a, b) => a - b);
      const pick = (p: number) =>
        sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : Number.NaN;
      const names = ['worst bodies: 9,999-key 1 MiB JSON, 2 conn.', 'worst bodies: depth-64 1 MiB JSON, 2 conn.'];
      for (const [i, l] of loads.entries()) {
        record(t.id, names[i], toMeasured(l, w));
        notes.push(`${t.title}, ${names[i]}: statuses ${JSON.stringify(l.statuses)}`);
      }
      record(t.id, 'worst bodies: admin workflows:list alongside (1 client, every 50 ms)', {
        rps: sorted.length / WORST_DURATION,
        p50: pick(50),
        p99: pick(99),
        errors: admin.errors,
        requests: sorted.length + admin.errors,
        rssPeak: w.rssPeak,
        rssEnd: w.rssEnd,
        foreign: w.foreign,
      });
      await t.purge(t.created.worst.id);
    }
  }

  // 9. The burst, end to end, full app only (it waits for the drain, so it runs after the others):
  // BENCH_BURST async deliveries at 32 connections, from the first request to the last execution
  // resolved; then the engine alone given the same number of executions in the same process.
  const fullT = targets.find((t) => t.id === 'full');
  let burst: null | {
    accepted: number;
    errors: number;
    acceptSeconds: number;
    acceptRps: number;
    p99: number;
    total: { seconds: number; done: number; failed: number; timedOut: boolean };
    engine: { seconds: number; done: number; failed: number; timedOut: boolean } | null;
    foreign: number;
    engineForeign: number;
    rssPeak: number;
  } = null;
  if (runs('burst') && fullT && BURST > 0) {
    console.log(
      `full app, burst: ${int(BURST)} async deliveries at ${CONNECTIONS} conn., then until the last execution resolved...`,
    );
    const before = await fullT.execStats(fullT.created.burst.id);
    let acceptEnd = 0;
    const w = await measureWindow(fullT, 'burst', async () => {
      const started = performance.now();
      const result = await runLoad({
        url: hook(fullT, 'burst'),
        headers: json,
        body: smallBody,
        expect: [202],
        connections: CONNECTIONS,
        durationSec: 600,
        maxRequests: BURST,
      });
      acceptEnd = performance.now();
      const total = await waitFinal(
        fullT,
        fullT.created.burst.id,
        before.resolved + before.failed,
        result.expected,
        started,
      );
      return { result, total, started };
    });
    const { result, total } = w.value;
    let engine = null;
    let engineForeign = Number.NaN;
    // Whatever the webhook burst left (a timed-out drain) must not run under the engine's burst:
    // on SQLite the engine saves a new event only between two executions.
    await fullT.purge(fullT.created.burst.id);
    if (fullT.engineAsyncStart) {
      console.log(`full app, burst: the engine alone, ${int(BURST)} executions given to trigger()...`);
      const e0 = await fullT.execStats(fullT.created.engineAsync.id);
      const ew = await measureWindow(fullT, 'burst-engine', async () => {
        const started = performance.now();
        await fullT.engineAsyncStart!(fullT.created.engineAsync, BURST);
        return waitFinal(fullT, fullT.created.engineAsync.id, e0.resolved + e0.failed, BURST, started);
      });
      engine = ew.value;
      engineForeign = ew.foreign;
    }
    burst = {
      accepted: result.expected,
      errors: result.errors,
      acceptSeconds: (acceptEnd - w.value.started) / 1000,
      acceptRps: result.rps,
      p99: result.p99,
      total,
      engine,
      foreign: w.foreign,
      engineForeign,
      rssPeak: w.rssPeak,
    };
    await fullT.purge();
  }

  // 10. SQLite: the engine alone with 32 trigger() calls in flight, last, as it may hang the app.
  if (runs('engine') || runs('sync')) {
    for (const t of targets.filter((x) => x.dialect === 'sqlite')) {
      console.log(
        `${t.title}: engine alone, ${CONNECTIONS} trigger() calls in flight (last: on SQLite this may hang the app)...`,
      );
      for (let round = 1; round <= ROUNDS; round++) {
        const e = await engineSync(t, CONNECTIONS, 15_000);
        if (e.stuck) break;
      }
    }
  }

  const loadAfter = os.loadavg();
  await report({ startedAt, loadBefore, loadAfter, dialect, burst });
}

// ---------------------------------------------------------------------------------------------
// The report

async function report(ctx: {
  startedAt: Date;
  loadBefore: number[];
  loadAfter: number[];
  dialect: string;
  burst: null | {
    accepted: number;
    errors: number;
    acceptSeconds: number;
    acceptRps: number;
    p99: number;
    total: { seconds: number; done: number; failed: number; timedOut: boolean };
    engine: { seconds: number; done: number; failed: number; timedOut: boolean } | null;
    foreign: number;
    engineForeign: number;
    rssPeak: number;
  };
}) {
  const ids = targets.map((t) => t.id);
  const title = (id: TargetId) => (id === 'full' ? 'full app' : 'light runner');
  const koaRps = (id: TargetId) => rpsOf(id, KOA);
  const engineOf = (id: TargetId) => {
    const at1 = rpsOf(id, engineRowName(1));
    const atN = rpsOf(id, engineRowName(CONNECTIONS));
    const best = Math.max(Number.isFinite(at1) ? at1 : 0, Number.isFinite(atN) ? atN : 0) || Number.NaN;
    return { at1, atN, best, bestAt: atN >= at1 || !Number.isFinite(at1) ? CONNECTIONS : 1 };
  };

  // One block of columns per target: req/s (min-max), vs Koa, vs engine, p50, p99, errors, RSS, other load.
  const header = ['scenario'];
  const align: Array<'l' | 'r'> = ['l'];
  for (const id of ids) {
    header.push(
      `${title(id)} req/s`,
      'min-max',
      'vs Koa',
      'vs engine',
      'p50 ms',
      'p99 ms',
      'errors',
      'RSS MB',
      'other load',
    );
    align.push('r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r');
  }
  const body: string[][] = [];
  for (const r of rows.values()) {
    const line = [r.name];
    for (const id of ids) {
      const list = r.runs[id];
      if (!list?.length) {
        line.push('', '', '', '', '', '', '', '', '');
        continue;
      }
      const rps = median(list.map((m) => m.rps));
      const mid = medianRun(list);
      const spread =
        list.length > 1
          ? `${rate(Math.min(...list.map((m) => m.rps)))}-${rate(Math.max(...list.map((m) => m.rps)))}`
          : '';
      const isEngine = r.name.startsWith('engine alone: trigger');
      line.push(
        rate(rps),
        spread,
        r.name === KOA ? '100%' : pct((100 * rps) / koaRps(id)),
        r.vsEngine || isEngine ? pct((100 * rps) / engineOf(id).best) : '',
        ms(mid.p50),
        ms(mid.p99),
        `${int(list.reduce((s, m) => s + m.errors, 0))}/${int(list.reduce((s, m) => s + m.requests, 0))}`,
        r.name === KOA ? '' : mb(Math.max(...list.map((m) => m.rssPeak))),
        `${median(list.map((m) => m.foreign)).toFixed(2)}`,
      );
    }
    body.push(line);
  }
  const main = table(header, body, align);

  // Targets of issue 14: on the full app; the light runner's verdict beside it for reference.
  type Verdict = {
    target: string;
    ok: Partial<Record<TargetId, boolean | null>>;
    measured: Partial<Record<TargetId, string>>;
  };
  const verdicts: Verdict[] = [];
  const add = (target: string, fn: (id: TargetId) => [boolean | null, string] | null) => {
    const v: Verdict = { target, ok: {}, measured: {} };
    for (const id of ids) {
      const got = fn(id);
      if (!got) continue;
      v.ok[id] = got[0];
      v.measured[id] = got[1];
    }
    if (Object.keys(v.ok).length) verdicts.push(v);
  };
  for (const [key, label] of [
    ['unknown', 'unknown key 404'],
    ['ip', 'IP refused 403'],
    ['forged', 'forged signature 401, failure budget off'],
  ] as const) {
    add(`rejection, ${label}: >= 44% of bare Koa`, (id) => {
      const rps = rpsOf(id, REJECTS[key]);
      if (!Number.isFinite(rps)) return null;
      const ratio = (100 * rps) / koaRps(id);
      const floor = (100 * rpsOf(id, FLOOR_POSITION)) / koaRps(id);
      return [ratio >= 44, `${rate(rps)} req/s = ${pct(ratio)} (floor at the route's place ${pct(floor)})`];
    });
  }
  add('async accept: >= 7.4% of bare Koa', (id) => {
    const rps = rpsOf(id, ASYNC);
    if (!Number.isFinite(rps)) return null;
    return [(100 * rps) / koaRps(id) >= 7.4, `${rate(rps)} req/s = ${pct((100 * rps) / koaRps(id))}`];
  });
  add('async accept: p99 < 100 ms', (id) => {
    const p99 = p99Of(id, ASYNC);
    if (!Number.isFinite(p99)) return null;
    return [p99 < 100, `p99 ${ms(p99)} ms`];
  });
  add('async accept: every 202 stored before it is sent', (id) => {
    const v = verifications[id];
    if (!v.length) return null;
    return [
      v.every((x) => x.ok),
      `${int(v.reduce((n, x) => n + x.found, 0))} of ${int(v.reduce((n, x) => n + x.accepted, 0))} delivery ids found as executions when each load ended (${v.length} runs)`,
    ];
  });
  add(`sync (${CONNECTIONS} conn.): >= 90% of the engine alone`, (id) => {
    const rps = rpsOf(id, SYNC32);
    const e = engineOf(id);
    if (!Number.isFinite(rps) || !Number.isFinite(e.best)) return null;
    return [
      rps >= 0.9 * e.best,
      `${rate(rps)} vs ${rate(e.best)} (engine x${e.bestAt}, its best; x1 ${rate(e.at1)}, x${CONNECTIONS} ${rate(e.atN)}) = ${pct((100 * rps) / e.best)}; at 1 conn. ${rate(rpsOf(id, 'sync: one Output node, 1 conn.'))} vs engine x1 ${rate(e.at1)}`,
    ];
  });
  add(`sync: 0 errors at 1, 8 and ${CONNECTIONS} connections`, (id) => {
    const names = [1, 8, CONNECTIONS].map((c) => `sync: one Output node, ${c} conn.`);
    const lists = names.map((n) => rows.get(n)?.runs[id] ?? []);
    if (lists.some((l) => !l.length)) return null;
    const errors = lists.flat().reduce((s, m) => s + m.errors, 0);
    const total = lists.flat().reduce((s, m) => s + m.requests, 0);
    return [errors === 0, `${int(errors)} errors in ${int(total)} requests`];
  });
  add('flood: a forged flood slows accepted traffic by < 20% (budget on, as shipped)', (id) => {
    const alone = rpsOf(id, FLOOD_ALONE);
    const during = rpsOf(id, FLOOD_WITH);
    if (!Number.isFinite(alone) || !Number.isFinite(during)) return null;
    const slowdown = 100 * (1 - during / alone);
    const off = rpsOf(id, FLOOD_WITH_OFF);
    return [
      slowdown < 20,
      `${rate(alone)} -> ${rate(during)} accepted/s = ${pct(slowdown)} slower (p99 ${ms(p99Of(id, FLOOD_ALONE))} -> ${ms(p99Of(id, FLOOD_WITH))} ms; flood ${rate(rpsOf(id, FLOOD_ITSELF))} 401/s held by the budget); budget off: ${rate(off)} accepted/s = ${pct(100 * (1 - off / alone))} slower, flood ${rate(rpsOf(id, FLOOD_ITSELF_OFF))}/s`,
    ];
  });
  const targetHeader = ['target (issue 14)'];
  for (const id of ids) targetHeader.push(title(id), `measured (${title(id)})`);
  const targetTable = table(
    targetHeader,
    verdicts.map((v) => {
      const cells = [v.target];
      for (const id of ids)
        cells.push(
          v.ok[id] === undefined ? '' : v.ok[id] === null ? 'n/a' : v.ok[id] ? 'PASS' : 'MISS',
          v.measured[id] ?? '',
        );
      return cells;
    }),
    ['l', ...ids.flatMap(() => ['l', 'l'] as const)],
  );

  let burstText = '';
  const b = ctx.burst;
  if (b) {
    const lines = [
      `| measure | seconds | executions/s | note |`,
      `|:--|--:|--:|:--|`,
      `| webhook: first of ${int(BURST)} async deliveries (${CONNECTIONS} conn.) to the last 202 | ${b.acceptSeconds.toFixed(1)} | ${rate(b.acceptRps)} accepted/s | p99 ${ms(b.p99)} ms, ${int(b.errors)} errors, ${int(b.accepted)} accepted |`,
      `| webhook: first delivery to the last execution resolved | ${b.total.seconds.toFixed(1)} | ${rate(b.total.done / b.total.seconds)} | ${int(b.total.done)} final, ${int(b.total.failed)} failed${b.total.timedOut ? ', TIMED OUT' : ''}; other load ${b.foreign.toFixed(2)} cores; RSS peak ${mb(b.rssPeak)} MB |`,
    ];
    if (b.engine) {
      lines.push(
        `| engine alone: the same ${int(BURST)} executions given to trigger() in the app process, to the last resolved | ${b.engine.seconds.toFixed(1)} | ${rate(b.engine.done / b.engine.seconds)} | ${int(b.engine.done)} final, ${int(b.engine.failed)} failed${b.engine.timedOut ? ', TIMED OUT' : ''}; other load ${b.engineForeign.toFixed(2)} cores |`,
        `| webhook end to end against the engine alone | | | ${(b.total.seconds / b.engine.seconds).toFixed(2)}x the engine's time |`,
      );
    }
    burstText = lines.join('\n');
  }

  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const head = [
    `Webhook trigger bench: ${ctx.startedAt.toISOString()}, commit ${facts.revision || 'unknown'}`,
    `Database: ${facts.database} (one fresh database per target). Node ${process.version}, NocoBase ${pkgVersion('@nocobase/server')}, ${os.cpus().length} x ${cpu}.`,
    `Full app: the stock NocoBase 2.2.15 app (${path.relative(root, APP_DIR) || APP_DIR}) started by \`nocobase-v1 start\` (APP_LAUNCH_MODE=node: Gateway, app supervisor, the preset's plugins), this plugin installed from its tarball; driven over HTTP only. Light runner: \`app.callback()\` on a bare http.createServer (scripts/app.ts's plugins), driven over IPC.`,
    `Load: autocannon ${pkgVersion('autocannon')}, ${CONNECTIONS} connections over loopback, ${DURATION} s per run, median of ${ROUNDS} interleaved round(s) where a range is shown (flood: ${FLOOD_ROUNDS}). The apps, the Koa baseline and the load generator are separate processes; both apps run throughout.`,
    `Machine load average (1/5/15 min) before ${ctx.loadBefore.map((v) => v.toFixed(2)).join('/')}, after ${ctx.loadAfter.map((v) => v.toFixed(2)).join('/')}; "other load" = cores kept busy by processes that are not the bench's during the run (2 cores in all).`,
  ];
  const extra = [
    facts.fullStart ? `${facts.fullStart}.` : '',
    ...ids.map((id) => (facts[`middleware-${id}`] ? `${facts[`middleware-${id}`]}.` : '')),
    `"${FLOOR_POSITION}": full app = a Gateway request handler (Gateway.registerRequestHandler: the first thing the Gateway's HTTP server calls, where the webhook route is served in the full server, src/server/mount.ts), light runner = a no-op middleware first in the Koa chain, where the route is there. "${FLOOR_KOA}": the same no-op first in the app's Koa chain, which in the full app is reached only after the Gateway's own per-request work (app supervisor look-ups, app selector, file-path checks, a compose of the Koa chain per request): the difference between the two full-app floors is NocoBase's Gateway. "${FLOOR_RAW}": light runner only, plain node:http before app.callback()`,
    `Rows marked [backlog ...] leave executions queued: their backlog is checked (every 202's delivery id stored) and then purged before the next run; the burst below is the one scenario that waits for its drain, and it runs after all the others.`,
    ...notes.map((n) => `${n}.`),
    ...(facts.routingSetup ? [`Routing setup: ${facts.routingSetup}.`] : []),
    `errors = responses with another status than the scenario expects + socket errors + timeouts, over all rounds. RSS MB = peak VmRSS of the app's node process during the run. "vs engine" = against the engine's own rate in the same app process (the full app: through the bench-only probe plugin's webhookBench:engineSync; the light runner: over IPC), the better of 1 and ${CONNECTIONS} trigger() calls in flight, counting the runs that ended within the run's duration.`,
    PROFILE_DIR
      ? `CPU profiles (first run of each scenario per target) in ${PROFILE_DIR}; profiling slows the app, so these figures are not the reference ones.`
      : '',
  ].filter(Boolean);

  const reproduce = `Reproduce: \`npm run bench\` (SQLite), or \`DB_DIALECT=postgres DB_HOST=127.0.0.1 DB_PORT=5432 DB_USER=postgres npm run bench\`.`;
  const text = [
    head.join('\n'),
    '',
    main,
    '',
    targetTable,
    '',
    burstText,
    '',
    ...extra.map((e) => `- ${e}`),
    '',
    reproduce,
  ].join('\n');
  console.log(`\n${text}\n`);

  const resultsDir = path.join(__dirname, 'results');
  mkdirSync(resultsDir, { recursive: true });
  const file =
    process.env.BENCH_RESULTS ??
    path.join(resultsDir, ctx.dialect === 'sqlite' ? 'latest.md' : `latest-${ctx.dialect}.md`);
  writeFileSync(
    file,
    `# Webhook trigger bench: latest results\n\n${head.join('  \n')}\n\n${main}\n\n## Targets (issue 14)\n\n${targetTable}\n\n${burstText ? `## Burst, end to end (full app)\n\n${burstText}\n\n` : ''}## Notes\n\n${extra.map((e) => `- ${e}`).join('\n')}\n\n${reproduce} See bench/README.md.\n`,
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
    if (full) console.error(full.lastOutput());
    if (lightChild) console.error(lightChild.tail());
    await cleanup();
    process.exit(1);
  });
