import type PluginWorkflowServer from '@nocobase/plugin-workflow';
import { Plugin } from '@nocobase/server';
import { storagePathJoin } from '@nocobase/utils';
import { DELIVERIES, RESPONSE_INSTRUCTION, ROUTE_SEGMENT, TRIGGER_TYPE } from '../common/constants';
import { createReplayAction } from './admin/replay';
import { createSampleAction } from './admin/sample';
import { createTestAction } from './admin/test-request';
import { deliveriesCollection } from './deliveries/collection';
import { guardDeliveryLog } from './deliveries/guard';
import { deliveriesKept, storedAnswer } from './deliveries/lookup';
import { DeliveryRecorder } from './deliveries/recorder';
import { markCutOff, type RetentionOptions, retentionFromSettings, sweepDeliveries } from './deliveries/retention';
import { deliveryStatus } from './deliveries/status';
import { AsyncInbox } from './dispatch/async-inbox';
import { Backlog } from './dispatch/backlog';
import type { DispatchDeps } from './dispatch/dispatch';
import { Idempotency } from './dispatch/idempotency';
import { Lane } from './dispatch/lane';
import { tuneEngineLoggers } from './engine-logs';
import { type GatewayEntry, installGatewayHandler, newGatewayEntry } from './gateway-mount';
import { AuthFailureBudget } from './http/auth-failure-budget';
import { JsonWorkerPool } from './http/parse';
import type { Counter } from './http/rate-limit';
import { KeyIndex } from './key-index';
import { KeyReconciler } from './key-reconciler';
import { followWorkflowSaves, keysAnnouncer, trackWorkflowSaves } from './key-sync';
import { loadLocales, translateValidationErrors } from './messages';
import { mountFirst } from './mount';
import { executionsRunnerField, RUNNERS, runnersCollection } from './recovery/collection';
import { RunRecovery } from './recovery/recovery';
import { recoverySettings } from './recovery/settings';
import { WebhookResponseInstruction } from './response-node';
import { createWebhookRoute } from './route';
import { openSecrets, SecretCipher, secretKeyMaterial } from './secrets';
import { guardSecrets, sealStoredSecrets } from './secrets/guard';
import { readSettings, type WebhookSettings } from './settings';
import { configureSqliteConcurrency } from './sqlite-concurrency';
import { WebhookTrigger } from './trigger';
import { releaseUploadsWithExecutions, UploadStore } from './uploads';
import { beforeWorkflowSave } from './workflow-hooks';

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
  /**
   * With WEBHOOK_MOUNT=gateway, what the Gateway request handler serves while this instance is
   * loaded and the app runs (src/server/gateway-mount.ts); null otherwise.
   */
  gatewayEntry: GatewayEntry | null = null;
  private announceKeys: () => void = () => {};
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
    const announce = keysAnnouncer(this.app, (message) => this.log.warn(message));
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
      announce,
    );
    trackWorkflowSaves(this.app, this.keys);
    this.announceKeys = announce;
  }

  override async load(): Promise<void> {
    const { settings } = this;
    const engine = this.app.pm.get('workflow') as unknown as PluginWorkflowServer;
    // The engine's debug lines serialise whole executions even when not written (engine-logs.ts).
    if (settings.WEBHOOK_ENGINE_LOG_TUNING === 'on') tuneEngineLoggers(engine);
    engine.registerTrigger(TRIGGER_TYPE, new WebhookTrigger(engine, this.keys));
    engine.registerInstruction(RESPONSE_INSTRUCTION, new WebhookResponseInstruction(engine));
    this.db.on('workflows.beforeSave', (instance: any, options: any) =>
      beforeWorkflowSave(this.db, this.cipher, instance, options),
    );
    this.uploads = new UploadStore(storagePathJoin('uploads', 'webhooks'), {
      maxBytes: settings.WEBHOOK_UPLOADS_MAX_BYTES,
      maxBytesPerWebhook: settings.WEBHOOK_UPLOADS_MAX_BYTES_PER_WEBHOOK,
    });
    releaseUploadsWithExecutions(this.db, this.uploads, (message) => this.log.warn(message));
    await followWorkflowSaves(this.app, this.keys, this.announceKeys);

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
    const lookupAnswer = (idempotencyKey: string) => storedAnswer(this.db, idempotencyKey);
    // Async deliveries queued and not yet run, capped (src/server/dispatch/backlog.ts).
    const backlog = new Backlog(settings.WEBHOOK_MAX_BACKLOG_BYTES, settings.WEBHOOK_BACKLOG_WAIT_MS);
    backlog.follow(this.db);
    const deps: DispatchDeps = {
      engine,
      lane,
      inbox: this.inbox,
      backlog,
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
    const openVerification = (verification: any) => openSecrets(verification, this.cipher);
    const base = `${prefix}/${ROUTE_SEGMENT}/`;
    const route = createWebhookRoute({
      ...deps,
      base,
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
    });
    mountFirst(this.app, route, 'webhooks');
    // In the full server, also ahead of the Gateway's per-request work (main app only; everything
    // the Gateway would not hand to this app's Koa chain falls through to it).
    if (settings.WEBHOOK_MOUNT === 'gateway' && installGatewayHandler(this.name)) {
      this.gatewayEntry = newGatewayEntry(base, route, process.env.API_BASE_PATH);
    } else if (settings.WEBHOOK_MOUNT === 'app') {
      installGatewayHandler(false);
    }
    guardSecrets(this.app);
    // Read, replay, test requests and samples: the delivery log is written by the plugin alone.
    guardDeliveryLog(this.app, new Set(['list', 'get', 'replay', 'test', 'sample']));
    // Validation errors of webhook workflows in the admin's language.
    loadLocales(this.app.i18n as any);
    this.app.resourceManager.use(translateValidationErrors(), { tag: 'webhookMessages', before: 'acl' });
    this.app.resourceManager.registerActionHandlers({
      [`${DELIVERIES}:replay`]: createReplayAction({
        ...deps,
        index: this.index,
        openSecrets: openVerification,
      }) as any,
      [`${DELIVERIES}:sample`]: createSampleAction() as any,
      [`${DELIVERIES}:test`]: createTestAction({
        route,
        base,
        openSecrets: openVerification,
        logged: () => this.recorder.idle(),
      }) as any,
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
      await sealStoredSecrets(this.db, this.cipher);
      // After the engine's afterStart (its toggles are ignored until now): serve what is committed.
      await this.keys.start();
      this.accepting = true;
      this.sweeper = setInterval(() => this.upkeep(), settings.WEBHOOK_DELIVERY_SWEEP_MS);
      this.sweeper.unref();
      this.upkeep();
      // After the engine's own start (it re-queues what was queued): then the runs of dead processes.
      this.recovery.start();
    });
    this.app.on('beforeStop', async () => {
      this.accepting = false;
      this.gatewayEntry = null;
      backlog.close();
      if (this.sweeper) clearInterval(this.sweeper);
      await this.inbox.idle();
      await this.recorder.idle();
      await this.recovery.stop();
      await this.jsonPool.close();
    });
  }

  /**
   * The delivery log's upkeep, as the sweep runs it every WEBHOOK_DELIVERY_SWEEP_MS: rows past
   * the retention deleted (with their upload folders), sync rows whose process died marked
   * CUT_OFF. Resolves with how many rows each step touched; never throws (a failure is logged).
   */
  async upkeep(
    retention: RetentionOptions = retentionFromSettings(this.settings),
  ): Promise<{ deleted: number; cutOff: number }> {
    try {
      const [deleted, cutOff] = await Promise.all([
        sweepDeliveries(this.db, retention).then(async (count) => {
          await this.uploads.sweep((ids) => deliveriesKept(this.db, ids));
          return count;
        }),
        markCutOff(this.db),
      ]);
      return { deleted, cutOff };
    } catch (error) {
      this.log.warn(`delivery log upkeep failed: ${(error as Error).message}`);
      return { deleted: 0, cutOff: 0 };
    }
  }

  private rateCounter(): Counter {
    if (!this.counter) throw new Error('rate-limit counter is not ready');
    return this.counter;
  }
}

export default PluginWebhookTriggerServer;
