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
  private readonly keyOfWorkflow = new Map<string, string>();

  get(key: string): IndexEntry | undefined {
    return this.byKey.get(key);
  }

  /**
   * Serves a workflow version under its key. A key it had before is dropped: another process
   * that changed the key tells this one only "enabled again", not what the old key was.
   */
  set(entry: IndexEntry): void {
    const id = String(entry.workflow.id);
    const previous = this.keyOfWorkflow.get(id);
    if (previous !== undefined && previous !== entry.config.key) this.delete(previous, id);
    this.byKey.set(entry.config.key, entry);
    this.keyOfWorkflow.set(id, entry.config.key);
  }

  /** Removes the key only if it still belongs to this workflow version. */
  delete(key: string, workflowId: number | string): void {
    const current = this.byKey.get(key);
    if (current && String(current.workflow.id) === String(workflowId)) {
      this.byKey.delete(key);
      this.keyOfWorkflow.delete(String(workflowId));
    }
  }

  get size(): number {
    return this.byKey.size;
  }
}
