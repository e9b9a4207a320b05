import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DatabaseOptions } from './database';

const root = path.resolve(__dirname, '../..');

export interface ChildApp {
  origin: string;
  process: ChildProcess;
  output: () => string;
  kill: (signal?: NodeJS.Signals) => Promise<void>;
}

/** The environment that points `npm start` (scripts/start.ts) at a given database. */
export function databaseEnv(options: DatabaseOptions): Record<string, string> {
  if (options.dialect === 'sqlite') return { DB_DIALECT: 'sqlite', DB_STORAGE: options.storage ?? '' };
  return {
    DB_DIALECT: options.dialect,
    DB_HOST: options.host ?? '127.0.0.1',
    DB_PORT: String(options.port),
    DB_DATABASE: options.database ?? '',
    DB_USER: options.username ?? '',
    DB_PASSWORD: options.password ?? '',
  };
}

export function sharedStorage(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'webhook-child-'));
}

/**
 * Runs the product's server side (`scripts/start.ts`, what `npm run start:api` runs) in a child process on a free port.
 * Ports are drawn below Linux's ephemeral range (32768 and up), where outgoing connections take
 * theirs; a port that another process holds anyway is drawn again.
 */
export async function startChildApp(env: Record<string, string>, timeoutMs = 180_000): Promise<ChildApp> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(env, timeoutMs);
    } catch (error) {
      if (attempt >= 5 || !String((error as Error).message).includes('EADDRINUSE')) throw error;
    }
  }
}

async function startOnce(env: Record<string, string>, timeoutMs: number): Promise<ChildApp> {
  const port = 20000 + Math.floor(Math.random() * 12000);
  // One process: node itself with tsx's loader (the tsx CLI would fork a second process, and a
  // SIGKILL sent to it would not reach the app).
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'scripts/start.ts')], {
    cwd: root,
    env: {
      ...process.env,
      LOGGER_SILENT: 'false',
      LOGGER_LEVEL: 'error',
      WEBHOOK_DEMO: 'off',
      APP_PORT: String(port),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const origin = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`app did not start in time:\n${output}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /READY (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`app exited with ${code} before it was ready:\n${output}`));
    });
  });
  return {
    origin,
    process: child,
    output: () => output,
    kill: async (signal = 'SIGKILL') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** Root sign-in through NocoBase's normal auth API; returns a client for its resource API. */
export async function signInAsRoot(origin: string) {
  const res = await fetch(`${origin}/api/auth:signIn`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Authenticator': 'basic' },
    body: JSON.stringify({ account: 'admin@nocobase.com', password: 'admin123' }),
  });
  const body = (await res.json()) as any;
  if (res.status !== 200) throw new Error(`sign-in failed: ${res.status} ${JSON.stringify(body)}`);
  const token = body.data.token as string;
  return async (action: string, values?: unknown): Promise<any> => {
    const r = await fetch(`${origin}/api/${action}`, {
      method: values === undefined ? 'GET' : 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: values === undefined ? undefined : JSON.stringify(values),
    });
    const json = (await r.json()) as any;
    if (r.status >= 400) throw new Error(`${action}: ${r.status} ${JSON.stringify(json)}`);
    return json;
  };
}

/** Deletes this run's Redis keys (cache, worker ids) under `prefix`; pub/sub channels leave nothing. */
export async function dropRedisKeys(url: string | undefined, prefix: string): Promise<void> {
  if (!url) return;
  const { createClient } = await import('redis');
  const redis = createClient({ url, socket: { reconnectStrategy: false, connectTimeout: 3_000 } });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    const keys: string[] = [];
    for await (const batch of redis.scanIterator({ MATCH: `${prefix}:*`, COUNT: 500 })) keys.push(...batch);
    if (keys.length) await redis.del(keys);
    await redis.close();
  } catch {
    // Redis is not there: nothing of this run is in it either.
  }
}
