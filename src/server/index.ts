export { default } from './plugin';
export { PluginWebhookTriggerServer } from './plugin';
