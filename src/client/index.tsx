import { Plugin } from '@nocobase/client';
import type PluginWorkflowClient from '@nocobase/plugin-workflow/client';
import WebhookResponseInstruction from './ResponseInstruction';
import WebhookTrigger from './WebhookTrigger';

/** Client of the webhook trigger: the trigger type and the Webhook response node in the workflow editor. */
export class PluginWebhookTriggerClient extends Plugin {
  async load() {
    const workflow = this.app.pm.get('workflow') as unknown as PluginWorkflowClient;
    workflow.registerTrigger('webhook', WebhookTrigger);
    workflow.registerInstruction('webhook-response', WebhookResponseInstruction);
  }
}

export default PluginWebhookTriggerClient;
