import { Checkbox, InputNumber, Space, Typography } from 'antd';
import { useT } from '../locale';
import { isOrigin } from '../utils';
import { JsonEditor } from './JsonEditor';
import { KeyValueEditor } from './KeyValueEditor';
import { TagList } from './TagList';

type RateLimit = { requests?: number; perSeconds?: number };

/** `rateLimit`: n requests per s seconds, or nothing (no limit). */
export function RateLimitInput(props: {
  value?: RateLimit;
  onChange?: (v: RateLimit | undefined) => void;
  disabled?: boolean;
}) {
  const { value, onChange, disabled } = props;
  const t = useT();
  const set = (patch: RateLimit) => {
    const next = { ...value, ...patch };
    if (next.requests == null) onChange?.(undefined);
    else onChange?.({ requests: next.requests, perSeconds: next.perSeconds ?? 60 });
  };
  return (
    <Space wrap>
      <InputNumber
        min={1}
        precision={0}
        value={value?.requests}
        disabled={disabled}
        placeholder={t('No limit')}
        onChange={(v) => set({ requests: v == null ? undefined : Number(v) })}
        addonAfter={t('requests')}
        data-testid="rate-limit-requests"
      />
      <Typography.Text>{t('per')}</Typography.Text>
      <InputNumber
        min={1}
        precision={0}
        value={value?.perSeconds ?? (value?.requests != null ? 60 : undefined)}
        disabled={disabled || value?.requests == null}
        placeholder="60"
        onChange={(v) => set({ perSeconds: v == null ? undefined : Number(v) })}
        addonAfter={t('seconds')}
      />
    </Space>
  );
}

/** `cors`: the browser origins allowed to call, or nothing (no CORS headers). */
export function CorsInput(props: {
  value?: { origins?: string[] };
  onChange?: (v: { origins: string[] } | undefined) => void;
  disabled?: boolean;
}) {
  const { value, onChange, disabled } = props;
  const t = useT();
  return (
    <TagList
      value={value?.origins}
      disabled={disabled}
      isValid={isOrigin}
      placeholder={t('e.g. https://forms.example.com')}
      onChange={(origins) => onChange?.(origins?.length ? { origins } : undefined)}
      testid="cors-origins"
    />
  );
}

type StaticResponse = { status?: number; headers?: Record<string, unknown>; body?: unknown };

/** `response`: the fixed answer of an async webhook (default 202 with a JSON receipt). */
export function StaticResponseInput(props: {
  value?: StaticResponse;
  onChange?: (v: StaticResponse | undefined) => void;
  disabled?: boolean;
}) {
  const { value, onChange, disabled } = props;
  const t = useT();
  const custom = !!value;
  const set = (patch: StaticResponse) => onChange?.({ status: 202, ...value, ...patch });
  return (
    <Space direction="vertical" style={{ width: '100%' }}>
      <Checkbox
        checked={custom}
        disabled={disabled}
        onChange={(e) => onChange?.(e.target.checked ? { status: 202 } : undefined)}
        data-testid="custom-response"
      >
        {t('Answer with a custom response instead of 202 and the delivery receipt')}
      </Checkbox>
      {custom && (
        <>
          <Space>
            <Typography.Text>{t('Status')}</Typography.Text>
            <InputNumber
              min={200}
              max={599}
              precision={0}
              value={value?.status}
              disabled={disabled}
              onChange={(v) => set({ status: v == null ? 202 : Number(v) })}
            />
          </Space>
          <Typography.Text>{t('Headers')}</Typography.Text>
          <KeyValueEditor value={value?.headers} disabled={disabled} onChange={(headers) => set({ headers })} />
          <Typography.Text>{t('Body')}</Typography.Text>
          <JsonEditor
            value={value?.body}
            schema={false}
            rows={4}
            disabled={disabled}
            onChange={(body) => set({ body })}
          />
        </>
      )}
    </Space>
  );
}
