import { ReloadOutlined, RetweetOutlined, SendOutlined, UnorderedListOutlined } from '@ant-design/icons';
import { useForm } from '@formily/react';
import { useAPIClient } from '@nocobase/client';
import { useFlowContext } from '@nocobase/plugin-workflow/client';
import {
  Alert,
  Button,
  Descriptions,
  Drawer,
  Input,
  Modal,
  message,
  Segmented,
  Select,
  Space,
  Table,
  Tag,
  Typography,
} from 'antd';
import dayjs from 'dayjs';
import { useCallback, useEffect, useState } from 'react';
import { useT } from '../locale';
import { formatBytes, webhookUrl } from '../utils';

export interface Delivery {
  id: string;
  createdAt: string;
  workflowId?: number | string;
  workflowKey?: string;
  key?: string;
  method?: string;
  path?: string;
  ip?: string;
  status?: number;
  errorCode?: string | null;
  errorMessage?: string | null;
  durationMs?: number;
  executionId?: number | string | null;
  headers?: Record<string, unknown> | null;
  body?: string | null;
  bodyTruncated?: boolean;
  bodyBytes?: number;
  /** A sender's handshake (URL check, PING) answered by the plugin: no execution. */
  handshake?: boolean;
}

const statusColor = (s?: number) =>
  !s ? 'default' : s < 300 ? 'success' : s < 400 ? 'processing' : s < 500 ? 'warning' : 'error';

const FILTERS: Record<string, object> = {
  all: {},
  accepted: { status: { $lt: 400 } },
  rejected: { status: { $gte: 400 } },
  handshakes: { handshake: true },
};

/** The status, and a tag saying so when the plugin answered a sender's handshake itself. */
function StatusCell(props: { delivery: Delivery }) {
  const t = useT();
  const d = props.delivery;
  return (
    <>
      <Tag color={statusColor(d.status)}>{d.status}</Tag>
      {d.handshake ? (
        <Tag color="purple" data-testid="delivery-handshake">
          {t('Handshake')}
        </Tag>
      ) : null}
    </>
  );
}

/** The execution page (a full page load: the admin UI's router does not always know it from inside a drawer). */
const executionPath = (id: unknown) =>
  `${String((window as any).__nocobase_public_path__ ?? '/').replace(/\/?$/, '/')}admin/settings/workflow/executions/${id}`;

function prettyBody(body?: string | null): string {
  if (!body) return '';
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

/** One delivery: what arrived (headers redacted by the server), what was answered, and replay. */
function DeliveryDetail(props: { delivery: Delivery; onClose: () => void; onReplayed: () => void }) {
  const { delivery: d, onClose, onReplayed } = props;
  const t = useT();
  const api = useAPIClient();
  const [replaying, setReplaying] = useState(false);
  const accepted = !!d.status && d.status < 400 && !d.errorCode;
  const replay = async () => {
    setReplaying(true);
    try {
      const res = await api.resource('webhookDeliveries').replay({ filterByTk: d.id });
      const data = res?.data?.data ?? {};
      message.success(`${t('Replayed')}: ${data.deliveryId ?? ''} (${data.status ?? ''})`);
      onReplayed();
    } catch (e: any) {
      message.error(e?.response?.data?.errors?.[0]?.message ?? e?.message ?? String(e));
    } finally {
      setReplaying(false);
    }
  };
  return (
    <Drawer
      open
      width={720}
      title={`${t('Delivery')} ${d.id}`}
      onClose={onClose}
      data-testid="delivery-detail"
      extra={
        <Button
          icon={<RetweetOutlined />}
          onClick={replay}
          loading={replaying}
          disabled={!accepted}
          data-testid="replay-delivery"
        >
          {t('Replay')}
        </Button>
      }
    >
      <Descriptions column={2} size="small" bordered>
        <Descriptions.Item label={t('Time')}>{dayjs(d.createdAt).format('YYYY-MM-DD HH:mm:ss.SSS')}</Descriptions.Item>
        <Descriptions.Item label={t('Status')}>
          <StatusCell delivery={d} />
        </Descriptions.Item>
        <Descriptions.Item label={t('Method')}>{d.method}</Descriptions.Item>
        <Descriptions.Item label={t('Client IP')}>{d.ip}</Descriptions.Item>
        <Descriptions.Item label={t('Path')} span={2}>
          <Typography.Text code>{d.path}</Typography.Text>
        </Descriptions.Item>
        <Descriptions.Item label={t('Error code')}>{d.errorCode ?? '-'}</Descriptions.Item>
        <Descriptions.Item label={t('Duration')}>{d.durationMs != null ? `${d.durationMs} ms` : '-'}</Descriptions.Item>
        {d.errorMessage ? (
          <Descriptions.Item label={t('Error message')} span={2}>
            {d.errorMessage}
          </Descriptions.Item>
        ) : null}
        <Descriptions.Item label={t('Execution')} span={2}>
          {d.executionId ? <a href={executionPath(d.executionId)}>#{String(d.executionId)}</a> : t('None')}
        </Descriptions.Item>
      </Descriptions>
      {!accepted && (
        <Typography.Paragraph type="secondary" style={{ marginTop: 8 }}>
          {t('Only accepted deliveries can be replayed.')}
        </Typography.Paragraph>
      )}
      <Typography.Title level={5} style={{ marginTop: 16 }}>
        {t('Headers')}
      </Typography.Title>
      <Typography.Paragraph type="secondary">{t('Secrets and signatures are redacted.')}</Typography.Paragraph>
      <pre
        data-testid="delivery-headers"
        style={{ background: '#fafafa', padding: 8, maxHeight: 240, overflow: 'auto', fontSize: 12 }}
      >
        {JSON.stringify(d.headers ?? {}, null, 2)}
      </pre>
      <Typography.Title level={5}>
        {t('Body')}{' '}
        {d.bodyBytes != null ? <Typography.Text type="secondary">({formatBytes(d.bodyBytes)})</Typography.Text> : null}
      </Typography.Title>
      {d.bodyTruncated ? (
        <Alert
          type="warning"
          showIcon
          message={t('The body was cut at the size limit of the log.')}
          style={{ marginBottom: 8 }}
        />
      ) : null}
      <pre
        data-testid="delivery-body"
        style={{ background: '#fafafa', padding: 8, maxHeight: 360, overflow: 'auto', fontSize: 12 }}
      >
        {prettyBody(d.body) || t('(empty)')}
      </pre>
    </Drawer>
  );
}

/** Sends a request to this webhook from the browser (same origin) and shows the answer. */
function TestRequest(props: { url: string; methods: string[]; onSent: () => void; onClose: () => void }) {
  const t = useT();
  const [method, setMethod] = useState(props.methods[0] ?? 'POST');
  const [sub, setSub] = useState('');
  const [headers, setHeaders] = useState('Content-Type: application/json');
  const [body, setBody] = useState('{\n  "hello": "world"\n}');
  const [sending, setSending] = useState(false);
  const [answer, setAnswer] = useState<{ status: number; headers: string; body: string } | null>(null);
  const send = async () => {
    setSending(true);
    try {
      const h = new Headers();
      for (const line of headers.split('\n')) {
        const i = line.indexOf(':');
        if (i > 0) h.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
      }
      const target = props.url + (sub.trim() ? `/${sub.trim().replace(/^\/+/, '')}` : '');
      const res = await fetch(target, {
        method,
        headers: h,
        body: method === 'GET' || method === 'HEAD' ? undefined : body,
        credentials: 'omit',
      });
      const text = await res.text();
      const lines: string[] = [];
      res.headers.forEach((v, k) => {
        lines.push(`${k}: ${v}`);
      });
      setAnswer({ status: res.status, headers: lines.join('\n'), body: prettyBody(text) });
      props.onSent();
    } catch (e: any) {
      setAnswer({ status: 0, headers: '', body: String(e?.message ?? e) });
    } finally {
      setSending(false);
    }
  };
  return (
    <Modal
      open
      width={720}
      title={t('Send a test request')}
      onCancel={props.onClose}
      footer={[
        <Button key="close" onClick={props.onClose}>
          {t('Close')}
        </Button>,
        <Button
          key="send"
          type="primary"
          icon={<SendOutlined />}
          loading={sending}
          onClick={send}
          data-testid="send-test-request"
        >
          {t('Send')}
        </Button>,
      ]}
    >
      <Space direction="vertical" style={{ width: '100%' }}>
        <Space.Compact style={{ width: '100%' }}>
          <Select
            value={method}
            onChange={setMethod}
            style={{ width: 110 }}
            options={props.methods.map((m) => ({ value: m, label: m }))}
          />
          <Input
            addonBefore={props.url}
            value={sub}
            onChange={(e) => setSub(e.target.value)}
            placeholder={t('sub-path (optional)')}
          />
        </Space.Compact>
        <Typography.Text>{t('Headers (one "Name: value" per line)')}</Typography.Text>
        <Input.TextArea
          value={headers}
          onChange={(e) => setHeaders(e.target.value)}
          rows={3}
          style={{ fontFamily: 'monospace' }}
        />
        <Typography.Text>{t('Body')}</Typography.Text>
        <Input.TextArea
          value={body}
          onChange={(e) => setBody(e.target.value)}
          rows={6}
          style={{ fontFamily: 'monospace' }}
        />
        <Typography.Text type="secondary">
          {t(
            'A webhook that checks signatures answers 401 to an unsigned test request; the delivery list shows it either way.',
          )}{' '}
          {t('Enable the workflow to receive requests.')}
        </Typography.Text>
        {answer && (
          <div data-testid="test-answer">
            <Typography.Title level={5}>
              {t('Answer')} <Tag color={statusColor(answer.status)}>{answer.status || t('Network error')}</Tag>
            </Typography.Title>
            <pre style={{ background: '#fafafa', padding: 8, fontSize: 12, maxHeight: 120, overflow: 'auto' }}>
              {answer.headers}
            </pre>
            <pre style={{ background: '#fafafa', padding: 8, fontSize: 12, maxHeight: 240, overflow: 'auto' }}>
              {answer.body}
            </pre>
          </div>
        )}
      </Space>
    </Modal>
  );
}

/** The latest deliveries of this workflow (all its versions), newest first. */
export function DeliveriesList(props: { workflowKey: string; refreshKey?: number }) {
  const t = useT();
  const api = useAPIClient();
  const [filter, setFilter] = useState<string>('all');
  const [page, setPage] = useState(1);
  const [pageSize, setPageSize] = useState(10);
  const [data, setData] = useState<Delivery[]>([]);
  const [count, setCount] = useState(0);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState<Delivery | null>(null);
  const [tick, setTick] = useState(0);

  const load = useCallback(async () => {
    setLoading(true);
    try {
      const res = await api.resource('webhookDeliveries').list({
        filter: { workflowKey: props.workflowKey, ...FILTERS[filter] },
        sort: ['-createdAt'],
        page,
        pageSize,
      });
      setData(res?.data?.data ?? []);
      setCount(res?.data?.meta?.count ?? 0);
      setError(null);
    } catch (e: any) {
      setError(e?.response?.data?.errors?.[0]?.message ?? e?.message ?? String(e));
    } finally {
      setLoading(false);
    }
  }, [api, props.workflowKey, filter, page, pageSize]);

  useEffect(() => {
    load();
  }, [load, tick, props.refreshKey]);

  const openDetail = async (row: Delivery) => {
    try {
      const res = await api.resource('webhookDeliveries').get({ filterByTk: row.id });
      setOpen(res?.data?.data ?? row);
    } catch {
      setOpen(row);
    }
  };

  return (
    <Space direction="vertical" style={{ width: '100%' }}>
      <Space wrap>
        <Segmented
          value={filter}
          onChange={(v) => {
            setFilter(String(v));
            setPage(1);
          }}
          options={[
            { value: 'all', label: t('All') },
            { value: 'accepted', label: t('Accepted') },
            { value: 'rejected', label: t('Rejected') },
            { value: 'handshakes', label: t('Handshakes') },
          ]}
        />
        <Button icon={<ReloadOutlined />} onClick={() => setTick((x) => x + 1)} data-testid="refresh-deliveries">
          {t('Refresh')}
        </Button>
      </Space>
      {error ? <Alert type="error" showIcon message={error} /> : null}
      <Table<Delivery>
        rowKey="id"
        size="small"
        loading={loading}
        dataSource={data}
        data-testid="deliveries-table"
        onRow={(row) => ({ onClick: () => openDetail(row), style: { cursor: 'pointer' } })}
        pagination={{
          current: page,
          pageSize,
          total: count,
          showSizeChanger: true,
          onChange: (p, s) => {
            setPage(p);
            setPageSize(s);
          },
        }}
        columns={[
          {
            title: t('Time'),
            dataIndex: 'createdAt',
            render: (v) => dayjs(v).format('YYYY-MM-DD HH:mm:ss'),
          },
          { title: t('Method'), dataIndex: 'method' },
          { title: t('Client IP'), dataIndex: 'ip' },
          {
            title: t('Status'),
            dataIndex: 'status',
            render: (_v, d) => <StatusCell delivery={d} />,
          },
          { title: t('Error code'), dataIndex: 'errorCode', render: (v) => v ?? '' },
          { title: t('Duration'), dataIndex: 'durationMs', render: (v) => (v != null ? `${v} ms` : '') },
          {
            title: t('Execution'),
            dataIndex: 'executionId',
            render: (v) =>
              v ? (
                <a href={executionPath(v)} onClick={(e) => e.stopPropagation()}>
                  #{String(v)}
                </a>
              ) : (
                ''
              ),
          },
        ]}
      />
      {open && (
        <DeliveryDetail delivery={open} onClose={() => setOpen(null)} onReplayed={() => setTick((x) => x + 1)} />
      )}
    </Space>
  );
}

/** In the trigger form: the deliveries of this webhook and a test request. */
export function WebhookDeliveries() {
  const t = useT();
  const ctx = useFlowContext() as any;
  const form = useForm();
  const api = useAPIClient();
  const workflow = ctx?.workflow;
  const [show, setShow] = useState(false);
  const [testing, setTesting] = useState(false);
  const [refreshKey, setRefreshKey] = useState(0);
  if (!workflow?.key) return null;
  const values = (form?.values ?? {}) as { key?: string; methods?: string[] };
  const url = webhookUrl(
    api?.axios?.defaults?.baseURL,
    window.location.origin,
    workflow.config?.key ?? values.key ?? '',
  );
  const methods = Array.isArray(values.methods) && values.methods.length ? values.methods : ['POST'];
  return (
    <Space wrap>
      <Button icon={<UnorderedListOutlined />} onClick={() => setShow(true)} data-testid="open-deliveries">
        {t('Deliveries')}
      </Button>
      <Button icon={<SendOutlined />} onClick={() => setTesting(true)} data-testid="open-test-request">
        {t('Send a test request')}
      </Button>
      {show && (
        <Drawer open width={960} title={t('Deliveries')} onClose={() => setShow(false)} data-testid="deliveries-drawer">
          <DeliveriesList workflowKey={workflow.key} refreshKey={refreshKey} />
        </Drawer>
      )}
      {testing && (
        <TestRequest
          url={url}
          methods={methods}
          onClose={() => setTesting(false)}
          onSent={() => setRefreshKey((x) => x + 1)}
        />
      )}
    </Space>
  );
}
