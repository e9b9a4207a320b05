import type { Database } from '@nocobase/database';

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

  /** Sends every waiter on without its turn (the database is closing). */
  releaseAll(): void {
    for (const grant of this.waiting.splice(0)) grant(false);
    this.held = false;
  }
}

interface SqliteConnection {
  uuid?: string;
  configure(option: 'busyTimeout', value: number): void;
  close(callback?: (error: Error | null) => void): void;
  [configured]?: boolean;
}

export interface SqliteTuning {
  /** `false` (WEBHOOK_SQLITE_TUNING=off) leaves Sequelize's and SQLite's defaults untouched. */
  enabled: boolean;
  /** How long a connection waits for SQLite's lock, and a transaction for its turn. */
  busyTimeoutMs: number;
}

/**
 * SQLite has one writer at a time. Sequelize opens (and afterwards closes) a separate
 * connection for every transaction, with no busy timeout and DEFERRED transactions, so two
 * concurrent writers fail at once with SQLITE_BUSY (the engine's own sync and async runs do,
 * even without webhooks). This makes every connection wait for the lock (busy timeout), makes
 * transactions take the write lock when they begin (IMMEDIATE, so two readers never deadlock on
 * upgrade), turns on WAL so readers do not wait for writers, lets transactions take turns in
 * this process (see TransactionTurns), and keeps their connections open for the next
 * transaction instead of opening a file per transaction. A read-only transaction
 * (`transaction({ readOnly: true })`) begins DEFERRED and takes no turn: under WAL it reads
 * beside a writer. Nothing changes on other databases, nor with `enabled: false`.
 */
export async function configureSqliteConcurrency(db: Database, tuning: SqliteTuning): Promise<void> {
  if (db.options.dialect !== 'sqlite' || !tuning.enabled) return;
  const busyTimeoutMs = tuning.busyTimeoutMs;
  const sequelize = db.sequelize as any;
  sequelize.options.transactionType = 'IMMEDIATE';
  const storage = String((db.options as { storage?: string }).storage ?? ':memory:');
  const manager = sequelize.connectionManager;
  const generator = sequelize.dialect.queryGenerator;
  if (!generator[configured]) {
    generator[configured] = true;
    const startTransactionQuery = generator.startTransactionQuery.bind(generator);
    // A read-only transaction takes no write lock (IMMEDIATE would take it at BEGIN).
    generator.startTransactionQuery = (transaction: { parent?: unknown; options: { readOnly?: boolean } }) =>
      !transaction.parent && transaction.options.readOnly
        ? 'BEGIN DEFERRED TRANSACTION;'
        : startTransactionQuery(transaction);
  }
  if (!manager[configured]) {
    manager[configured] = true;
    const getConnection = manager.getConnection.bind(manager);
    const releaseConnection = manager.releaseConnection.bind(manager);
    const destroyConnection = manager.destroyConnection.bind(manager);
    const open = async (options: unknown): Promise<SqliteConnection> => {
      const connection: SqliteConnection = await getConnection(options);
      if (!connection[configured]) {
        connection.configure('busyTimeout', busyTimeoutMs);
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
      let closed = false;
      /** The transaction on `connection` is over: its turn (if it had one) goes to the next. */
      const finish = (connection: SqliteConnection) => {
        if (withTurn.delete(connection)) turns.release();
      };
      /** Stops keeping `connection` and closes it (its state is unknown, or it was closed by force). */
      const discard = async (connection: SqliteConnection) => {
        finish(connection);
        pooled.delete(connection);
        const at = idle.indexOf(connection);
        if (at >= 0) idle.splice(at, 1);
        for (const [key, value] of Object.entries(manager.connections)) {
          if (value === connection) delete manager.connections[key];
        }
        await new Promise<void>((resolve) => connection.close(() => resolve()));
      };

      manager.getConnection = async (options?: { uuid?: string; type?: string }) => {
        const uuid = options?.uuid;
        if (!uuid || uuid === 'default') return open(options);
        // A transaction: its turn first (a read-only one needs none), then a kept connection.
        const turn = options?.type === 'SELECT' ? false : await turns.acquire(busyTimeoutMs);
        try {
          if (closed) throw new Error('The database was closed while this transaction waited for its turn');
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
        if (!pooled.has(connection)) return releaseConnection(connection, force);
        // Released by force: closed, not kept, and its turn handed on.
        if (force) return void discard(connection);
        finish(connection);
        idle.push(connection);
      };
      // A commit or rollback failed: the connection's state is unknown, so it is not kept.
      manager.destroyConnection = async (connection: SqliteConnection) =>
        pooled.has(connection) ? discard(connection) : destroyConnection(connection);
      // Closing the database: waiters go on (and fail) at once instead of after the busy timeout.
      const onProcessExit = manager._onProcessExit.bind(manager);
      manager._onProcessExit = async () => {
        closed = true;
        idle.length = 0;
        turns.releaseAll();
        return onProcessExit();
      };
    }
  }
  if (storage !== ':memory:') await db.sequelize.query('PRAGMA journal_mode=WAL');
}
