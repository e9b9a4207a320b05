import { observer, useForm } from '@formily/react';
import { useFlowContext } from '@nocobase/plugin-workflow/client';
import { Alert, Divider, Typography } from 'antd';
import type React from 'react';
import { schemeOf } from '../../common/schemes';
import { useT } from '../locale';

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

/** What the chosen verification checks, and how to set the sender up. */
export const VerificationHelp = observer(() => {
  const form = useForm();
  const t = useT();
  const type = ((form.values as any)?.verification?.type as string) || 'none';
  const text = schemeOf(type)?.help;
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
