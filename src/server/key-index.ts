import type { WorkflowModel } from '@nocobase/plugin-workflow';
import type { WebhookConfig } from './config';

export interface IndexEntry {
  workflow: WorkflowModel;
  config: WebhookConfig;
}

/**
 * Key to enabled workflow, kept by the trigger's on/off so that a request needs no
 * database look-up to find its workflow. Only the enabled version of a workflow is here.
 */
export class KeyIndex {
  private readonly byKey = new Map<string, IndexEntry>();

  get(key: string): IndexEntry | undefined {
    return this.byKey.get(key);
  }

  set(entry: IndexEntry): void {
    this.byKey.set(entry.config.key, entry);
  }

  /** Removes the key only if it still belongs to this workflow version. */
  delete(key: string, workflowId: number | string): void {
    const current = this.byKey.get(key);
    if (current && String(current.workflow.id) === String(workflowId)) this.byKey.delete(key);
  }

  get size(): number {
    return this.byKey.size;
  }
}
