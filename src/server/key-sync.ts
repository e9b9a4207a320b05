import type { Application } from '@nocobase/server';
import { TRIGGER_TYPE } from '../common/constants';
import type { KeyReconciler } from './key-reconciler';

/** Pub/sub channel: webhook workflows changed in another process; rebuild the key index. */
const KEYS_CHANGED = 'webhook.keysChanged';

/** A webhook workflow row (a row loaded without its type counts too: tracking it costs one rebuild). */
const isWebhookRow = (instance: any) => {
  const type = instance?.get?.('type');
  return type === undefined || type === TRIGGER_TYPE;
};

/**
 * Tells the other processes to rebuild their key index. The engine's own sync messages (which
 * follow its toggles) do too, but NocoBase debounces those by a second; this channel is not.
 */
export function keysAnnouncer(app: Application, warn: (message: string) => void): () => void {
  return () => {
    app.pubSubManager
      .publish(KEYS_CHANGED, { type: KEYS_CHANGED }, { skipSelf: true })
      .catch((error: Error) => warn(`webhook keys change not announced: ${error.message}`));
  };
}

/**
 * Called in the plugin's beforeLoad, before the workflow plugin's load() registers its hooks, so
 * that a save is tracked before the engine's beforeSave switches the previous version off (hooks
 * run in registration order), and the index is cleared before the engine's beforeStop toggles.
 */
export function trackWorkflowSaves(app: Application, keys: KeyReconciler): void {
  const track = (instance: any, options: any) => {
    if (isWebhookRow(instance)) keys.track(options?.transaction);
  };
  app.db.on('workflows.beforeSave', track);
  app.db.on('workflows.beforeDestroy', track);
  app.on('beforeStop', () => keys.stop());
}

/**
 * Called in load: a save without a transaction committed row by row, so the save returns once
 * the index follows; another process's announcement rebuilds this one's index.
 */
export async function followWorkflowSaves(app: Application, keys: KeyReconciler, announce: () => void): Promise<void> {
  const settle = async (instance: any, options: any) => {
    if (!isWebhookRow(instance) || options?.transaction) return;
    await keys.reconcile();
    announce();
  };
  app.db.on('workflows.afterSave', settle);
  app.db.on('workflows.afterDestroy', settle);
  await app.pubSubManager.subscribe(KEYS_CHANGED, async () => keys.request());
}
