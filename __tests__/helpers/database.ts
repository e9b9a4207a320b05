import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createScratchDatabase, serverFromEnv } from '../../scripts/scratch-database';

export type Dialect = 'sqlite' | 'postgres' | 'mariadb' | 'mysql';

export const dialect = (process.env.DB_DIALECT ?? 'sqlite') as Dialect;

export interface DatabaseOptions {
  dialect: Dialect;
  storage?: string;
  host?: string;
  port?: number;
  username?: string;
  password?: string;
  database?: string;
  logging?: boolean;
}

/**
 * A database of its own for one test app: a fresh SQLite file, or a fresh database on the
 * PostgreSQL / MariaDB server named by the usual DB_* variables.
 */
export async function freshDatabase(): Promise<{ options: DatabaseOptions; drop: () => Promise<void> }> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'webhook-test-'));
    return { options: { dialect, storage: path.join(dir, 'db.sqlite'), logging: false }, drop: async () => {} };
  }
  const server = serverFromEnv(dialect);
  const scratch = await createScratchDatabase(server, 'wh');
  const { host, port, user: username, password } = server;
  return {
    options: { dialect, host, port, username, password, database: scratch.name, logging: false },
    drop: scratch.drop,
  };
}

/** A raw SQL client on a PostgreSQL test database (what a second process would see). */
export async function postgresClient(
  options: DatabaseOptions,
): Promise<{ sql: (text: string, values?: unknown[]) => Promise<any[]>; close: () => Promise<void> }> {
  const { Client } = await import('pg');
  const client = new Client({
    host: options.host,
    port: options.port,
    user: options.username,
    password: options.password,
    database: options.database,
  });
  await client.connect();
  return {
    sql: async (text, values) => (await client.query(text, values as any[])).rows,
    close: () => client.end(),
  };
}
