import type { Database } from '@nocobase/database';
import type { Application } from '@nocobase/server';
import type { Context, Next } from 'koa';
import { TRIGGER_TYPE } from '../../common/constants';
import type { SecretCipher } from './cipher';
import { hasOpenSecrets, maskConfig, maskSecretsInBody, sealSecrets } from './mask';

/** Resources whose answers can carry webhook workflows: their sealed secrets are shown as the mask. */
const WORKFLOW_RESOURCES = /^(workflow|execution|flow_node|job)/i;

/**
 * What keeps secrets out of what NocoBase sends and logs (they are stored sealed, see
 * SecretCipher): answers show sealed values as the mask, and the values an action received
 * (which the host's request logger writes when the action ends) lose their secrets first.
 */
export function guardSecrets(app: Application): void {
  app.use(
    async (ctx: Context & { action?: { resourceName?: string } }, next: Next) => {
      await next();
      if (ctx.body && WORKFLOW_RESOURCES.test(ctx.action?.resourceName ?? '')) ctx.body = maskSecretsInBody(ctx.body);
    },
    { tag: 'webhookMaskSecrets', after: 'dataWrapping', before: 'dataSource' },
  );
  app.resourceManager.use(
    async (ctx: any, next: Next) => {
      try {
        await next();
      } finally {
        const { resourceName, params } = ctx.action ?? {};
        const config = params?.values?.config;
        if (resourceName === 'workflows' && config && typeof config === 'object') {
          Object.assign(config, maskConfig(config));
        }
      }
    },
    { tag: 'webhookScrubSecrets', before: 'acl' },
  );
}

/** Seals secrets stored in clear by a version of the plugin that did not seal them. */
export async function sealStoredSecrets(db: Database, cipher: SecretCipher): Promise<void> {
  const Workflow = db.getModel('workflows');
  const rows = await Workflow.findAll({ where: { type: TRIGGER_TYPE }, attributes: ['id', 'config'] });
  for (const row of rows) {
    const config = row.get('config') as Record<string, any> | null;
    if (!config || !hasOpenSecrets(config)) continue;
    const sealed = { ...config, verification: { ...config.verification } };
    sealSecrets(sealed, config, cipher);
    await Workflow.update({ config: sealed }, { where: { id: row.get('id') }, hooks: false });
  }
}
