import { randomUUID } from 'node:crypto';
import { type Database, DataTypes, Op } from '@nocobase/database';
import type PluginWorkflowServer from '@nocobase/plugin-workflow';
import { EXECUTION_STATUS } from '@nocobase/plugin-workflow';
import { TRIGGER_TYPE } from '../../common/constants';
import { RUNNER_FIELD, RUNNERS } from './collection';
import type { RecoverySettings } from './settings';

/** Most runs taken over in one sweep; the next sweep goes on. */
const SWEEP_BATCH = 200;

interface Candidate {
  id: string | number;
  workflowId: string | number;
  status: number | null;
  expiresAt: Date | null;
  runner: string | null;
}

/**
 * Finishes the webhook runs of processes that died. Every process is a runner with a random id
 * and a heartbeat row in `webhookRunners`; every execution it starts (the engine's conditional
 * UPDATE to `started`) or queues (the async inbox's INSERT) carries that id in the same
 * statement, so that ownership costs no query of its own. A runner whose heartbeat is older than
 * the lease is dead (with `singleProcess`, every runner but this one is). Its runs are taken by
 * whichever live process sees them first, each with a conditional UPDATE on the owner it saw:
 * - a started async run is put back to queued and its jobs deleted, then handed to the engine's
 *   queue: it runs again from the start (so a node before the crash may run twice);
 * - a queued async run (accepted, never picked up) is handed to the engine's queue;
 * - a started sync run is ended as aborted: its caller got no answer (or a 504) and retries;
 * - a run past its workflow's timeout is left to the engine, which aborts it.
 */
export class RunRecovery {
  readonly id = randomUUID();
  private timer: NodeJS.Timeout | null = null;
  private sweeping: Promise<void> | null = null;
  private registered = false;

  constructor(
    private readonly db: Database,
    private readonly engine: PluginWorkflowServer,
    private readonly settings: RecoverySettings,
    private readonly log: { warn: (message: string) => void; info: (message: string) => void },
  ) {}

  /** Tags each execution set to `started` with this runner, inside the statement that does it. */
  tagExecutions(): void {
    const addField = (options: { fields?: string[] }) => {
      if (Array.isArray(options.fields) && !options.fields.includes(RUNNER_FIELD)) options.fields.push(RUNNER_FIELD);
    };
    // The engine's Dispatcher.enter: Model.update({ dispatched, status: STARTED, … }, { where }).
    this.db.on('executions.beforeBulkUpdate', (options: any) => {
      if (options.attributes?.status === EXECUTION_STATUS.STARTED) {
        options.attributes[RUNNER_FIELD] = this.id;
        addField(options);
      }
    });
    // Instance saves: a deferred execution created started, Dispatcher.process's update.
    this.db.on('executions.beforeSave', (instance: any, options: any) => {
      if (instance.get('status') === EXECUTION_STATUS.STARTED && instance.changed('status')) {
        instance.set(RUNNER_FIELD, this.id);
        addField(options);
      }
    });
  }

  /** Adds the owner column to an `executions` table created before this plugin version. */
  async ensureColumn(): Promise<void> {
    const model = this.db.getModel('executions') as any;
    const column = model.rawAttributes[RUNNER_FIELD]?.field ?? RUNNER_FIELD;
    const queryInterface = this.db.sequelize.getQueryInterface();
    const table = model.getTableName();
    const described = await queryInterface.describeTable(table);
    if (!described[column]) await queryInterface.addColumn(table, column, { type: DataTypes.STRING, allowNull: true });
  }

  /** Writes this runner's row: from now on its runs count as owned by a live process. */
  async register(): Promise<void> {
    const now = new Date();
    await this.db.getModel(RUNNERS).upsert({ id: this.id, startedAt: now, heartbeatAt: now });
    this.registered = true;
  }

  /** Recovers at once, then heartbeats and sweeps every `heartbeatMs`. */
  start(): void {
    if (this.timer) return;
    this.sweep();
    this.timer = setInterval(() => {
      this.heartbeat()
        .then(() => this.sweep())
        .catch((error) => this.log.warn(`webhook runner heartbeat failed: ${error.message}`));
    }, this.settings.heartbeatMs);
    this.timer.unref();
  }

  /** Stops the timer; a clean stop deletes the row, so that what is left is recovered at once. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.sweeping;
    if (!this.registered) return;
    this.registered = false;
    await this.db
      .getModel(RUNNERS)
      .destroy({ where: { id: this.id } })
      .catch((error: Error) => this.log.warn(`webhook runner row not removed: ${error.message}`));
  }

  /** One pass; concurrent calls share it. Resolves when done, never rejects. */
  sweep(): Promise<void> {
    if (!this.sweeping) {
      this.sweeping = this.recover()
        .catch((error) => this.log.warn(`webhook run recovery failed: ${(error as Error).message}`))
        .finally(() => {
          this.sweeping = null;
        });
    }
    return this.sweeping;
  }

  private async heartbeat(): Promise<void> {
    const [updated] = await this.db
      .getModel(RUNNERS)
      .update({ heartbeatAt: new Date() }, { where: { id: this.id } } as any);
    if (!updated && this.registered) {
      // Another process found this one silent for a lease and took its runs (an event loop
      // blocked that long, or a clock far off): those runs may now run twice.
      this.log.warn(`webhook runner ${this.id} was taken for dead; its runs may have been recovered elsewhere`);
      await this.register();
    }
  }

  private async recover(): Promise<void> {
    // A process that runs no executions (WORKER_MODE without workflow:process) recovers none.
    if (!(this.engine as any).serving?.()) return;
    const workflows = (await this.db.getModel('workflows').findAll({
      attributes: ['id', 'sync'],
      where: { type: TRIGGER_TYPE },
      raw: true,
    })) as unknown as Array<{ id: string | number; sync: boolean }>;
    if (!workflows.length) return;
    const sync = new Set(workflows.filter((w) => w.sync).map((w) => String(w.id)));

    // Candidates before live runners: a runner writes its row before it starts anything, so a
    // run started after this read cannot be mistaken for a dead runner's.
    const candidates = (
      (await this.db.getModel('executions').findAll({
        attributes: ['id', 'workflowId', 'status', 'expiresAt', [RUNNER_FIELD, 'runner']],
        where: {
          workflowId: workflows.map((w) => w.id),
          [Op.or]: [
            { status: EXECUTION_STATUS.STARTED },
            { status: null, dispatched: false, [RUNNER_FIELD]: { [Op.ne]: null } },
          ],
        },
        order: [['id', 'ASC']],
        limit: SWEEP_BATCH,
        raw: true,
      })) as unknown as Candidate[]
    ).filter((c) => c.runner !== this.id);
    const live = await this.liveRunners();
    const orphans = candidates.filter((c) => !c.runner || !live.has(c.runner));

    let recovered = 0;
    for (const run of orphans) {
      if (await this.take(run, sync.has(String(run.workflowId)))) recovered++;
    }
    if (recovered) this.log.info(`webhook runs of dead processes recovered: ${recovered}`);
    await this.forgetDeadRunners();
  }

  private async liveRunners(): Promise<Set<string>> {
    if (this.settings.singleProcess) return new Set([this.id]);
    const rows = (await this.db.getModel(RUNNERS).findAll({
      attributes: ['id'],
      where: { heartbeatAt: { [Op.gte]: new Date(Date.now() - this.settings.leaseMs) } },
      raw: true,
    })) as unknown as Array<{ id: string }>;
    return new Set([this.id, ...rows.map((r) => r.id)]);
  }

  /** Takes one run of a dead runner, unless another process took it first. */
  private async take(run: Candidate, isSync: boolean): Promise<boolean> {
    const Executions = this.db.getModel('executions');
    const seen = { id: run.id, status: run.status, [RUNNER_FIELD]: run.runner };
    if (run.status === EXECUTION_STATUS.STARTED) {
      if (run.expiresAt && new Date(run.expiresAt).getTime() <= Date.now()) return false;
      if (isSync) {
        const [aborted] = await Executions.update({ status: EXECUTION_STATUS.ABORTED }, { where: seen } as any);
        return aborted > 0;
      }
      const taken = await this.db.sequelize.transaction(async (transaction) => {
        const [updated] = await Executions.update(
          {
            status: EXECUTION_STATUS.QUEUEING,
            dispatched: false,
            startedAt: null,
            expiresAt: null,
            [RUNNER_FIELD]: this.id,
          },
          { where: seen, transaction } as any,
        );
        if (updated) await this.db.getModel('jobs').destroy({ where: { executionId: run.id }, transaction });
        return updated > 0;
      });
      if (!taken) return false;
    } else {
      const [updated] = await Executions.update({ [RUNNER_FIELD]: this.id }, { where: seen } as any);
      if (!updated) return false;
    }
    try {
      await this.engine.start(run.id as any);
    } catch (error) {
      // Queued and owned by this live process: the engine's own recovery runs it later.
      this.log.warn(`recovered webhook execution ${run.id} not queued yet: ${(error as Error).message}`);
    }
    return true;
  }

  private async forgetDeadRunners(): Promise<void> {
    const where = this.settings.singleProcess
      ? { id: { [Op.ne]: this.id } }
      : { id: { [Op.ne]: this.id }, heartbeatAt: { [Op.lt]: new Date(Date.now() - this.settings.leaseMs) } };
    await this.db.getModel(RUNNERS).destroy({ where });
  }
}
