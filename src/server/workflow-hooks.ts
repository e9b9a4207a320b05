import type { Database, Transaction } from '@nocobase/database';
import { formatProblem, type Problem } from '../common/checks';
import { TRIGGER_TYPE } from '../common/constants';
import { MESSAGES } from '../common/messages';
import { generateKey, type RawWebhookConfig } from './config';
import { type SecretCipher, sealSecrets } from './secrets';

/**
 * Error shape that NocoBase's error handler (via the workflow plugin) answers with 400, one
 * message per field; `problems` lets the answer be given in the admin's language.
 */
export class WorkflowValidationError extends Error {
  readonly status = 400;
  readonly errors: Record<string, string>;
  constructor(readonly problems: Record<string, Problem>) {
    const errors = Object.fromEntries(Object.entries(problems).map(([field, p]) => [field, formatProblem(p)]));
    super(Object.values(errors).join('; '));
    this.errors = errors;
    this.name = 'WorkflowValidationError';
  }
}

/**
 * Before a webhook workflow is saved: a key is generated when there is none, secrets are sealed
 * (those sent back masked keep their stored value), and enabling is refused when another
 * enabled webhook workflow already serves the key.
 */
export async function beforeWorkflowSave(
  db: Database,
  cipher: SecretCipher,
  instance: any,
  options: any,
): Promise<void> {
  if (options?.cycling || instance.get('type') !== TRIGGER_TYPE) return;
  const config = { ...((instance.get('config') ?? {}) as RawWebhookConfig) } as Record<string, any>;
  if (typeof config.key !== 'string' || !config.key) config.key = generateKey();
  if (config.verification && typeof config.verification === 'object') {
    config.verification = { ...config.verification };
    const missing = sealSecrets(config, instance.previous('config') ?? undefined, cipher);
    if (missing.length) {
      throw new WorkflowValidationError(
        Object.fromEntries(missing.map((f) => [`verification.${f}`, MESSAGES.enterSecret(f)])),
      );
    }
  }
  instance.set('config', config);
  if (instance.get('enabled')) await assertKeyFree(db, instance, options?.transaction);
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
    throw new WorkflowValidationError({ key: MESSAGES.keyInUse(key, clash.get('title'), clash.get('id')) });
  }
}
