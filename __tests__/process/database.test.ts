import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app';
import { dialect } from '../helpers/database';

// The suite runs on the database that DB_DIALECT names (CI: sqlite, postgres, mariadb).
describe('test database', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t?.destroy();
  });

  it(`is a real ${dialect} database`, async () => {
    expect(t.app.db.sequelize.getDialect()).toBe(dialect);
    const [rows] = await t.app.db.sequelize.query(
      dialect === 'sqlite' ? 'select sqlite_version() as v' : 'select version() as v',
    );
    const version = String((rows as any[])[0].v);
    if (dialect === 'mariadb') expect(version).toMatch(/MariaDB/);
    if (dialect === 'postgres') expect(version).toMatch(/PostgreSQL/);
    if (dialect === 'sqlite') expect(version).toMatch(/^3\./);
  });
});
