import type { Database } from '@nocobase/database';
import { DELIVERIES } from '../../common/constants';
import type { HttpAnswer } from '../answer';

/** The first answer stored for an idempotency key (the delivery log is shared by every process). */
export async function storedAnswer(db: Database, idempotencyKey: string): Promise<HttpAnswer | null> {
  const row = await db.getRepository(DELIVERIES).findOne({
    filter: { idempotencyKey, response: { $notEmpty: true } },
    sort: ['createdAt'],
  });
  return (row?.get('response') as HttpAnswer | undefined) ?? null;
}

/** Which of these deliveries still have a row in the log. */
export async function deliveriesKept(db: Database, ids: string[]): Promise<Set<string>> {
  const rows = await db.getModel(DELIVERIES).findAll({ attributes: ['id'], where: { id: ids }, raw: true });
  return new Set(rows.map((r: any) => String(r.id)));
}
