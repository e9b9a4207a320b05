import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { appPlugins } from './plugins';

const root = path.resolve(__dirname, '..');

/** NocoBase's usual environment, with defaults that make a fresh clone run on embedded SQLite. */
export function prepareEnvironment(): void {
  process.env.NODE_MODULES_PATH ??= path.join(root, 'node_modules');
  process.env.STORAGE_PATH ??= path.join(root, 'storage');
  process.env.LOGGER_TRANSPORT ??= 'console';
  process.env.LOGGER_LEVEL ??= 'error';
  process.env.TZ ??= 'UTC';
  if (!process.env.APP_KEY) {
    // A per-installation signing key for sign-in tokens, kept beside the data.
    const file = path.join(process.env.STORAGE_PATH, '.app-key');
    mkdirSync(path.dirname(file), { recursive: true });
    if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 });
    process.env.APP_KEY = readFileSync(file, 'utf8').trim();
  }
}

export function databaseOptions(): Record<string, unknown> {
  const dialect = process.env.DB_DIALECT ?? 'sqlite';
  if (dialect === 'sqlite') {
    const storage = process.env.DB_STORAGE ?? path.join(process.env.STORAGE_PATH ?? 'storage', 'db', 'nocobase.sqlite');
    mkdirSync(path.dirname(storage), { recursive: true });
    return { dialect, storage, logging: process.env.DB_LOGGING === 'on' };
  }
  return {
    dialect,
    host: process.env.DB_HOST ?? '127.0.0.1',
    port: Number(process.env.DB_PORT ?? (dialect === 'postgres' ? 5432 : 3306)),
    database: process.env.DB_DATABASE ?? 'nocobase',
    username: process.env.DB_USER ?? (dialect === 'postgres' ? 'postgres' : 'root'),
    password: process.env.DB_PASSWORD ?? '',
    timezone: process.env.DB_TIMEZONE ?? '+00:00',
    logging: process.env.DB_LOGGING === 'on',
  };
}

/** A real NocoBase application with the workflow engine and this plugin, ACL on. */
export async function createApplication() {
  const appKeyGiven = Boolean(process.env.APP_KEY);
  prepareEnvironment();
  const { Application } = await import('@nocobase/server');
  // Several processes on one database: cache, pub/sub and worker ids on Redis (scripts/cluster.ts).
  const { clusterFromEnv } = await import('./cluster');
  const cluster = await clusterFromEnv('main');
  const app = new Application({
    name: 'main',
    database: databaseOptions() as any,
    resourcer: { prefix: '/api' },
    acl: true,
    plugins: appPlugins(),
    ...cluster?.options,
  });
  if (cluster) {
    cluster.attach(app);
    console.log(`Cluster settings: ${cluster.summary}`);
    if (!appKeyGiven) console.warn('Cluster: set the same APP_KEY in every process, or sign-ins will not carry over');
  }
  return app;
}
