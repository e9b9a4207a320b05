import { SendOutlined } from '@ant-design/icons';
import { useAPIClient } from '@nocobase/client';
import { Alert, Button, Input, Modal, Segmented, Select, Space, Tag, Typography } from 'antd';
import { useState } from 'react';
import { DELIVERIES } from '../../common/constants';
import { schemeOf } from '../../common/schemes';
import { useT } from '../locale';
import type { VersionRef } from './delivery-view';
import { prettyBody, statusColor } from './delivery-view';

/** An example body from a JSON Schema: its `examples`/`default`, else a value of each property's type. */
export function schemaExample(schema: any, depth = 0): unknown {
  if (!schema || typeof schema !== 'object' || depth > 6) return null;
  if (Array.isArray(schema.examples) && schema.examples.length) return schema.examples[0];
  if (schema.default !== undefined) return schema.default;
  if (schema.const !== undefined) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0];
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if (type === 'object' || schema.properties) {
    const out: Record<string, unknown> = {};
    for (const [name, sub] of Object.entries(schema.properties ?? {})) out[name] = schemaExample(sub, depth + 1);
    return out;
  }
  if (type === 'array') return [schemaExample(schema.items, depth + 1)];
  if (type === 'integer' || type === 'number') return schema.minimum ?? 1;
  if (type === 'boolean') return true;
  if (type === 'string') return schema.format === 'date-time' ? new Date().toISOString() : 'text';
  return null;
}

const DEFAULT_BODY = '{\n  "hello": "world"\n}';

/**
 * Sends a test request to the version being edited (enabled or not) through the server: signed
 * there with the stored secret, it passes the real checks, and its delivery is marked as a test.
 */
export function TestRequest(props: {
  version: VersionRef;
  methods: string[];
  bodySchema?: unknown;
  sample?: { data?: unknown; headers?: Record<string, string>; query?: Record<string, unknown> } | null;
  /** The stored verification type: its handshake (the sender's URL check) can be tried. */
  verificationType?: string;
  onSent: () => void;
  onClose: () => void;
}) {
  const t = useT();
  const api = useAPIClient();
  const [method, setMethod] = useState(props.methods[0] ?? 'POST');
  const [sub, setSub] = useState('');
  const [query, setQuery] = useState('');
  const [headers, setHeaders] = useState('');
  const [source, setSource] = useState<'typed' | 'schema' | 'sample'>('typed');
  const [body, setBody] = useState(DEFAULT_BODY);
  const [sending, setSending] = useState(false);
  const [answer, setAnswer] = useState<{ status: number; headers: Record<string, string>; body: unknown } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const pick = (value: 'typed' | 'schema' | 'sample') => {
    setSource(value);
    if (value === 'schema') setBody(JSON.stringify(schemaExample(props.bodySchema) ?? {}, null, 2));
    if (value === 'sample') {
      const data = props.sample?.data;
      setBody(typeof data === 'string' ? data : JSON.stringify(data ?? {}, null, 2));
      if (props.sample?.query) setQuery(new URLSearchParams(props.sample.query as Record<string, string>).toString());
    }
  };
  const scheme = schemeOf(props.verificationType);
  const canTryHandshake = !!scheme?.handshake && scheme.canSign;
  const send = async (handshake = false) => {
    setSending(true);
    setError(null);
    try {
      const headerValues: Record<string, string> = {};
      for (const line of headers.split('\n')) {
        const i = line.indexOf(':');
        if (i > 0) headerValues[line.slice(0, i).trim()] = line.slice(i + 1).trim();
      }
      const res = await api.request({
        url: `${DELIVERIES}:test`,
        method: 'post',
        params: { workflowId: props.version.id },
        data: handshake ? { handshake: true, path: sub } : { method, path: sub, query, headers: headerValues, body },
      });
      setAnswer(res?.data?.data ?? null);
      props.onSent();
    } catch (e: any) {
      setError(e?.response ? (e.response.data?.errors?.[0]?.message ?? e.message) : t('Network error'));
    } finally {
      setSending(false);
    }
  };
  const hasBody = method !== 'GET' && method !== 'HEAD';
  return (
    <Modal
      open
      width={760}
      title={t('Send a test request')}
      onCancel={props.onClose}
      data-testid="test-request-modal"
      footer={[
        <Button key="close" onClick={props.onClose}>
          {t('Close')}
        </Button>,
        ...(canTryHandshake
          ? [
              <Button
                key="handshake"
                loading={sending}
                onClick={() => send(true)}
                data-testid="try-handshake"
                title={t(
                  'Sends the request the sender sends to check the URL, signed like it, instead of the one above.',
                )}
              >
                {t('Try the handshake')}
              </Button>,
            ]
          : []),
        <Button
          key="send"
          type="primary"
          icon={<SendOutlined />}
          loading={sending}
          onClick={() => send()}
          data-testid="send-test-request"
        >
          {t('Send')}
        </Button>,
      ]}
    >
      <Space direction="vertical" style={{ width: '100%' }}>
        <Alert
          type="info"
          showIcon
          message={t(
            'Sent by the server to version #{{id}}, enabled or not, and signed with its stored secret: it passes the same checks as a real request. Its delivery is marked as a test; the run happens for real, and the version counts as executed.',
            { id: props.version.id },
          )}
        />
        <Space.Compact style={{ width: '100%' }}>
          <Select
            value={method}
            onChange={setMethod}
            style={{ width: 110 }}
            options={props.methods.map((m) => ({ value: m, label: m }))}
          />
          <Input value={sub} onChange={(e) => setSub(e.target.value)} placeholder={t('sub-path (optional)')} />
          <Input
            value={query}
            onChange={(e) => setQuery(e.target.value)}
            placeholder={t('query (optional), e.g. a=1&b=2')}
          />
        </Space.Compact>
        <Typography.Text>{t('Headers (one "Name: value" per line)')}</Typography.Text>
        <Input.TextArea
          value={headers}
          onChange={(e) => setHeaders(e.target.value)}
          rows={2}
          placeholder="X-GitHub-Event: push"
          style={{ fontFamily: 'monospace' }}
        />
        {hasBody ? (
          <>
            <Space>
              <Typography.Text>{t('Body')}</Typography.Text>
              <Segmented
                value={source}
                onChange={(v) => pick(v as 'typed' | 'schema' | 'sample')}
                options={[
                  { value: 'typed', label: t('Typed') },
                  { value: 'schema', label: t('Example of the schema'), disabled: !props.bodySchema },
                  { value: 'sample', label: t('Captured sample'), disabled: !props.sample },
                ]}
              />
            </Space>
            <Input.TextArea
              value={body}
              onChange={(e) => {
                setBody(e.target.value);
                setSource('typed');
              }}
              rows={8}
              style={{ fontFamily: 'monospace' }}
              data-testid="test-request-body"
            />
          </>
        ) : null}
        {error ? <Alert type="error" showIcon message={error} /> : null}
        {answer && (
          <div data-testid="test-answer">
            <Typography.Title level={5}>
              {t('Answer')} <Tag color={statusColor(answer.status)}>{answer.status}</Tag>
            </Typography.Title>
            <pre style={{ background: '#fafafa', padding: 8, fontSize: 12, maxHeight: 120, overflow: 'auto' }}>
              {Object.entries(answer.headers ?? {})
                .map(([k, v]) => `${k}: ${v}`)
                .join('\n')}
            </pre>
            <pre style={{ background: '#fafafa', padding: 8, fontSize: 12, maxHeight: 240, overflow: 'auto' }}>
              {prettyBody(answer.body)}
            </pre>
          </div>
        )}
      </Space>
    </Modal>
  );
}
