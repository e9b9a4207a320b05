import type { WorkflowModel } from '@nocobase/plugin-workflow';
import type { WebhookConfig } from './config';

export interface IndexEntry {
  workflow: WorkflowModel;
  config: WebhookConfig;
}

/**
 * Key to enabled workflow, so that a request needs no database look-up to find its workflow.
 * Only the enabled version of a workflow is here. It is written by one writer only, the
 * reconciler (key-reconciler.ts), which swaps in a whole new map built from committed rows.
 */
export class KeyIndex {
  private byKey = new Map<string, IndexEntry>();

  get(key: string): IndexEntry | undefined {
    return this.byKey.get(key);
  }

  /** Serves exactly these entries from now on (one swap: a request sees the old map or the new one). */
  replace(entries: Map<string, IndexEntry>): void {
    this.byKey = entries;
  }

  keys(): string[] {
    return [...this.byKey.keys()];
  }

  get size(): number {
    return this.byKey.size;
  }
}
