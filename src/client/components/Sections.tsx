import { observer, useForm } from '@formily/react';
import { useFlowContext } from '@nocobase/plugin-workflow/client';
import { Alert, Divider, Typography } from 'antd';
import type React from 'react';
import { msg, useT } from '../locale';

/** A titled group of fields in the trigger form. */
export function Section(props: { title?: string; description?: string; children?: React.ReactNode }) {
  return (
    <div style={{ marginBottom: 8 }}>
      <Divider orientation="left" orientationMargin={0} style={{ marginTop: 8 }}>
        {props.title}
      </Divider>
      {props.description ? (
        <Typography.Paragraph type="secondary" style={{ marginTop: -8 }}>
          {props.description}
        </Typography.Paragraph>
      ) : null}
      {props.children}
    </div>
  );
}

/** The workflow's own `sync` flag decides the mode; fields of the other mode are not shown. */
export function useWorkflowSync(): boolean {
  const ctx = useFlowContext() as any;
  return !!ctx?.workflow?.sync;
}

export function ModeSection(props: { mode: 'sync' | 'async'; children?: React.ReactNode }) {
  const sync = useWorkflowSync();
  return (props.mode === 'sync') === sync ? props.children : null;
}

export function ModeNotice() {
  const sync = useWorkflowSync();
  const t = useT();
  return (
    <Alert
      type="info"
      showIcon
      style={{ marginBottom: 16 }}
      data-testid="webhook-mode"
      message={sync ? t('Synchronous webhook') : t('Asynchronous webhook')}
      description={
        sync
          ? t('The caller waits for the run and gets the answer of a Webhook response node (or 200 and the output).')
          : t('The request is stored, answered 202 at once, and run in the background.')
      }
    />
  );
}

const HELP: Record<string, string> = {
  none: msg('Anyone who knows the URL can call it. Prefer a signature, a token or an IP allow-list.'),
  basic: msg('The caller sends HTTP Basic credentials (Authorization: Basic ...).'),
  token: msg(
    'The caller sends the token in a header: Authorization as "Bearer <token>", or any header with the token itself (GitLab: X-Gitlab-Token).',
  ),
  hmac: msg(
    'The caller signs the raw body with HMAC and sends the signature in a header, optionally after a prefix such as "sha256=".',
  ),
  github: msg(
    'GitHub: in the repository (or organization) Settings > Webhooks > Add webhook, paste the URL above as Payload URL, choose Content type application/json, and enter the same secret. Signatures come in X-Hub-Signature-256.',
  ),
  stripe: msg(
    'Stripe: in Developers > Webhooks, add an endpoint with the URL above and paste its signing secret (whsec_...) here. Signatures come in Stripe-Signature.',
  ),
  slack: msg(
    "Slack: paste the app's Signing Secret (Basic Information > App Credentials). Signatures come in X-Slack-Signature.",
  ),
  shopify: msg(
    "Shopify: paste the app's client secret (or the webhook signing secret shown under Notifications). Signatures come in X-Shopify-Hmac-Sha256.",
  ),
  standard: msg(
    'Standard Webhooks and Svix senders: paste the endpoint secret (whsec_...), or the public key (whpk_...) for v1a signatures. Signatures come in webhook-signature with webhook-id and webhook-timestamp; use webhook-id as the idempotency header.',
  ),
  wecom: msg(
    'WeCom: in the admin console, open the app > Receive messages > Set API reception, paste the URL above, and copy its Token and EncodingAESKey here (Receiver ID: your CorpID). The URL check (a GET) is answered here; events reach the workflow decrypted, as an object. WeCom sends no delivery id header: use MsgId in the workflow.',
  ),
  dingtalk: msg(
    'DingTalk: in the developer console, open the app > Event subscription, choose HTTP push, paste the URL above as the request URL, and copy its aes_key and token here. The check_url event and every event are answered with the encrypted "success"; events reach the workflow decrypted. DingTalk sends no delivery id header: use EventId in the workflow.',
  ),
  'dingtalk-robot': msg(
    'DingTalk outgoing robot: in the robot settings choose HTTP mode, paste the URL above as the message receiving address, and copy the AppSecret here. Signatures older than one hour are refused. There is no delivery id header: use msgId in the workflow.',
  ),
  feishu: msg(
    'Feishu / Lark: in the developer console, open the app > Events & callbacks > Encryption strategy and copy the Verification Token (and the Encrypt Key, if set) here; then choose "Send events to developer server" and paste the URL above. The URL check is answered here; events reach the workflow decrypted. Deliveries carry no id header: use header.event_id in the workflow.',
  ),
  meta: msg(
    'Meta: in the App Dashboard, open Webhooks (or WhatsApp > Configuration), paste the URL above as the Callback URL and the Verify Token you chose here; the App Secret (App settings > Basic) signs each event in X-Hub-Signature-256. The subscription check (a GET) is answered here. No delivery id header.',
  ),
  zoom: msg(
    'Zoom: in the Marketplace app > Features > Access, copy the Secret Token here; under Event subscriptions paste the URL above as the endpoint URL and press Validate: the URL check is answered here. Signatures come in x-zm-signature. No delivery id header.',
  ),
  twitch: msg(
    'Twitch EventSub: create the subscription with transport method webhook, the URL above as callback and the same secret. The callback verification is answered here and revocations are logged (204). Use Twitch-Eventsub-Message-Id as the idempotency header.',
  ),
  discord: msg(
    'Discord: in the Developer Portal, open the application > General Information, copy its public key here and paste the URL above as the Interactions Endpoint URL. PING is answered here. The workflow must answer within 3 seconds: use sync mode with a Webhook response node.',
  ),
  msgraph: msg(
    'Microsoft Graph: create the subscription (POST /subscriptions) with the URL above as notificationUrl and the same clientState. The validation request (validationToken) is answered here. No delivery id header.',
  ),
  twilio: msg(
    "Twilio: paste the URL above in the phone number's (or service's) webhook settings, and enter the same URL and the account's Auth Token here. Use I-Twilio-Idempotency-Token as the idempotency header.",
  ),
  template: msg(
    'Any HMAC sender: describe what it signs with a message template over {timestamp}, {id}, {url} and {body}, and where the signature, timestamp and id come. Use the id header as the idempotency header.',
  ),
};

/** What the chosen verification checks, and how to set the sender up. */
export const VerificationHelp = observer(() => {
  const form = useForm();
  const t = useT();
  const type = ((form.values as any)?.verification?.type as string) || 'none';
  const text = HELP[type];
  if (!text) return null;
  return (
    <Alert
      type={type === 'none' ? 'warning' : 'info'}
      showIcon
      style={{ marginBottom: 16 }}
      message={t(text)}
      data-testid="verification-help"
    />
  );
});
