import type { Transactionable } from '@nocobase/database';
import { Trigger, type WorkflowModel } from '@nocobase/plugin-workflow';
import { generateKey, normalizeConfig, type RawWebhookConfig, validateConfig } from './config';
import type { KeyIndex } from './key-index';
import { openSecrets, type SecretCipher } from './secrets';

/**
 * The `webhook` trigger type. It subscribes to nothing itself: `on`/`off` keep the key index
 * that the HTTP route reads, so enable, disable, update, delete and new versions are all
 * honoured by the route at once.
 */
export class WebhookTrigger extends Trigger {
  constructor(
    workflowPlugin: ConstructorParameters<typeof Trigger>[0],
    private readonly index: KeyIndex,
    private readonly cipher: SecretCipher,
  ) {
    super(workflowPlugin);
  }

  override on(workflow: WorkflowModel): void {
    const raw = (workflow.config ?? {}) as RawWebhookConfig;
    try {
      const config = normalizeConfig(raw, (v) => openSecrets(v, this.cipher));
      this.index.set({ workflow, config });
    } catch (error) {
      this.workflow
        .getLogger(workflow.id)
        .error(`webhook workflow ${workflow.id} not served: ${(error as Error).message}`);
    }
  }

  override off(workflow: WorkflowModel): void {
    const key = (workflow.config as RawWebhookConfig | undefined)?.key;
    if (typeof key === 'string') this.index.delete(key, workflow.id);
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
