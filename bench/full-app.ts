/**
 * The full NocoBase application as users run it (`nocobase-v1 start`: its Gateway, app
 * supervisor and the preset's plugins), the same stock NocoBase 2.2.15 app that `npm start`
 * serves (e2e/setup-app.sh, in BENCH_APP_DIR, default `.bench-app`), with this plugin installed
 * from its tarball (`nocobase-v1 pm add`), on a fresh database of the bench's own.
 *
 * The bench talks to it over HTTP only: it signs in as root (the app's .env), creates workflows
 * through the API, counts executions through the API, and reaches the engine alone, the floors,
 * the backlog purge and CPU profiles through a bench-only probe plugin
 * (bench/full-app-plugin, `webhookBench:*` actions) installed beside it.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { EngineRunResult, ExecStats, WorkflowSpec } from './protocol';

const root = path.resolve(__dirname, '..');

export interface FullAppOptions {
  appDir: string;
  tempDir: string;
  dbEnv: Record<string, string>;
  port: number;
  startTimeoutSec: number;
  /** Extra `node` arguments of the app process (e.g. --cpu-prof), through NODE_OPTIONS where allowed. */
  nodeOptions?: string;
  log: (line: string) => void;
}

function readEnvFile(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(file)) return out;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) out[m[1]] = m[2];
  }
  return out;
}

/** Builds and packs this plugin and the probe plugin; returns the two tarballs. */
export function packPlugins(outDir: string): { webhook: string; probe: string } {
  mkdirSync(outDir, { recursive: true });
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  const pack = (dir: string) => {
    const before = new Set(readdirSync(outDir));
    execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', outDir], {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const made = readdirSync(outDir).find((f) => f.endsWith('.tgz') && !before.has(f));
    if (!made) throw new Error(`npm pack made no tarball in ${dir}`);
    return path.join(outDir, made);
  };
  return { webhook: pack(root), probe: pack(path.join(__dirname, 'full-app-plugin')) };
}

export class FullApp {
  child: ChildProcess | null = null;
  origin = '';
  pid = 0;
  token = '';
  private tail = '';
  readonly env: NodeJS.ProcessEnv;
  readonly account: string;
  readonly password: string;

  constructor(private readonly options: FullAppOptions) {
    const dotenv = readEnvFile(path.join(options.appDir, '.env'));
    this.account = process.env.INIT_ROOT_EMAIL ?? dotenv.INIT_ROOT_EMAIL ?? 'admin@nocobase.com';
    this.password = process.env.INIT_ROOT_PASSWORD ?? dotenv.INIT_ROOT_PASSWORD ?? 'admin123';
    const env: NodeJS.ProcessEnv = { ...process.env };
    // The bench's own settings must not leak into the app (DB_* of the bench's database only).
    for (const key of Object.keys(env)) {
      if (/^(DB_|BENCH_|WEBHOOK_|NODE_OPTIONS$|STORAGE_PATH$|NODE_MODULES_PATH$)/.test(key)) delete env[key];
    }
    this.env = {
      ...env,
      ...options.dbEnv,
      APP_PORT: String(options.port),
      APP_LAUNCH_MODE: 'node',
      LOGGER_LEVEL: process.env.LOGGER_LEVEL ?? 'error',
      // As `npm start` (scripts/serve-full-app.sh): SQLite waits for its lock in libuv's pool.
      UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? '64',
      WEBHOOK_DEMO: 'off',
    };
  }

  private nb(args: string[], logFile: string) {
    const out = createWriteStream(logFile, { flags: 'a' });
    return new Promise<void>((resolve, reject) => {
      const child = spawn('npx', ['--no-install', 'nocobase-v1', ...args], {
        cwd: this.options.appDir,
        env: this.env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout.pipe(out, { end: false });
      child.stderr.pipe(out, { end: false });
      child.once('exit', (code) => {
        out.end();
        if (code === 0) resolve();
        else reject(new Error(`nocobase-v1 ${args.join(' ')} exited ${code}; see ${logFile}`));
      });
    });
  }

  /** Installs the app on the fresh database and adds + enables the two plugins from their tarballs. */
  async install(tarballs: { webhook: string; probe: string }) {
    const log = path.join(this.options.tempDir, 'full-app-install.log');
    await this.nb(['install', '-f'], log);
    for (const name of ['nocobase-plugin-webhook-trigger', 'nocobase-plugin-webhook-bench']) {
      for (const dir of ['storage/plugins', 'node_modules']) {
        execFileSync('rm', ['-rf', path.join(this.options.appDir, dir, name)]);
      }
    }
    await this.nb(['pm', 'add', tarballs.webhook, tarballs.probe], log);
    await this.nb(['pm', 'enable', 'nocobase-plugin-webhook-trigger', 'nocobase-plugin-webhook-bench'], log);
  }

  /** `nocobase-v1 start` (APP_LAUNCH_MODE=node: a plain node process), until it answers. */
  async start(): Promise<void> {
    const logFile = path.join(this.options.tempDir, 'full-app.log');
    const log = createWriteStream(logFile);
    const env = { ...this.env };
    if (this.options.nodeOptions) env.NODE_OPTIONS = this.options.nodeOptions;
    const child = spawn('npx', ['--no-install', 'nocobase-v1', 'start'], {
      cwd: this.options.appDir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.child = child;
    const keep = (chunk: Buffer) => {
      log.write(chunk);
      this.tail = (this.tail + chunk.toString()).slice(-4000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.once('exit', () => log.end());
    this.origin = `http://127.0.0.1:${this.options.port}`;
    const deadline = Date.now() + this.options.startTimeoutSec * 1000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the full app exited (${child.exitCode})\n${this.lastOutput()}`);
      try {
        const res = await fetch(`${this.origin}/api/__health_check`);
        await res.arrayBuffer();
        if (res.status === 200) break;
      } catch {}
      if (Date.now() > deadline) throw new Error(`the full app did not answer in time\n${this.lastOutput()}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    await this.signIn();
    const info = await this.action<{ pid: number }>('webhookBench:info');
    this.pid = info.pid;
  }

  lastOutput(): string {
    return `--- last output of the full app ---\n${this.tail.trim() || '(none)'}`;
  }

  async signIn() {
    const res = await fetch(`${this.origin}/api/auth:signIn`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Authenticator': 'basic' },
      body: JSON.stringify({ account: this.account, password: this.password }),
    });
    const body = (await res.json()) as any;
    if (res.status !== 200) throw new Error(`root sign-in failed: ${res.status} ${JSON.stringify(body)}`);
    this.token = body.data.token;
  }

  /** One API call as root: GET without values, POST with them; returns `data`. */
  async action<T = any>(action: string, values?: unknown, timeoutMs = 120_000): Promise<T> {
    return (await this.call<T>(action, values, timeoutMs)).data;
  }

  async call<T = any>(action: string, values?: unknown, timeoutMs = 120_000): Promise<{ data: T; meta?: any }> {
    const res = await fetch(`${this.origin}/api/${action}`, {
      method: values === undefined ? 'GET' : 'POST',
      headers: {
        'Content-Type': 'application/json',
        'X-Authenticator': 'basic',
        Authorization: `Bearer ${this.token}`,
      },
      body: values === undefined ? undefined : JSON.stringify(values),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let body: any;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    if (res.status >= 400) throw new Error(`${action}: HTTP ${res.status} ${text.slice(0, 500)}`);
    return body;
  }

  /** A workflow through the API: create (disabled), its nodes in a chain, then enable it. */
  async createWorkflow(spec: WorkflowSpec) {
    const workflow = await this.action('workflows:create', {
      title: `bench ${spec.name}`,
      type: 'webhook',
      sync: spec.sync,
      enabled: false,
      config: spec.config,
    });
    let upstreamId: number | null = null;
    for (const node of spec.nodes) {
      const created: any = await this.action(`workflows/${workflow.id}/nodes:create`, {
        type: node.type,
        config: node.config ?? {},
        upstreamId,
      });
      upstreamId = created.id;
    }
    await this.action(`workflows:update?filterByTk=${workflow.id}`, { enabled: true });
    return { id: String(workflow.id), key: String(workflow.key), webhookKey: String(spec.config.key) };
  }

  private async count(filter: Record<string, unknown>): Promise<number> {
    const q = encodeURIComponent(JSON.stringify(filter));
    const body = await this.call(`executions:list?filter=${q}&pageSize=1&fields=id`);
    return Number(body.meta?.count ?? 0);
  }

  /** Executions of a workflow by status, through the API (`executions:list`'s count). */
  async execStats(workflowId: string): Promise<ExecStats> {
    const id = Number(workflowId);
    const [total, started, resolved, failed] = await Promise.all([
      this.count({ workflowId: id }),
      this.count({ workflowId: id, status: 0 }),
      this.count({ workflowId: id, status: 1 }),
      this.count({ workflowId: id, status: { $lt: 0 } }),
    ]);
    return { total, queueing: total - started - resolved - failed, started, resolved, failed };
  }

  /** How many of `ids` are stored as an execution's eventKey, through the API (200 per request). */
  async verifyIds(workflowId: string, ids: string[]) {
    let found = 0;
    for (let i = 0; i < ids.length; i += 200) {
      found += await this.count({ workflowId: Number(workflowId), eventKey: { $in: ids.slice(i, i + 200) } });
    }
    return { ids: ids.length, found, unique: new Set(ids).size };
  }

  engineSync(args: {
    workflowId: string;
    concurrency: number;
    durationMs: number;
    maxRuns: number;
    graceMs: number;
  }): Promise<EngineRunResult> {
    return this.action('webhookBench:engineSync', args, args.durationMs + args.graceMs + 60_000);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      // The whole group: npx, the CLI and the app's node process.
      process.kill(-child.pid!, 'SIGTERM');
    } catch {}
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {}
    }, 20_000);
    await exited;
    // The app's node process may outlive the CLI for a moment (profiles are written at exit).
    for (let i = 0; i < 100 && this.pid && existsSync(`/proc/${this.pid}`); i++) {
      await new Promise((r) => setTimeout(r, 200));
    }
    clearTimeout(timer);
  }

  killNow(): void {
    try {
      if (this.child?.pid) process.kill(-this.child.pid, 'SIGKILL');
    } catch {}
  }
}
