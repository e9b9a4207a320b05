import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

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
  const name = `wh_${randomBytes(5).toString('hex')}`;
  const base = {
    host: process.env.DB_HOST ?? '127.0.0.1',
    port: Number(process.env.DB_PORT ?? (dialect === 'postgres' ? 5432 : 3306)),
    username: process.env.DB_USER ?? (dialect === 'postgres' ? 'postgres' : 'root'),
    password: process.env.DB_PASSWORD ?? '',
  };
  if (dialect === 'postgres') {
    const { Client } = await import('pg');
    const admin = async (sql: string) => {
      const client = new Client({ ...base, user: base.username, database: 'postgres' });
      await client.connect();
      try {
        await client.query(sql);
      } finally {
        await client.end();
      }
    };
    await admin(`CREATE DATABASE ${name}`);
    return {
      options: { dialect, ...base, database: name, logging: false },
      drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
    };
  }
  const mysql = await import('mysql2/promise');
  const admin = async (sql: string) => {
    const conn = await mysql.createConnection({
      host: base.host,
      port: base.port,
      user: base.username,
      password: base.password,
    });
    try {
      await conn.query(sql);
    } finally {
      await conn.end();
    }
  };
  await admin(`CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  return {
    options: { dialect, ...base, database: name, logging: false },
    drop: () => admin(`DROP DATABASE IF EXISTS ${name}`),
  };
}
