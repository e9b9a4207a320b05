import type { Transactionable } from '@nocobase/database';
import { Trigger, type WorkflowModel } from '@nocobase/plugin-workflow';
import { generateKey, type RawWebhookConfig, validateConfig } from './config';
import type { KeyReconciler } from './key-reconciler';

/**
 * The `webhook` trigger type. It subscribes to nothing itself. The engine calls `on`/`off`
 * inside the save that enables or disables a workflow, before that save has committed (and
 * possibly before a later hook refuses it), so they do not touch the key index: they only say
 * "committed state may have changed", and the reconciler rebuilds the index from committed rows
 * (at once, or when the open save commits). A config that fails normalizeConfig is logged and
 * not served.
 */
export class WebhookTrigger extends Trigger {
  constructor(
    workflowPlugin: ConstructorParameters<typeof Trigger>[0],
    private readonly keys: KeyReconciler,
  ) {
    super(workflowPlugin);
  }

  override on(_workflow: WorkflowModel): void {
    this.keys.request();
  }

  override off(_workflow: WorkflowModel): void {
    this.keys.request();
  }

  override validateConfig(config: Record<string, unknown>): Record<string, string> | null {
    return validateConfig(config);
  }

  override validateEvent(): boolean {
    return true;
  }

  /** A new version keeps its key; a copy that becomes another workflow gets a new one. */
  override duplicateConfig(workflow: WorkflowModel, { origin }: Transactionable & { origin?: WorkflowModel }): object {
    const config = { ...((workflow.config ?? {}) as RawWebhookConfig) };
    if (!origin || origin.key !== workflow.key) config.key = generateKey();
    return config;
  }
}
