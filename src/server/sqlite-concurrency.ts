import type { Database } from '@nocobase/database';

const BUSY_TIMEOUT_MS = Number(process.env.WEBHOOK_SQLITE_BUSY_TIMEOUT_MS ?? 30_000);
const configured = Symbol('webhookSqliteConfigured');

/**
 * SQLite has one writer at a time. Sequelize opens a separate connection for every
 * transaction, with no busy timeout and DEFERRED transactions, so two concurrent writers fail
 * at once with SQLITE_BUSY (the engine's own sync and async runs do, even without webhooks).
 * This makes every connection wait for the lock (busy timeout), makes transactions take the
 * write lock when they begin (IMMEDIATE, so two readers never deadlock on upgrade), and turns
 * on WAL so readers do not wait for writers. Nothing changes on other databases.
 */
export async function configureSqliteConcurrency(db: Database): Promise<void> {
  if (db.options.dialect !== 'sqlite') return;
  const sequelize = db.sequelize as any;
  sequelize.options.transactionType = 'IMMEDIATE';
  const manager = sequelize.connectionManager;
  if (!manager[configured]) {
    const getConnection = manager.getConnection.bind(manager);
    manager.getConnection = async (options: unknown) => {
      const connection = await getConnection(options);
      if (!connection[configured]) {
        connection.configure('busyTimeout', BUSY_TIMEOUT_MS);
        connection[configured] = true;
      }
      return connection;
    };
    manager[configured] = true;
  }
  const storage = String((db.options as { storage?: string }).storage ?? ':memory:');
  if (storage !== ':memory:') await db.sequelize.query('PRAGMA journal_mode=WAL');
}
