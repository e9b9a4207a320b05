import { randomBytes } from 'node:crypto';
import path from 'node:path';

export type Dialect = 'sqlite' | 'postgres' | 'mariadb' | 'mysql';

export interface BenchDatabase {
  dialect: Dialect;
  /** What the app process gets as its DB_* environment. */
  env: Record<string, string>;
  /** A short description for the table's header (no password). */
  label: string;
  drop: () => Promise<void>;
}

/**
 * A database of the bench's own: a fresh SQLite file in the run's temp dir (default), or a
 * fresh database on the PostgreSQL / MariaDB / MySQL server named by the usual DB_* variables,
 * dropped again by `drop()`.
 */
export async function createBenchDatabase(tempDir: string): Promise<BenchDatabase> {
  const dialect = (process.env.DB_DIALECT ?? 'sqlite') as Dialect;
  if (dialect === 'sqlite') {
    const storage = path.join(tempDir, 'db', 'bench.sqlite');
    return {
      dialect,
      env: { DB_DIALECT: 'sqlite', DB_STORAGE: storage },
      label: 'SQLite (file, WAL)',
      drop: async () => {},
    };
  }
  if (!['postgres', 'mariadb', 'mysql'].includes(dialect)) throw new Error(`DB_DIALECT=${dialect} is not supported`);
  const host = process.env.DB_HOST ?? '127.0.0.1';
  const port = Number(process.env.DB_PORT ?? (dialect === 'postgres' ? 5432 : 3306));
  const user = process.env.DB_USER ?? (dialect === 'postgres' ? 'postgres' : 'root');
  const password = process.env.DB_PASSWORD ?? '';
  const name = `webhook_bench_${randomBytes(4).toString('hex')}`;
  const env = {
    DB_DIALECT: dialect,
    DB_HOST: host,
    DB_PORT: String(port),
    DB_USER: user,
    DB_PASSWORD: password,
    DB_DATABASE: name,
  };

  if (dialect === 'postgres') {
    const { Client } = await import('pg');
    const admin = async (sql: string) => {
      const client = new Client({ host, port, user, password, database: 'postgres' });
      await client.connect();
      try {
        await client.query(sql);
      } finally {
        await client.end();
      }
    };
    await admin(`CREATE DATABASE ${name}`);
    const version = await (async () => {
      const client = new Client({ host, port, user, password, database: name });
      await client.connect();
      try {
        return String((await client.query('SHOW server_version')).rows[0].server_version).split(' ')[0];
      } finally {
        await client.end();
      }
    })();
    return {
      dialect,
      env,
      label: `PostgreSQL ${version} (${host}:${port}, database ${name})`,
      drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
    };
  }

  const mysql = await import('mysql2/promise');
  const admin = async (sql: string) => {
    const conn = await mysql.createConnection({ host, port, user, password });
    try {
      const [rows] = await conn.query(sql);
      return rows as any;
    } finally {
      await conn.end();
    }
  };
  await admin(`CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  const rows = await admin('SELECT VERSION() AS v');
  return {
    dialect,
    env,
    label: `${dialect === 'mysql' ? 'MySQL' : 'MariaDB'} ${rows[0]?.v ?? ''} (${host}:${port}, database ${name})`,
    drop: async () => {
      await admin(`DROP DATABASE IF EXISTS ${name}`);
    },
  };
}
