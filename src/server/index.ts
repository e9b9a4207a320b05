export { default, PluginWebhookTriggerServer } from './plugin';
