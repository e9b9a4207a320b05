import { ReloadOutlined } from '@ant-design/icons';
import { observer, useForm } from '@formily/react';
import { useAPIClient } from '@nocobase/client';
import { Button, Input, Popconfirm, Space, Typography } from 'antd';
import { useT } from '../locale';
import { generateKey, webhookUrl } from '../utils';

/**
 * The URL key: editable and regenerated on demand (the old URL stops working). The server
 * generates one when a webhook workflow is saved without a key, so the form never invents one
 * on load (it would replace the stored key before the stored config has arrived).
 */
export function WebhookKey(props: { value?: string; onChange?: (v: string) => void; disabled?: boolean }) {
  const { value, onChange, disabled } = props;
  const t = useT();
  return (
    <Space.Compact style={{ width: '100%' }}>
      <Input
        value={value}
        disabled={disabled}
        onChange={(e) => onChange?.(e.target.value.trim())}
        style={{ fontFamily: 'monospace' }}
        data-testid="webhook-key"
      />
      <Popconfirm
        title={t('Regenerate the key?')}
        description={t('Callers of the old URL get 404 once you save.')}
        okText={t('Regenerate')}
        onConfirm={() => onChange?.(generateKey())}
        disabled={disabled}
      >
        <Button icon={<ReloadOutlined />} disabled={disabled}>
          {t('Regenerate')}
        </Button>
      </Popconfirm>
    </Space.Compact>
  );
}

/** The full public URL of this webhook in this app, with a copy button. */
export const WebhookUrl = observer(() => {
  const form = useForm();
  const api = useAPIClient();
  const t = useT();
  const values = (form.values ?? {}) as { key?: string; path?: string; methods?: string[] };
  const url = webhookUrl(api?.axios?.defaults?.baseURL, window.location.origin, values.key ?? '', values.path);
  const methods = Array.isArray(values.methods) && values.methods.length ? values.methods : ['POST'];
  return (
    <div data-testid="webhook-url">
      <Typography.Paragraph
        copyable={{ text: url, tooltips: [t('Copy URL'), t('Copied')] }}
        style={{ marginBottom: 4 }}
      >
        <Typography.Text code style={{ wordBreak: 'break-all' }}>
          {url}
        </Typography.Text>
      </Typography.Paragraph>
      <Typography.Text type="secondary">{t('Accepts: {{methods}}', { methods: methods.join(', ') })}</Typography.Text>
    </div>
  );
});
