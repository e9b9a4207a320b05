import type PluginWorkflowServer from '@nocobase/plugin-workflow';
import { Plugin } from '@nocobase/server';
import { storagePathJoin } from '@nocobase/utils';
import { generateKey, type RawWebhookConfig } from './config';
import { RESPONSE_INSTRUCTION, ROUTE_SEGMENT, TRIGGER_TYPE } from './constants';
import { AsyncInbox } from './dispatch/async-inbox';
import { Lane } from './dispatch/lane';
import { createWebhookRoute } from './http/route';
import { KeyIndex } from './key-index';
import { WebhookResponseInstruction } from './response-node';
import { configureSqliteConcurrency } from './sqlite-concurrency';
import { WebhookTrigger } from './trigger';
import { assertKeyFree } from './workflow-hooks';

/** Wiring only: the trigger, the response node, the route and the workflow save hook. */
export class PluginWebhookTriggerServer extends Plugin {
  readonly index = new KeyIndex();
  inbox!: AsyncInbox;
  private accepting = false;

  override async load(): Promise<void> {
    const engine = this.app.pm.get('workflow') as unknown as PluginWorkflowServer;
    engine.registerTrigger(TRIGGER_TYPE, new WebhookTrigger(engine, this.index));
    engine.registerInstruction(RESPONSE_INSTRUCTION, new WebhookResponseInstruction(engine));

    this.db.on('workflows.beforeSave', async (instance: any, options: any) => {
      if (options?.cycling || instance.get('type') !== TRIGGER_TYPE) return;
      const config = (instance.get('config') ?? {}) as RawWebhookConfig;
      if (typeof config.key !== 'string' || !config.key) instance.set('config', { ...config, key: generateKey() });
      if (instance.get('enabled')) await assertKeyFree(this.db, instance, options?.transaction);
    });

    const dialect = this.db.options.dialect;
    // SQLite has one writer: sync runs take turns. Others run a few side by side.
    const lane = new Lane(dialect === 'sqlite' ? 1 : Number(process.env.WEBHOOK_SYNC_CONCURRENCY ?? 4));
    this.inbox = new AsyncInbox(this.db, engine);
    const prefix = ((this.app.resourcer.options as { prefix?: string }).prefix ?? '/api').replace(/\/$/, '');
    this.app.use(
      createWebhookRoute({
        base: `${prefix}/${ROUTE_SEGMENT}/`,
        index: this.index,
        engine,
        lane,
        inbox: this.inbox,
        uploadDir: (deliveryId) => storagePathJoin('uploads', 'webhooks', deliveryId),
        accepting: () => this.accepting,
        log: (message, meta) => this.log.error(message, meta),
      }),
      { tag: 'webhooks', before: 'bodyParser', after: 'logger' },
    );
    this.app.on('beforeStart', () => configureSqliteConcurrency(this.db));
    this.app.on('afterStart', () => {
      this.accepting = true;
    });
    this.app.on('beforeStop', async () => {
      this.accepting = false;
      await this.inbox.idle();
    });
  }
}

export default PluginWebhookTriggerServer;
