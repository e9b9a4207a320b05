import type { Database } from '@nocobase/database';

const BUSY_TIMEOUT_MS = Number(process.env.WEBHOOK_SQLITE_BUSY_TIMEOUT_MS ?? 30_000);
const configured = Symbol('webhookSqliteConfigured');

/**
 * One transaction at a time, in arrival order, without sleeping. SQLite has one writer, and
 * every transaction here takes the write lock when it begins (IMMEDIATE); a transaction that
 * waits for it inside SQLite sleeps in growing steps (1, 2, 5, 10… ms) on a thread of libuv's
 * pool, and 32 waiters block every such thread. Waiting here instead costs no sleep and no
 * thread. A waiter that has waited the whole busy timeout goes on without its turn (SQLite
 * then decides), so code that opens a second transaction while holding one fails as before
 * instead of waiting for ever.
 */
class TransactionTurns {
  private held = false;
  private readonly waiting: Array<(turn: boolean) => void> = [];

  /** Resolves true with the turn, or false when `timeoutMs` passed without it. */
  acquire(timeoutMs: number): Promise<boolean> {
    if (!this.held) {
      this.held = true;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const at = this.waiting.indexOf(grant);
        if (at >= 0) this.waiting.splice(at, 1);
        resolve(false);
      }, timeoutMs);
      const grant = (turn: boolean) => {
        clearTimeout(timer);
        resolve(turn);
      };
      this.waiting.push(grant);
    });
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next(true);
    else this.held = false;
  }
}

interface SqliteConnection {
  uuid?: string;
  configure(option: 'busyTimeout', value: number): void;
  close(callback?: (error: Error | null) => void): void;
  [configured]?: boolean;
}

/**
 * SQLite has one writer at a time. Sequelize opens (and afterwards closes) a separate
 * connection for every transaction, with no busy timeout and DEFERRED transactions, so two
 * concurrent writers fail at once with SQLITE_BUSY (the engine's own sync and async runs do,
 * even without webhooks). This makes every connection wait for the lock (busy timeout), makes
 * transactions take the write lock when they begin (IMMEDIATE, so two readers never deadlock on
 * upgrade), turns on WAL so readers do not wait for writers, lets transactions take turns in
 * this process (see TransactionTurns), and keeps their connections open for the next
 * transaction instead of opening a file per transaction. Nothing changes on other databases.
 */
export async function configureSqliteConcurrency(db: Database): Promise<void> {
  if (db.options.dialect !== 'sqlite') return;
  const sequelize = db.sequelize as any;
  sequelize.options.transactionType = 'IMMEDIATE';
  const storage = String((db.options as { storage?: string }).storage ?? ':memory:');
  const manager = sequelize.connectionManager;
  if (!manager[configured]) {
    manager[configured] = true;
    const getConnection = manager.getConnection.bind(manager);
    const releaseConnection = manager.releaseConnection.bind(manager);
    const destroyConnection = manager.destroyConnection.bind(manager);
    const open = async (options: unknown): Promise<SqliteConnection> => {
      const connection: SqliteConnection = await getConnection(options);
      if (!connection[configured]) {
        connection.configure('busyTimeout', BUSY_TIMEOUT_MS);
        connection[configured] = true;
      }
      return connection;
    };

    if (storage === ':memory:') {
      manager.getConnection = open;
    } else {
      const turns = new TransactionTurns();
      /** Open connections kept for transactions; registered in `connections` so that close() closes them. */
      const idle: SqliteConnection[] = [];
      const pooled = new WeakSet<SqliteConnection>();
      const withTurn = new WeakSet<SqliteConnection>();
      let opened = 0;
      const finish = (connection: SqliteConnection) => {
        if (withTurn.delete(connection)) turns.release();
      };

      manager.getConnection = async (options?: { uuid?: string }) => {
        const uuid = options?.uuid;
        if (!uuid || uuid === 'default') return open(options);
        // A transaction: its turn first, then a kept connection (or a new one to keep).
        const turn = await turns.acquire(BUSY_TIMEOUT_MS);
        try {
          let connection = idle.pop();
          if (!connection) {
            connection = await open({ ...options, uuid: `webhook-transactions-${opened++}` });
            pooled.add(connection);
          }
          if (turn) withTurn.add(connection);
          return connection;
        } catch (error) {
          if (turn) turns.release();
          throw error;
        }
      };
      manager.releaseConnection = (connection: SqliteConnection, force?: boolean) => {
        if (!pooled.has(connection) || force) return releaseConnection(connection, force);
        finish(connection);
        idle.push(connection);
      };
      manager.destroyConnection = async (connection: SqliteConnection) => {
        if (!pooled.has(connection)) return destroyConnection(connection);
        // A commit or rollback failed: the connection's state is unknown, so it is not kept.
        finish(connection);
        pooled.delete(connection);
        for (const [key, value] of Object.entries(manager.connections)) {
          if (value === connection) delete manager.connections[key];
        }
        await new Promise<void>((resolve) => connection.close(() => resolve()));
      };
    }
  }
  if (storage !== ':memory:') await db.sequelize.query('PRAGMA journal_mode=WAL');
}
