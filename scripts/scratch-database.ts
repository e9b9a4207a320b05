import { randomBytes } from 'node:crypto';

export interface ServerConnection {
  dialect: 'postgres' | 'mariadb' | 'mysql';
  host: string;
  port: number;
  user: string;
  password: string;
}

/** The PostgreSQL / MariaDB / MySQL server named by the usual DB_* variables. */
export function serverFromEnv(dialect: ServerConnection['dialect']): ServerConnection {
  return {
    dialect,
    host: process.env.DB_HOST ?? '127.0.0.1',
    port: Number(process.env.DB_PORT ?? (dialect === 'postgres' ? 5432 : 3306)),
    user: process.env.DB_USER ?? (dialect === 'postgres' ? 'postgres' : 'root'),
    password: process.env.DB_PASSWORD ?? '',
  };
}

/** Runs one statement on a database of that server (its maintenance database by default). */
export async function runOnServer(server: ServerConnection, sql: string, database?: string): Promise<any[]> {
  const { host, port, user, password } = server;
  if (server.dialect === 'postgres') {
    const { Client } = await import('pg');
    const client = new Client({ host, port, user, password, database: database ?? 'postgres' });
    await client.connect();
    try {
      return (await client.query(sql)).rows;
    } finally {
      await client.end();
    }
  }
  const mysql = await import('mysql2/promise');
  const conn = await mysql.createConnection({ host, port, user, password, database });
  try {
    const [rows] = await conn.query(sql);
    return rows as any[];
  } finally {
    await conn.end();
  }
}

/** Creates a database of its own on the server (for a test file or a bench run) and drops it later. */
export async function createScratchDatabase(
  server: ServerConnection,
  prefix: string,
): Promise<{ name: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const create =
    server.dialect === 'postgres'
      ? `CREATE DATABASE ${name}`
      : `CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`;
  await runOnServer(server, create);
  const drop =
    server.dialect === 'postgres' ? `DROP DATABASE IF EXISTS ${name} WITH (FORCE)` : `DROP DATABASE IF EXISTS ${name}`;
  return {
    name,
    drop: async () => {
      await runOnServer(server, drop);
    },
  };
}
