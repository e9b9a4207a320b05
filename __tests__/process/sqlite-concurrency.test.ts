import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app';
import { dialect } from '../helpers/database';

/** Resolves with `promise`, or rejects when it takes longer than `ms`. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

// src/server/sqlite-concurrency.ts: transactions take turns on SQLite; nothing may stall the app.
describe.skipIf(dialect !== 'sqlite')('SQLite turn-taking', () => {
  let t: TestApp;
  const sequelize = () => t.app.db.sequelize as any;

  beforeAll(async () => {
    t = await createTestApp();
    await sequelize().query('CREATE TABLE turn_probe (id INTEGER PRIMARY KEY, v TEXT)');
  });
  afterAll(async () => {
    await t?.destroy();
  });

  it('is on by default: IMMEDIATE transactions, WAL, a busy timeout', async () => {
    expect(sequelize().options.transactionType).toBe('IMMEDIATE');
    const [rows] = await sequelize().query('PRAGMA journal_mode');
    expect(rows[0].journal_mode).toBe('wal');
  });

  it('a kept connection released by force hands its turn on', async () => {
    const first = await sequelize().transaction();
    await sequelize().query("INSERT INTO turn_probe (v) VALUES ('first')", { transaction: first });
    // What Sequelize's SQLite manager does with `releaseConnection(connection, true)`: close it.
    sequelize().connectionManager.releaseConnection(first.connection, true);
    // Without the turn handed on, this waits the whole busy timeout (30 s).
    const second: any = await within(sequelize().transaction(), 3000, 'the next transaction');
    await sequelize().query("INSERT INTO turn_probe (v) VALUES ('second')", { transaction: second });
    await second.commit();
    await first.rollback().catch(() => {});
    const [rows] = await sequelize().query('SELECT v FROM turn_probe ORDER BY id');
    expect(rows.map((r: { v: string }) => r.v)).toEqual(['second']);
    // And the turns go on as before.
    const third: any = await within(sequelize().transaction(), 3000, 'a further transaction');
    await third.commit();
  });

  describe('a read-only transaction', () => {
    let writer: any = null;
    afterEach(async () => {
      await writer?.rollback().catch(() => {});
      writer = null;
    });

    it('completes while a writer holds the turn', async () => {
      writer = await sequelize().transaction();
      await sequelize().query("INSERT INTO turn_probe (v) VALUES ('uncommitted')", { transaction: writer });
      const read = async () => {
        const reader = await sequelize().transaction({ readOnly: true });
        const [rows] = await sequelize().query("SELECT count(*) AS n FROM turn_probe WHERE v = 'uncommitted'", {
          transaction: reader,
        });
        await reader.commit();
        return Number(rows[0].n);
      };
      // It reads the last committed state beside the writer (WAL), without waiting for the turn.
      expect(await within(read(), 3000, 'the read-only transaction')).toBe(0);
      await writer.commit();
      writer = null;
      expect(await within(read(), 3000, 'a read-only transaction')).toBe(1);
    });

    it('a writing transaction still waits for the turn', async () => {
      writer = await sequelize().transaction();
      let second: any = null;
      const waiting = sequelize()
        .transaction()
        .then((tx: any) => {
          second = tx;
        });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(second).toBeNull();
      await writer.commit();
      writer = null;
      await within(waiting, 3000, 'the waiting transaction');
      await second.commit();
    });
  });
});

describe.skipIf(dialect !== 'sqlite')('WEBHOOK_SQLITE_TUNING=off', () => {
  let t: TestApp;
  beforeAll(async () => {
    process.env.WEBHOOK_SQLITE_TUNING = 'off';
    try {
      t = await createTestApp();
    } finally {
      delete process.env.WEBHOOK_SQLITE_TUNING;
    }
  });
  afterAll(async () => {
    await t?.destroy();
  });

  it("leaves Sequelize's and SQLite's defaults", async () => {
    const sequelize = t.app.db.sequelize as any;
    expect(sequelize.options.transactionType).toBe('DEFERRED');
    const [rows] = await sequelize.query('PRAGMA journal_mode');
    expect(rows[0].journal_mode).not.toBe('wal');
    const manager = sequelize.connectionManager;
    expect(Object.hasOwn(manager, 'getConnection')).toBe(false);
    expect(Object.hasOwn(manager, 'releaseConnection')).toBe(false);
    expect(Object.hasOwn(sequelize.dialect.queryGenerator, 'startTransactionQuery')).toBe(false);
  });
});
