import type PluginWorkflowServer from '@nocobase/plugin-workflow';
import { Plugin } from '@nocobase/server';
import { storagePathJoin } from '@nocobase/utils';
import type { Context, Next } from 'koa';
import { RESPONSE_INSTRUCTION, ROUTE_SEGMENT, TRIGGER_TYPE } from './constants';
import { DELIVERIES, deliveriesCollection } from './deliveries/collection';
import { DeliveryRecorder } from './deliveries/recorder';
import { createReplayAction } from './deliveries/replay';
import { markCutOff, retentionFromSettings, sweepDeliveries } from './deliveries/retention';
import { AsyncInbox } from './dispatch/async-inbox';
import type { DispatchDeps } from './dispatch/dispatch';
import { Lane } from './dispatch/lane';
import type { HttpAnswer } from './dispatch/sync';
import { AuthFailureBudget } from './http/auth-failure-budget';
import { Idempotency } from './http/idempotency';
import type { Counter } from './http/rate-limit';
import { createWebhookRoute } from './http/route';
import { KeyIndex } from './key-index';
import { mountFirst } from './mount';
import { WebhookResponseInstruction } from './response-node';
import { maskSecretsInBody } from './secrets';
import { readSettings, type WebhookSettings } from './settings';
import { configureSqliteConcurrency } from './sqlite-concurrency';
import { WebhookTrigger } from './trigger';
import { beforeWorkflowSave } from './workflow-hooks';

/** Resources whose answers can carry webhook workflows (and so their secrets). */
const WORKFLOW_RESOURCES = /^(workflows|executions|flow_nodes|jobs)(\.|$)/;

/** Wiring only: trigger, response node, route, delivery log, secrets masking, save hooks. */
export class PluginWebhookTriggerServer extends Plugin {
  readonly index = new KeyIndex();
  inbox!: AsyncInbox;
  recorder!: DeliveryRecorder;
  /** The WEBHOOK_* environment variables, read and checked in `load` (an invalid one stops start-up). */
  settings!: WebhookSettings;
  authFailures!: AuthFailureBudget;
  private accepting = false;
  private counter: Counter | null = null;
  private sweeper: NodeJS.Timeout | null = null;

  override async beforeLoad(): Promise<void> {
    this.db.collection(deliveriesCollection);
  }

  override async load(): Promise<void> {
    const settings = readSettings(process.env, this.db.options.dialect);
    this.settings = settings;
    this.authFailures = AuthFailureBudget.fromSettings(settings);
    const engine = this.app.pm.get('workflow') as unknown as PluginWorkflowServer;
    engine.registerTrigger(TRIGGER_TYPE, new WebhookTrigger(engine, this.index));
    engine.registerInstruction(RESPONSE_INSTRUCTION, new WebhookResponseInstruction(engine));
    this.db.on('workflows.beforeSave', (instance: any, options: any) => beforeWorkflowSave(this.db, instance, options));

    // Sync runs side by side, at most this many at once.
    const lane = new Lane(settings.WEBHOOK_SYNC_CONCURRENCY);
    this.inbox = new AsyncInbox(this.db, engine, () => (this.app as any).snowflakeIdGenerator.generate());
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
        uploadDir: (deliveryId) => storagePathJoin('uploads', 'webhooks', deliveryId),
        accepting: () => this.accepting,
        logBodyBytes: settings.WEBHOOK_LOG_BODY_BYTES,
        bodyTimeoutMs: settings.WEBHOOK_BODY_TIMEOUT_MS,
        authFailures: this.authFailures,
        log: (message, meta) => this.log.error(message, meta),
      }),
      'webhooks',
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
      await configureSqliteConcurrency(this.db, {
        enabled: settings.WEBHOOK_SQLITE_TUNING === 'on',
        busyTimeoutMs: settings.WEBHOOK_SQLITE_BUSY_TIMEOUT_MS,
      });
      await this.db.getCollection(DELIVERIES).sync();
      this.counter = await this.app.cacheManager.createCounter({ name: 'webhook-rate-limit' }, this.app.lockManager);
    });
    this.app.on('afterStart', () => {
      this.accepting = true;
      const retention = retentionFromSettings(settings);
      const sweep = () =>
        Promise.all([sweepDeliveries(this.db, retention), markCutOff(this.db)]).catch((error) =>
          this.log.warn(`delivery log upkeep failed: ${error.message}`),
        );
      sweep();
      this.sweeper = setInterval(sweep, settings.WEBHOOK_DELIVERY_SWEEP_MS);
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
