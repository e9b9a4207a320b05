import type PluginWorkflowServer from '@nocobase/plugin-workflow';
import { Plugin } from '@nocobase/server';
import { storagePathJoin } from '@nocobase/utils';
import type { Context, Next } from 'koa';
import { RESPONSE_INSTRUCTION, ROUTE_SEGMENT, TRIGGER_TYPE } from './constants';
import { DELIVERIES, deliveriesCollection } from './deliveries/collection';
import { DeliveryRecorder } from './deliveries/recorder';
import { createReplayAction } from './deliveries/replay';
import { markCutOff, retentionFromEnv, sweepDeliveries } from './deliveries/retention';
import { AsyncInbox } from './dispatch/async-inbox';
import type { DispatchDeps } from './dispatch/dispatch';
import { Lane } from './dispatch/lane';
import type { HttpAnswer } from './dispatch/sync';
import { AuthFailureBudget } from './http/auth-failure-budget';
import { Idempotency } from './http/idempotency';
import type { Counter } from './http/rate-limit';
import { createWebhookRoute } from './http/route';
import { KeyIndex } from './key-index';
import { KeyReconciler } from './key-reconciler';
import { WebhookResponseInstruction } from './response-node';
import { maskSecretsInBody } from './secrets';
import { configureSqliteConcurrency } from './sqlite-concurrency';
import { WebhookTrigger } from './trigger';
import { beforeWorkflowSave } from './workflow-hooks';

/** Resources whose answers can carry webhook workflows (and so their secrets). */
const WORKFLOW_RESOURCES = /^(workflows|executions|flow_nodes|jobs)(\.|$)/;
const SWEEP_EVERY_MS = Number(process.env.WEBHOOK_DELIVERY_SWEEP_MS ?? 60_000);

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
  readonly authFailures = AuthFailureBudget.fromEnv();
  private accepting = false;
  private counter: Counter | null = null;
  private sweeper: NodeJS.Timeout | null = null;

  override async beforeLoad(): Promise<void> {
    this.db.collection(deliveriesCollection);
    this.keys = new KeyReconciler(
      this.db,
      this.index,
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
    const engine = this.app.pm.get('workflow') as unknown as PluginWorkflowServer;
    engine.registerTrigger(TRIGGER_TYPE, new WebhookTrigger(engine, this.keys));
    engine.registerInstruction(RESPONSE_INSTRUCTION, new WebhookResponseInstruction(engine));
    this.db.on('workflows.beforeSave', (instance: any, options: any) => beforeWorkflowSave(this.db, instance, options));
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
    const lane = new Lane(Number(process.env.WEBHOOK_SYNC_CONCURRENCY ?? (dialect === 'sqlite' ? 1 : 4)));
    this.inbox = new AsyncInbox(this.db, engine, () => (this.app as any).snowflakeIdGenerator.generate());
    this.recorder = new DeliveryRecorder(this.db, (error) =>
      this.log.error(`delivery log write failed: ${(error as Error).message}`),
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

    const prefix = ((this.app.resourcer.options as { prefix?: string }).prefix ?? '/api').replace(/\/$/, '');
    this.app.use(
      createWebhookRoute({
        ...deps,
        base: `${prefix}/${ROUTE_SEGMENT}/`,
        index: this.index,
        counter: () => this.rateCounter(),
        uploadDir: (deliveryId) => storagePathJoin('uploads', 'webhooks', deliveryId),
        accepting: () => this.accepting,
        // 32 KiB: its base64 form still fits MySQL/MariaDB's TEXT (65,535 bytes).
        logBodyBytes: Number(process.env.WEBHOOK_LOG_BODY_BYTES ?? 32 * 1024),
        bodyTimeoutMs: Number(process.env.WEBHOOK_BODY_TIMEOUT_MS ?? 15_000),
        authFailures: this.authFailures,
        log: (message, meta) => this.log.error(message, meta),
      }),
      // At the head of the chain: a webhook pays for no request logger, audit, body parser, i18n,
      // CORS, data wrapping, auth or ACL; it has its own delivery log, parser and checks.
      {
        tag: 'webhooks',
        before: ['logger', 'generateReqId', 'audit', 'extractClientIp', 'bodyParser', 'i18n', 'cors', 'dataWrapping'],
      },
    );
    this.app.use(
      async (ctx: Context & { action?: { resourceName?: string } }, next: Next) => {
        await next();
        if (ctx.body && WORKFLOW_RESOURCES.test(ctx.action?.resourceName ?? '')) ctx.body = maskSecretsInBody(ctx.body);
      },
      { tag: 'webhookMaskSecrets', after: 'dataWrapping', before: 'dataSource' },
    );

    this.app.resourceManager.registerActionHandlers({
      [`${DELIVERIES}:replay`]: createReplayAction({ ...deps, index: this.index }) as any,
    });
    this.app.acl.registerSnippet({ name: `pm.${this.name}.deliveries`, actions: [`${DELIVERIES}:*`] });

    this.app.on('beforeStart', async () => {
      await configureSqliteConcurrency(this.db);
      await this.db.getCollection(DELIVERIES).sync();
      this.counter = await this.app.cacheManager.createCounter({ name: 'webhook-rate-limit' }, this.app.lockManager);
    });
    this.app.on('afterStart', async () => {
      // After the engine's afterStart (its toggles are ignored until now): serve what is committed.
      await this.keys.start();
      this.accepting = true;
      const retention = retentionFromEnv();
      const sweep = () =>
        Promise.all([sweepDeliveries(this.db, retention), markCutOff(this.db)]).catch((error) =>
          this.log.warn(`delivery log upkeep failed: ${error.message}`),
        );
      sweep();
      this.sweeper = setInterval(sweep, SWEEP_EVERY_MS);
      this.sweeper.unref();
    });
    this.app.on('beforeStop', async () => {
      this.accepting = false;
      if (this.sweeper) clearInterval(this.sweeper);
      await this.inbox.idle();
      await this.recorder.idle();
    });
  }

  private rateCounter(): Counter {
    if (!this.counter) throw new Error('rate-limit counter is not ready');
    return this.counter;
  }
}

export default PluginWebhookTriggerServer;
