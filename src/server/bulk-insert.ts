import type { Database, Transaction } from '@nocobase/database';

/**
 * One multi-row INSERT for a collection, without building a Sequelize model instance per row
 * (which costs more than the statement itself at thousands of rows a second). Values are still
 * formatted by each attribute's type (JSON, dates, booleans) for the dialect, and attribute
 * names are mapped to column names. No model hooks run: callers set ids and timestamps.
 */
export async function bulkInsert(
  db: Database,
  collection: string,
  rows: Array<Record<string, unknown>>,
  transaction?: Transaction,
): Promise<void> {
  if (!rows.length) return;
  const Model = db.getModel(collection) as any;
  const attributes = Model.rawAttributes as Record<string, { field?: string }>;
  const byColumn: Record<string, unknown> = {};
  for (const [name, definition] of Object.entries(attributes)) byColumn[definition.field ?? name] = definition;
  const records = rows.map((row) => {
    const record: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(row)) {
      const definition = attributes[name];
      if (definition && value !== undefined) record[definition.field ?? name] = value;
    }
    return record;
  });
  await db.sequelize.getQueryInterface().bulkInsert(Model.getTableName(), records, { transaction }, byColumn as any);
}
