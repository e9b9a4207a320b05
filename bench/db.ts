import path from 'node:path';
import { createScratchDatabase, runOnServer, serverFromEnv } from '../scripts/scratch-database';

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
  const server = serverFromEnv(dialect);
  const scratch = await createScratchDatabase(server, 'webhook_bench');
  const { host, port, user, password } = server;
  const name = scratch.name;
  const env = {
    DB_DIALECT: dialect,
    DB_HOST: host,
    DB_PORT: String(port),
    DB_USER: user,
    DB_PASSWORD: password,
    DB_DATABASE: name,
  };
  const version =
    dialect === 'postgres'
      ? String((await runOnServer(server, 'SHOW server_version', name))[0].server_version).split(' ')[0]
      : String((await runOnServer(server, 'SELECT VERSION() AS v'))[0]?.v ?? '');
  const product = dialect === 'postgres' ? 'PostgreSQL' : dialect === 'mysql' ? 'MySQL' : 'MariaDB';
  return { dialect, env, label: `${product} ${version} (${host}:${port}, database ${name})`, drop: scratch.drop };
}
