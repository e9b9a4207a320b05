import type { Database, Transaction } from '@nocobase/database';
import { TRIGGER_TYPE } from './constants';

/** Error shape that NocoBase's error handler (via the workflow plugin) answers with 400. */
export class WorkflowValidationError extends Error {
  readonly status = 400;
  constructor(readonly errors: Record<string, string>) {
    super(Object.values(errors).join('; '));
    this.name = 'WorkflowValidationError';
  }
}

/**
 * Refuses to enable a webhook workflow whose key is already served by another enabled
 * webhook workflow. Versions of one workflow share a key (only one of them is enabled).
 */
export async function assertKeyFree(db: Database, instance: any, transaction?: Transaction): Promise<void> {
  const key = instance.get('config')?.key;
  const others = await db.getRepository('workflows').find({
    filter: { type: TRIGGER_TYPE, enabled: true },
    fields: ['id', 'key', 'config', 'title'],
    transaction,
  });
  const clash = others.find(
    (w: any) =>
      w.get('key') !== instance.get('key') && w.get('id') !== instance.get('id') && w.get('config')?.key === key,
  );
  if (clash) {
    throw new WorkflowValidationError({
      key: `Webhook key "${key}" is already used by the enabled workflow "${clash.get('title')}" (id ${clash.get('id')})`,
    });
  }
}
