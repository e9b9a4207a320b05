import PluginWebhookTriggerServer from '../src/server';

/**
 * The NocoBase plugins the product runs with: the workflow engine and what it and root sign-in
 * need, plus this plugin (passed as its class, under the name `webhook-trigger`).
 */
export const NOCOBASE_PLUGINS = [
  'error-handler',
  'field-sort',
  'data-source-main',
  'data-source-manager',
  'system-settings',
  'users',
  'acl',
  'auth',
  'workflow',
] as const;

export const WEBHOOK_PLUGIN_NAME = 'webhook-trigger';

export function appPlugins(): any[] {
  return [...NOCOBASE_PLUGINS, [PluginWebhookTriggerServer, { name: WEBHOOK_PLUGIN_NAME }]];
}
