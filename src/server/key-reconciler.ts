import type { Database, Transaction } from '@nocobase/database';
import type { WorkflowModel } from '@nocobase/plugin-workflow';
import { TRIGGER_TYPE } from '../common/constants';
import { normalizeConfig, type RawWebhookConfig } from './config';
import type { IndexEntry, KeyIndex } from './key-index';
import type { VerificationConfig } from './verify';

export interface ReconcilerLog {
  /** A workflow the database says is enabled but that is not served (bad config, key clash). */
  notServed(workflowId: number | string, reason: string): void;
  error(message: string): void;
}

const settled = Symbol('webhookKeysTracked');

/**
 * Keeps the key index equal to committed state. The index is never edited piece by piece: it is
 * rebuilt from the enabled webhook workflows in the database (one query, few rows) and swapped in.
 *
 * - A save or destroy of a webhook workflow inside a transaction is `track`ed before the engine
 *   toggles anything; the index is rebuilt in that transaction's `afterCommit` (which commit()
 *   awaits, so the HTTP action answers after the index is up to date). A rollback changes nothing.
 * - `request` (the trigger's on/off: start-up, another process's sync message, a save without a
 *   transaction) rebuilds at once, unless a tracked transaction is open: then the rebuild waits for
 *   it to end, so nothing is read outside an open transaction and nothing uncommitted is served.
 * - Rebuilds run one at a time; requests made while one runs share the single next one.
 */
export class KeyReconciler {
  private active = false;
  private current: Promise<void> | null = null;
  private queued: Promise<void> | null = null;
  private readonly open = new Set<Transaction>();
  private deferred = false;
  /** Workflow id -> the reason it is not served, as last logged (so a reason is logged once). */
  private readonly reported = new Map<string, string>();

  constructor(
    private readonly db: Database,
    private readonly index: KeyIndex,
    /** The stored (sealed) verification as the route checks with it. */
    private readonly openSecrets: (verification: VerificationConfig) => VerificationConfig,
    private readonly log: ReconcilerLog,
    /** Called after a tracked transaction committed and the index was rebuilt. */
    private readonly afterCommitted: () => void = () => {},
  ) {}

  /** Serves from the database from now on (after start). */
  async start(): Promise<void> {
    this.active = true;
    await this.reconcile();
  }

  /** Serves nothing until the next start (before stop; the database is about to close). */
  async stop(): Promise<void> {
    this.active = false;
    await this.idle();
    this.index.replace(new Map());
  }

  async idle(): Promise<void> {
    while (this.current || this.queued) await (this.queued ?? this.current)?.catch(() => undefined);
  }

  /** Something may have changed in committed state: rebuild (now, or when open saves end). */
  request(): void {
    if (!this.active) return;
    if (this.open.size) {
      this.deferred = true;
      return;
    }
    this.reconcile().catch((error) => this.log.error(`webhook keys not reloaded: ${(error as Error).message}`));
  }

  /** A webhook workflow is being saved or destroyed in `transaction`: rebuild when it commits. */
  track(transaction: Transaction | undefined | null): void {
    if (!transaction) return;
    let root = transaction as Transaction & { parent?: Transaction; [settled]?: true };
    while (root.parent) root = root.parent as typeof root;
    if (root[settled]) return;
    root[settled] = true;
    this.open.add(root);
    root.afterCommit(async () => {
      this.open.delete(root);
      this.deferred = false;
      try {
        await this.reconcile();
        this.afterCommitted();
      } catch (error) {
        this.log.error(`webhook keys not reloaded after commit: ${(error as Error).message}`);
      }
    });
    // Sequelize has no afterRollback hook: this transaction's own rollback says it ended.
    const rollback = root.rollback.bind(root);
    root.rollback = async () => {
      try {
        return await rollback();
      } finally {
        this.ended(root);
      }
    };
  }

  private ended(transaction: Transaction): void {
    this.open.delete(transaction);
    if (this.deferred && !this.open.size) {
      this.deferred = false;
      this.request();
    }
  }

  /** Rebuilds the index from committed rows; resolves once a rebuild that began after the call is done. */
  reconcile(): Promise<void> {
    if (!this.active) return Promise.resolve();
    if (this.queued) return this.queued;
    if (!this.current) return this.run();
    this.queued = this.current
      .catch(() => undefined)
      .then(() => {
        this.queued = null;
        return this.run();
      });
    return this.queued;
  }

  private run(): Promise<void> {
    const run: Promise<void> = this.load().finally(() => {
      if (this.current === run) this.current = null;
    });
    this.current = run;
    return run;
  }

  private async load(): Promise<void> {
    const rows = (await this.db.getRepository('workflows').find({
      filter: { type: TRIGGER_TYPE, enabled: true },
      sort: ['id'],
    })) as WorkflowModel[];
    if (!this.active) return;
    const next = new Map<string, IndexEntry>();
    const seen = new Set<string>();
    for (const workflow of rows) {
      const id = String(workflow.id);
      seen.add(id);
      let reason: string | null = null;
      try {
        const config = normalizeConfig((workflow.get('config') ?? {}) as RawWebhookConfig, this.openSecrets);
        const holder = next.get(config.key);
        // Refused on save; only a race between processes could leave two. The older one serves.
        if (holder) reason = `key "${config.key}" is already served by workflow ${holder.workflow.id}`;
        else next.set(config.key, { workflow, config });
      } catch (error) {
        reason = (error as Error).message;
      }
      if (reason && this.reported.get(id) !== reason) this.log.notServed(workflow.id, reason);
      if (reason) this.reported.set(id, reason);
      else this.reported.delete(id);
    }
    for (const id of this.reported.keys()) if (!seen.has(id)) this.reported.delete(id);
    this.index.replace(next);
  }
}
