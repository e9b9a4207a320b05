import type PluginWorkflowServer from '@nocobase/plugin-workflow';
import { Plugin } from '@nocobase/server';
import { storagePathJoin } from '@nocobase/utils';
import type { Context, Next } from 'koa';
import { createReplayAction } from './admin/replay';
import type { HttpAnswer } from './answer';
import { RESPONSE_INSTRUCTION, ROUTE_SEGMENT, TRIGGER_TYPE } from './constants';
import { DELIVERIES, deliveriesCollection } from './deliveries/collection';
import { DeliveryRecorder } from './deliveries/recorder';
import { markCutOff, retentionFromSettings, sweepDeliveries } from './deliveries/retention';
import { deliveryStatus } from './deliveries/status';
import { AsyncInbox } from './dispatch/async-inbox';
import type { DispatchDeps } from './dispatch/dispatch';
import { Idempotency } from './dispatch/idempotency';
import { Lane } from './dispatch/lane';
import { AuthFailureBudget } from './http/auth-failure-budget';
import { JsonWorkerPool } from './http/parse';
import type { Counter } from './http/rate-limit';
import { KeyIndex } from './key-index';
import { KeyReconciler } from './key-reconciler';
import { mountFirst } from './mount';
import { executionsRunnerField, RUNNERS, runnersCollection } from './recovery/collection';
import { RunRecovery } from './recovery/recovery';
import { recoverySettings } from './recovery/settings';
import { WebhookResponseInstruction } from './response-node';
import { createWebhookRoute } from './route';
import {
  hasOpenSecrets,
  MASK,
  maskSecretsInBody,
  openSecrets,
  SecretCipher,
  sealSecrets,
  secretKeyMaterial,
} from './secrets';
import { readSettings, type WebhookSettings } from './settings';
import { configureSqliteConcurrency } from './sqlite-concurrency';
import { WebhookTrigger } from './trigger';
import { UploadStore } from './uploads';
import { SECRET_FIELDS } from './verify';
import { beforeWorkflowSave } from './workflow-hooks';

/** Resources whose answers can carry webhook workflows: their sealed secrets are shown as the mask. */
const WORKFLOW_RESOURCES = /^(workflow|execution|flow_node|job)/i;
/** What the API may do with the delivery log: read it and replay it. It is written by the plugin alone. */
const DELIVERY_ACTIONS = new Set(['list', 'get', 'replay']);

/** Pub/sub channel: webhook workflows changed in another process; rebuild the key index. */
const KEYS_CHANGED = 'webhook.keysChanged';
/** A webhook workflow row (a row loaded without its type counts too: tracking it costs one rebuild). */
const isWebhookRow = (instance: any) => {
  const type = instance?.get?.('type');
  return type === undefined || type === TRIGGER_TYPE;
};

/** Wiring only: trigger, response node, route, delivery log, secrets masking, save hooks. */
export class PluginWebhookTriggerServer extends Plugin {
  readonly index = new KeyIndex();
  /** Keeps `index` equal to the committed enabled webhook workflows. */
  keys!: KeyReconciler;
  inbox!: AsyncInbox;
  recorder!: DeliveryRecorder;
  recovery!: RunRecovery;
  /** The WEBHOOK_* environment variables, read and checked first (an invalid one stops start-up). */
  settings!: WebhookSettings;
  authFailures!: AuthFailureBudget;
  cipher!: SecretCipher;
  uploads!: UploadStore;
  jsonPool!: JsonWorkerPool;
  private accepting = false;
  private counter: Counter | null = null;
  private sweeper: NodeJS.Timeout | null = null;

  override async beforeLoad(): Promise<void> {
    const settings = readSettings(process.env, this.db.options.dialect);
    this.settings = settings;
    this.authFailures = AuthFailureBudget.fromSettings(settings);
    this.db.collection(deliveriesCollection);
    this.db.collection(runnersCollection);
    this.db.extendCollection({ name: 'executions', fields: [executionsRunnerField] });
    this.cipher = new SecretCipher(
      secretKeyMaterial(storagePathJoin('webhook-trigger', 'secret.key'), settings.WEBHOOK_SECRET_KEY),
    );
    this.keys = new KeyReconciler(
      this.db,
      this.index,
      (verification) => openSecrets(verification, this.cipher),
      {
        notServed: (id, reason) =>
          (this.app.pm.get('workflow') as unknown as PluginWorkflowServer)
            .getLogger(id)
            .error(`webhook workflow ${id} not served: ${reason}`),
        error: (message) => this.log.error(message),
      },
      () => this.announceKeysChanged(),
    );
    // Registered here, before the workflow plugin's load() registers its hooks, so that a save is
    // tracked before the engine's beforeSave switches the previous version off (hooks run in
    // registration order), and the index is cleared before the engine's beforeStop toggles.
    const track = (instance: any, options: any) => {
      if (isWebhookRow(instance)) this.keys.track(options?.transaction);
    };
    this.db.on('workflows.beforeSave', track);
    this.db.on('workflows.beforeDestroy', track);
    this.app.on('beforeStop', () => this.keys.stop());
  }

  /**
   * Tells the other processes to rebuild their key index. The engine's own sync messages (which
   * follow its toggles) do too, but NocoBase debounces those by a second; this channel is not.
   */
  private announceKeysChanged(): void {
    this.app.pubSubManager
      .publish(KEYS_CHANGED, { type: KEYS_CHANGED }, { skipSelf: true })
      .catch((error: Error) => this.log.warn(`webhook keys change not announced: ${error.message}`));
  }

  private readonly onKeysChanged = async (): Promise<void> => this.keys.request();

  override async load(): Promise<void> {
    const { settings } = this;
    const engine = this.app.pm.get('workflow') as unknown as PluginWorkflowServer;
    engine.registerTrigger(TRIGGER_TYPE, new WebhookTrigger(engine, this.keys));
    engine.registerInstruction(RESPONSE_INSTRUCTION, new WebhookResponseInstruction(engine));
    this.db.on('workflows.beforeSave', (instance: any, options: any) =>
      beforeWorkflowSave(this.db, this.cipher, instance, options),
    );
    this.uploads = new UploadStore(storagePathJoin('uploads', 'webhooks'), {
      maxBytes: settings.WEBHOOK_UPLOADS_MAX_BYTES,
      maxBytesPerWebhook: settings.WEBHOOK_UPLOADS_MAX_BYTES_PER_WEBHOOK,
    });
    // An execution's uploads go when it ends (or is deleted).
    const releaseUploads = (execution: any) => {
      const files = execution.get('context')?.files;
      const status = execution.get('status');
      if (Array.isArray(files) && files.length && status !== null && status !== 0) {
        return this.uploads
          .removeFiles(files)
          .catch((error) => this.log.warn(`upload removal failed: ${error.message}`));
      }
    };
    this.db.on('executions.afterUpdate', releaseUploads);
    this.db.on('executions.afterDestroy', (execution: any) =>
      this.uploads.removeFiles(execution.get('context')?.files).catch(() => undefined),
    );
    // A save without a transaction committed row by row: the save returns once the index follows.
    const settle = async (instance: any, options: any) => {
      if (!isWebhookRow(instance) || options?.transaction) return;
      await this.keys.reconcile();
      this.announceKeysChanged();
    };
    this.db.on('workflows.afterSave', settle);
    this.db.on('workflows.afterDestroy', settle);
    await this.app.pubSubManager.subscribe(KEYS_CHANGED, this.onKeysChanged);

    const dialect = this.db.options.dialect;
    // Sync runs side by side, at most this many at once.
    const lane = new Lane(settings.WEBHOOK_SYNC_CONCURRENCY);
    // Runs of a process that died are finished by a live one (src/server/recovery).
    this.recovery = new RunRecovery(this.db, engine, recoverySettings(settings, dialect ?? 'sqlite'), this.log);
    this.recovery.tagExecutions();
    this.inbox = new AsyncInbox(
      this.db,
      engine,
      () => (this.app as any).snowflakeIdGenerator.generate(),
      this.recovery.id,
    );
    this.recorder = new DeliveryRecorder(
      this.db,
      (error) => this.log.error(`delivery log write failed: ${(error as Error).message}`),
      settings.WEBHOOK_LOG_REJECTED_PER_SECOND,
      settings.WEBHOOK_LOG_FLUSH_MS,
    );
    const lookupAnswer = async (idempotencyKey: string): Promise<HttpAnswer | null> => {
      const row = await this.db.getRepository(DELIVERIES).findOne({
        filter: { idempotencyKey, response: { $notEmpty: true } },
        sort: ['createdAt'],
      });
      return (row?.get('response') as HttpAnswer | undefined) ?? null;
    };
    const deps: DispatchDeps = {
      engine,
      lane,
      inbox: this.inbox,
      recorder: this.recorder,
      idempotency: new Idempotency(lookupAnswer),
      lookupAnswer,
    };

    // Large JSON bodies are parsed in a worker thread (src/server/http/parse/json-pool.ts).
    this.jsonPool = new JsonWorkerPool(
      {
        thresholdBytes: settings.WEBHOOK_JSON_WORKER_BYTES,
        workers: settings.WEBHOOK_JSON_WORKERS,
        timeoutMs: settings.WEBHOOK_JSON_WORKER_TIMEOUT_MS,
      },
      (message, meta) => this.log.error(message, meta),
    );

    const prefix = ((this.app.resourcer.options as { prefix?: string }).prefix ?? '/api').replace(/\/$/, '');
    // At the head of the chain: a webhook pays for no request logger, audit, body parser, i18n,
    // CORS, data wrapping, auth or ACL; it has its own delivery log, parser and checks. NocoBase's
    // own middleware keep their order (see mountFirst).
    mountFirst(
      this.app,
      createWebhookRoute({
        ...deps,
        base: `${prefix}/${ROUTE_SEGMENT}/`,
        index: this.index,
        counter: () => this.rateCounter(),
        uploads: this.uploads,
        statusOf: (token) => deliveryStatus(this.db, token),
        jsonLimits: {
          maxKeys: settings.WEBHOOK_MAX_JSON_KEYS,
          maxArrayItems: settings.WEBHOOK_MAX_JSON_ARRAY_ITEMS,
        },
        jsonPool: this.jsonPool,
        accepting: () => this.accepting,
        logBodyBytes: settings.WEBHOOK_LOG_BODY_BYTES,
        bodyTimeoutMs: settings.WEBHOOK_BODY_TIMEOUT_MS,
        authFailures: this.authFailures,
        log: (message, meta) => this.log.error(message, meta),
      }),
      'webhooks',
      // In the full server, served from the Gateway's first request handler (see mountAtGateway).
      { gatewayPrefix: `${prefix}/${ROUTE_SEGMENT}/` },
    );
    this.app.use(
      async (ctx: Context & { action?: { resourceName?: string } }, next: Next) => {
        await next();
        if (ctx.body && WORKFLOW_RESOURCES.test(ctx.action?.resourceName ?? '')) ctx.body = maskSecretsInBody(ctx.body);
      },
      { tag: 'webhookMaskSecrets', after: 'dataWrapping', before: 'dataSource' },
    );

    // The host's request logger writes each action's values at its end: a workflow's secrets
    // leave them before that (they are stored sealed by then).
    this.app.resourceManager.use(
      async (ctx: any, next: Next) => {
        try {
          await next();
        } finally {
          const { resourceName, params } = ctx.action ?? {};
          if (resourceName === 'workflows' && params?.values?.config) scrubSecrets(params.values.config);
        }
      },
      { tag: 'webhookScrubSecrets', before: 'acl' },
    );
    // The delivery log is written by the plugin alone, for every role, root included.
    this.app.resourceManager.use(
      async (ctx: any, next: Next) => {
        const { resourceName, actionName } = ctx.action ?? {};
        if (resourceName === DELIVERIES && !DELIVERY_ACTIONS.has(actionName)) {
          ctx.throw(
            405,
            `${DELIVERIES}:${actionName} is not allowed: the delivery log is written by the webhook plugin alone`,
          );
        }
        await next();
      },
      { tag: 'webhookDeliveriesReadOnly', before: 'acl' },
    );
    this.app.resourceManager.registerActionHandlers({
      [`${DELIVERIES}:replay`]: createReplayAction({ ...deps, index: this.index }) as any,
    });
    this.app.acl.registerSnippet({ name: `pm.${this.name}.deliveries`, actions: [`${DELIVERIES}:*`] });

    this.app.on('beforeStart', async () => {
      await configureSqliteConcurrency(this.db, {
        enabled: settings.WEBHOOK_SQLITE_TUNING === 'on',
        busyTimeoutMs: settings.WEBHOOK_SQLITE_BUSY_TIMEOUT_MS,
      });
      await this.db.getCollection(DELIVERIES).sync();
      await this.db.getCollection(RUNNERS).sync();
      await this.recovery.ensureColumn();
      await this.recovery.register();
      this.counter = await this.app.cacheManager.createCounter({ name: 'webhook-rate-limit' }, this.app.lockManager);
    });
    this.app.on('afterStart', async () => {
      await this.sealStoredSecrets();
      // After the engine's afterStart (its toggles are ignored until now): serve what is committed.
      await this.keys.start();
      this.accepting = true;
      const retention = retentionFromSettings(settings);
      const sweep = () =>
        Promise.all([
          sweepDeliveries(this.db, retention).then(() => this.uploads.sweep((ids) => this.deliveriesKept(ids))),
          markCutOff(this.db),
        ]).catch((error) => this.log.warn(`delivery log upkeep failed: ${error.message}`));
      sweep();
      this.sweeper = setInterval(sweep, settings.WEBHOOK_DELIVERY_SWEEP_MS);
      this.sweeper.unref();
      // After the engine's own start (it re-queues what was queued): then the runs of dead processes.
      this.recovery.start();
    });
    this.app.on('beforeStop', async () => {
      this.accepting = false;
      if (this.sweeper) clearInterval(this.sweeper);
      await this.inbox.idle();
      await this.recorder.idle();
      await this.recovery.stop();
      await this.jsonPool.close();
    });
  }

  /** Which of these deliveries still have a row in the log. */
  private async deliveriesKept(ids: string[]): Promise<Set<string>> {
    const rows = await this.db.getModel(DELIVERIES).findAll({ attributes: ['id'], where: { id: ids }, raw: true });
    return new Set(rows.map((r: any) => String(r.id)));
  }

  /** Seals secrets stored in clear by a version of the plugin that did not seal them. */
  private async sealStoredSecrets(): Promise<void> {
    const Workflow = this.db.getModel('workflows');
    const rows = await Workflow.findAll({ where: { type: TRIGGER_TYPE }, attributes: ['id', 'config'] });
    for (const row of rows) {
      const config = row.get('config') as Record<string, any> | null;
      if (!config || !hasOpenSecrets(config)) continue;
      const sealed = { ...config, verification: { ...config.verification } };
      sealSecrets(sealed, config, this.cipher);
      await Workflow.update({ config: sealed }, { where: { id: row.get('id') }, hooks: false });
    }
  }

  private rateCounter(): Counter {
    if (!this.counter) throw new Error('rate-limit counter is not ready');
    return this.counter;
  }
}

/** A workflow's verification secrets, as they appear in the values an action received: masked. */
function scrubSecrets(config: Record<string, any>): void {
  const verification = config?.verification;
  if (!verification || typeof verification !== 'object') return;
  for (const field of SECRET_FIELDS) {
    const value = verification[field];
    if (value !== undefined && value !== '') verification[field] = Array.isArray(value) ? value.map(() => MASK) : MASK;
  }
}

export default PluginWebhookTriggerServer;
