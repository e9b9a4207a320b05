import PluginWebhookTriggerServer from '../src/server';
import { readSetting } from '../src/server/settings';

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
  const plugins: any[] = [...NOCOBASE_PLUGINS, [PluginWebhookTriggerServer, { name: WEBHOOK_PLUGIN_NAME }]];
  // Tests that run the product in a child process need their test-only nodes (`test-sleep`) in it.
  if (readSetting('WEBHOOK_TEST_INSTRUCTIONS', 'off') === 'on') {
    plugins.push(require('../__tests__/helpers/test-instructions').testInstructions);
  }
  return plugins;
}
