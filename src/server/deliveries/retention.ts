import type { Database } from '@nocobase/database';
import { Op } from '@nocobase/database';
import { DELIVERIES } from '../../common/constants';
import type { WebhookSettings } from '../settings';

export interface RetentionOptions {
  /** Rows older than this are deleted. */
  maxAgeDays: number;
  /** At most this many rows are kept (the newest). */
  maxRows: number;
}

export function retentionFromSettings(settings: WebhookSettings): RetentionOptions {
  return { maxAgeDays: settings.WEBHOOK_DELIVERY_RETENTION_DAYS, maxRows: settings.WEBHOOK_DELIVERY_MAX_ROWS };
}

/** Deletes delivery-log rows past the age limit and beyond the row limit; returns how many. */
export async function sweepDeliveries(db: Database, { maxAgeDays, maxRows }: RetentionOptions): Promise<number> {
  const Model = db.getModel(DELIVERIES);
  let deleted = await Model.destroy({
    where: { createdAt: { [Op.lt]: new Date(Date.now() - maxAgeDays * 86_400_000) } },
  });
  const boundary = (await Model.findOne({
    attributes: ['createdAt'],
    order: [['createdAt', 'DESC']],
    offset: maxRows,
    raw: true,
  })) as { createdAt: Date } | null;
  if (boundary) {
    deleted += await Model.destroy({ where: { createdAt: { [Op.lte]: boundary.createdAt } } });
  }
  return deleted;
}

/** Marks sync deliveries whose process stopped before answering (status still empty past their time). */
export async function markCutOff(db: Database, now = new Date()): Promise<number> {
  const [count] = await db.getModel(DELIVERIES).update(
    {
      errorCode: 'CUT_OFF',
      errorMessage: 'The process serving this request stopped before it answered; the caller got no answer',
    },
    { where: { status: null, errorCode: null, expectedBy: { [Op.lt]: now } } },
  );
  return count;
}
