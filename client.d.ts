import type { Plugin } from '@nocobase/client';
declare const PluginWebhookTriggerClient: typeof Plugin;
export default PluginWebhookTriggerClient;
