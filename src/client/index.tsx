import { Plugin } from '@nocobase/client';
import type PluginWorkflowClient from '@nocobase/plugin-workflow/client';
import { RESPONSE_INSTRUCTION, TRIGGER_TYPE } from '../common/constants';
import { WebhookOperator } from './operator/WebhookOperator';
import WebhookResponseInstruction from './ResponseInstruction';
import WebhookTrigger from './WebhookTrigger';

/** Client of the webhook trigger: the trigger type and the Webhook response node in the workflow editor. */
export class PluginWebhookTriggerClient extends Plugin {
  async load() {
    const workflow = this.app.pm.get('workflow') as unknown as PluginWorkflowClient;
    workflow.registerTrigger(TRIGGER_TYPE, WebhookTrigger);
    workflow.registerInstruction(RESPONSE_INSTRUCTION, WebhookResponseInstruction);
    // The delivery log on the workflow list, the canvas header and the execution page.
    this.app.addProvider(WebhookOperator);
  }
}

export default PluginWebhookTriggerClient;
