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
    'Standard Webhooks and Svix senders: paste the endpoint secret (whsec_...). Signatures come in webhook-signature with webhook-id and webhook-timestamp.',
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
