import { ExperimentOutlined, ReloadOutlined, RetweetOutlined, UnorderedListOutlined } from '@ant-design/icons';
import { useForm } from '@formily/react';
import { useAPIClient } from '@nocobase/client';
import { useFlowContext } from '@nocobase/plugin-workflow/client';
import {
  Alert,
  Button,
  ConfigProvider,
  DatePicker,
  Descriptions,
  Drawer,
  Input,
  Modal,
  message,
  Radio,
  Segmented,
  Select,
  Space,
  Switch,
  Table,
  Tag,
  Typography,
} from 'antd';
import dayjs from 'dayjs';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { useNavigate } from 'react-router-dom';
import { DELIVERIES, METHODS } from '../../common/constants';
import { msg, useT } from '../locale';
import { formatBytes } from '../utils';
import { prettyBody, statusColor, type VersionRef } from './delivery-view';
import { ListenForSample } from './ListenForSample';
import { TestRequest } from './TestRequest';

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  bodyTruncated?: boolean;
}

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
  replayOf?: string | null;
  test?: boolean;
  repeated?: boolean;
  answer?: Answer | null;
  /** A sender's handshake (URL check, PING) answered by the plugin: no execution. */
  handshake?: boolean;
}

/** The version the operator is looking at (the canvas's, the trigger drawer's): for replays, tests and samples. */
/** What each error code means, in the admin's language (the caller got the English message). */
const CODE_TEXT: Record<string, string> = {
  INVALID_BODY: msg('The body could not be read for its content type.'),
  UNAUTHORIZED: msg('The credentials (Basic or token) are missing or wrong.'),
  SIGNATURE_INVALID: msg('The signature is missing or does not match the body: another secret, or a changed body.'),
  TIMESTAMP_OUT_OF_TOLERANCE: msg(
    "The signed time is too old or too far ahead: a replayed request, or the sender's clock.",
  ),
  IP_FORBIDDEN: msg('The client IP is not in the allow-list.'),
  NOT_FOUND: msg('No enabled webhook has this key or sub-path.'),
  METHOD_NOT_ALLOWED: msg('This method is not allowed.'),
  PAYLOAD_TOO_LARGE: msg('The body is larger than the limit.'),
  UNSUPPORTED_MEDIA_TYPE: msg('This content type or encoding is not supported.'),
  SCHEMA_VALIDATION_FAILED: msg('The body does not match the JSON Schema:'),
  RATE_LIMITED: msg('Over the rate limit.'),
  WORKFLOW_FAILED: msg('The execution failed.'),
  TIMEOUT: msg('The run took longer than the timeout; it went on.'),
  FILTERED: msg("The request did not pass the trigger's filter; nothing was started."),
  UNAVAILABLE: msg('The server could not process it then; the caller was asked to retry.'),
  REQUEST_TIMEOUT: msg('The body did not arrive in time.'),
  CUT_OFF: msg('The process stopped before it answered.'),
};

/** Codes that are not a failure of the request: shown as information. */
const NOT_ERRORS = new Set(['FILTERED']);

const STATES: Record<string, object> = {
  all: {},
  accepted: { status: { $lt: 400 } },
  rejected: { status: { $gte: 400 } },
  tests: { test: { $eq: true } },
  handshakes: { handshake: true },
};

const ERROR_CODES = [
  'INVALID_BODY',
  'UNAUTHORIZED',
  'SIGNATURE_INVALID',
  'TIMESTAMP_OUT_OF_TOLERANCE',
  'IP_FORBIDDEN',
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'SCHEMA_VALIDATION_FAILED',
  'RATE_LIMITED',
  'WORKFLOW_FAILED',
  'TIMEOUT',
  'FILTERED',
  'UNAVAILABLE',
  'REQUEST_TIMEOUT',
  'CUT_OFF',
];

/** The execution page, inside the admin UI's router (no full reload). */
export const executionRoute = (id: unknown) => `/admin/settings/workflow/executions/${id}`;

const preStyle = { background: '#fafafa', padding: 8, maxHeight: 300, overflow: 'auto', fontSize: 12, margin: 0 };

/** The failed rules of a 422 (`error.details`), one line each. */
function ruleList(answer?: Answer | null): string[] | null {
  const body = answer?.body as { error?: { details?: unknown } } | undefined;
  const details = body?.error?.details;
  if (!Array.isArray(details) || !details.length) return null;
  return details.map((d: any) =>
    typeof d === 'string'
      ? d
      : [d?.instancePath || d?.path || '/', d?.message ?? JSON.stringify(d)].filter(Boolean).join(': '),
  );
}

/** Runs a delivery again, after saying that its side effects happen again; optionally through the edited version. */
function ReplayButton(props: { delivery: Delivery; version?: VersionRef; onReplayed: (id?: string) => void }) {
  const { delivery: d, version, onReplayed } = props;
  const t = useT();
  const api = useAPIClient();
  const [open, setOpen] = useState(false);
  const [target, setTarget] = useState<'enabled' | 'version'>('enabled');
  const [busy, setBusy] = useState(false);
  const accepted = !!d.executionId;
  const replay = async () => {
    setBusy(true);
    try {
      const params: Record<string, unknown> = { filterByTk: d.id };
      if (target === 'version' && version) params.workflowId = version.id;
      const res = await api.resource(DELIVERIES).replay(params);
      const data = res?.data?.data ?? {};
      message.success(t('Replayed: {{status}}', { status: data.status ?? '' }));
      setOpen(false);
      onReplayed(data.deliveryId);
    } catch (e: any) {
      message.error(e?.response?.data?.errors?.[0]?.message ?? e?.message ?? String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <Button
        icon={<RetweetOutlined />}
        onClick={() => setOpen(true)}
        disabled={!accepted}
        data-testid="replay-delivery"
      >
        {t('Replay')}
      </Button>
      {open && (
        <Modal
          open
          title={t('Replay this delivery?')}
          onCancel={() => setOpen(false)}
          onOk={replay}
          okText={t('Replay')}
          okButtonProps={{ loading: busy, danger: true, 'data-testid': 'confirm-replay' } as any}
          data-testid="replay-confirm"
        >
          <Alert
            type="warning"
            showIcon
            message={t(
              'The workflow runs again with the data of this delivery: its side effects (records, messages, HTTP calls) happen again. The request is not verified again.',
            )}
          />
          {version && !version.enabled ? (
            <Radio.Group
              style={{ marginTop: 12, display: 'flex', flexDirection: 'column', gap: 6 }}
              value={target}
              onChange={(e) => setTarget(e.target.value)}
            >
              <Radio value="enabled">{t('Through the enabled version')}</Radio>
              <Radio value="version" data-testid="replay-against-version">
                {t('Through this version (#{{id}}), even when it is not enabled', { id: version.id })}
              </Radio>
            </Radio.Group>
          ) : null}
        </Modal>
      )}
    </>
  );
}

/** One delivery: what arrived (headers redacted by the server), what was answered, and what can be done with it. */
export function DeliveryDetail(props: {
  delivery: Delivery;
  version?: VersionRef;
  onClose: () => void;
  onReplayed: (id?: string) => void;
  onOpenDelivery: (id: string) => void;
}) {
  const { delivery: d, version, onClose, onReplayed, onOpenDelivery } = props;
  const t = useT();
  const api = useAPIClient();
  const navigate = useNavigate();
  const rules = ruleList(d.answer);
  const openExecution = () => {
    onClose();
    navigate(executionRoute(d.executionId));
  };
  const useAsSample = async () => {
    if (!version) return;
    try {
      await api.resource(DELIVERIES).sample({ filterByTk: d.id, workflowId: version.id });
      message.success(
        t('Kept as the sample of version #{{id}}: its fields are offered as variables.', { id: version.id }),
      );
    } catch (e: any) {
      message.error(e?.response?.data?.errors?.[0]?.message ?? e?.message ?? String(e));
    }
  };
  const info = d.repeated || (d.errorCode && NOT_ERRORS.has(d.errorCode));
  return (
    <Drawer
      open
      width={760}
      title={
        <Space>
          {t('Delivery')}
          <Typography.Text code>{d.id}</Typography.Text>
          {d.test ? <Tag color="purple">{t('Test')}</Tag> : null}
          {d.repeated ? <Tag color="blue">{t('Repeat')}</Tag> : null}
        </Space>
      }
      onClose={onClose}
      data-testid="delivery-detail"
      extra={
        <Space>
          {version ? (
            <Button icon={<ExperimentOutlined />} onClick={useAsSample} data-testid="use-as-sample">
              {t('Use as sample')}
            </Button>
          ) : null}
          <ReplayButton delivery={d} version={version} onReplayed={onReplayed} />
        </Space>
      }
    >
      <Descriptions column={2} size="small" bordered>
        <Descriptions.Item label={t('Time')}>{dayjs(d.createdAt).format('YYYY-MM-DD HH:mm:ss.SSS')}</Descriptions.Item>
        <Descriptions.Item label={t('Status')}>
          <Tag color={statusColor(d.status)}>{d.status ?? '-'}</Tag>
          {d.handshake ? (
            <Tag color="purple" data-testid="delivery-handshake">
              {t('Handshake')}
            </Tag>
          ) : null}
        </Descriptions.Item>
        <Descriptions.Item label={t('Method')}>{d.method}</Descriptions.Item>
        <Descriptions.Item label={t('Client IP')}>{d.ip}</Descriptions.Item>
        <Descriptions.Item label={t('Path')} span={2}>
          <Typography.Text code>{d.path}</Typography.Text>
        </Descriptions.Item>
        <Descriptions.Item label={t('Error code')}>{d.errorCode ?? '-'}</Descriptions.Item>
        <Descriptions.Item label={t('Duration')}>{d.durationMs != null ? `${d.durationMs} ms` : '-'}</Descriptions.Item>
        <Descriptions.Item label={t('Version')}>{d.workflowId ? `#${d.workflowId}` : '-'}</Descriptions.Item>
        <Descriptions.Item label={t('Execution')}>
          {d.executionId ? (
            <a
              href={`${String((window as any).__nocobase_public_path__ ?? '/').replace(/\/?$/, '')}${executionRoute(d.executionId)}`}
              onClick={(e) => {
                e.preventDefault();
                openExecution();
              }}
              data-testid="delivery-execution-link"
            >
              #{String(d.executionId)}
            </a>
          ) : (
            t('None')
          )}
        </Descriptions.Item>
        {d.replayOf ? (
          <Descriptions.Item label={t('Replay of')} span={2}>
            <Button
              type="link"
              size="small"
              style={{ padding: 0 }}
              onClick={() => onOpenDelivery(String(d.replayOf))}
              data-testid="replay-of-link"
            >
              {d.replayOf}
            </Button>
          </Descriptions.Item>
        ) : null}
      </Descriptions>
      {d.repeated ? (
        <Alert
          style={{ marginTop: 12 }}
          type="info"
          showIcon
          data-testid="delivery-repeat"
          message={t(
            'A repeat: this idempotency key was seen before, so nothing ran again and the first answer was sent.',
          )}
        />
      ) : d.errorMessage || rules ? (
        <Alert
          style={{ marginTop: 12 }}
          type={info ? 'info' : 'error'}
          showIcon
          data-testid="delivery-error"
          message={d.errorCode && CODE_TEXT[d.errorCode] ? t(CODE_TEXT[d.errorCode]) : t('Error message')}
          description={
            <>
              {d.errorCode && CODE_TEXT[d.errorCode] ? null : <div>{d.errorMessage}</div>}
              {rules ? (
                <ul style={{ margin: 0, paddingInlineStart: 18 }} data-testid="delivery-rules">
                  {rules.map((rule, i) => (
                    <li key={i}>{rule}</li>
                  ))}
                </ul>
              ) : null}
            </>
          }
        />
      ) : null}
      {!d.executionId && (
        <Typography.Paragraph type="secondary" style={{ marginTop: 8 }}>
          {t('Only accepted deliveries can be replayed.')}
        </Typography.Paragraph>
      )}
      <Typography.Title level={5} style={{ marginTop: 16 }}>
        {t('Response sent')} {d.answer ? <Tag color={statusColor(d.answer.status)}>{d.answer.status}</Tag> : null}
      </Typography.Title>
      {d.answer ? (
        <Space direction="vertical" style={{ width: '100%' }} data-testid="delivery-answer">
          {d.answer.headers && Object.keys(d.answer.headers).length ? (
            <pre style={preStyle}>
              {Object.entries(d.answer.headers)
                .map(([k, v]) => `${k}: ${v}`)
                .join('\n')}
            </pre>
          ) : null}
          <pre style={preStyle}>{prettyBody(d.answer.body) || t('(empty)')}</pre>
          {d.answer.bodyTruncated ? (
            <Typography.Text type="secondary">{t('The body was cut at the size limit of the log.')}</Typography.Text>
          ) : null}
        </Space>
      ) : (
        <Typography.Paragraph type="secondary">{t('Not recorded for this delivery.')}</Typography.Paragraph>
      )}
      <Typography.Title level={5} style={{ marginTop: 16 }}>
        {t('Request headers')}
      </Typography.Title>
      <Typography.Paragraph type="secondary">{t('Secrets and signatures are redacted.')}</Typography.Paragraph>
      <pre data-testid="delivery-headers" style={preStyle}>
        {JSON.stringify(d.headers ?? {}, null, 2).replaceAll('"[redacted]"', `"${t('[redacted]')}"`)}
      </pre>
      <Typography.Title level={5} style={{ marginTop: 16 }}>
        {t('Request body')}{' '}
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
      <pre data-testid="delivery-body" style={preStyle}>
        {prettyBody(d.body) || t('(empty)')}
      </pre>
    </Drawer>
  );
}

const AUTO_REFRESH_MS = 5000;

/** The deliveries of one workflow (all its versions), newest first, with filters; or those of one execution. */
export function DeliveriesList(props: {
  workflowKey: string;
  version?: VersionRef;
  executionId?: string | number;
  refreshKey?: number;
  /** Opens this delivery's detail at once (e.g. the one of an execution). */
  openFirst?: boolean;
}) {
  const t = useT();
  const api = useAPIClient();
  const [state, setState] = useState<string>('all');
  const [errorCode, setErrorCode] = useState<string | undefined>();
  const [method, setMethod] = useState<string | undefined>();
  const [range, setRange] = useState<[any, any] | null>(null);
  const [text, setText] = useState('');
  const [auto, setAuto] = useState(false);
  const [page, setPage] = useState(1);
  const [pageSize, setPageSize] = useState(10);
  const [data, setData] = useState<Delivery[]>([]);
  const [count, setCount] = useState(0);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState<Delivery | null>(null);
  const [tick, setTick] = useState(0);
  const [opened, setOpened] = useState(false);

  const filter = useMemo(() => {
    const and: object[] = [{ workflowKey: props.workflowKey }];
    if (props.executionId) and.push({ executionId: props.executionId });
    if (Object.keys(STATES[state] ?? {}).length) and.push(STATES[state]);
    if (errorCode) and.push({ errorCode });
    if (method) and.push({ method });
    if (range?.[0]) and.push({ createdAt: { $gte: range[0].toISOString() } });
    if (range?.[1]) and.push({ createdAt: { $lte: range[1].toISOString() } });
    if (text.trim()) and.push({ body: { $includes: text.trim() } });
    return { $and: and };
  }, [props.workflowKey, props.executionId, state, errorCode, method, range, text]);

  const load = useCallback(async () => {
    setLoading(true);
    try {
      const res = await api.resource(DELIVERIES).list({
        filter,
        sort: ['-createdAt'],
        except: ['body', 'headers', 'answer'],
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
  }, [api, filter, page, pageSize]);

  useEffect(() => {
    load();
  }, [load, tick, props.refreshKey]);

  useEffect(() => {
    if (!auto) return;
    const timer = setInterval(() => setTick((x) => x + 1), AUTO_REFRESH_MS);
    return () => clearInterval(timer);
  }, [auto]);

  const openDetail = useCallback(
    async (id: string) => {
      try {
        const res = await api.resource(DELIVERIES).get({ filterByTk: id });
        if (res?.data?.data) setOpen(res.data.data);
      } catch (e: any) {
        message.error(e?.response?.data?.errors?.[0]?.message ?? e?.message ?? String(e));
      }
    },
    [api],
  );

  useEffect(() => {
    if (props.openFirst && !opened && data.length) {
      setOpened(true);
      openDetail(data[0].id);
    }
  }, [props.openFirst, opened, data, openDetail]);

  return (
    <Space direction="vertical" style={{ width: '100%' }}>
      <Space wrap>
        <Segmented
          value={state}
          onChange={(v) => {
            setState(String(v));
            setPage(1);
          }}
          options={[
            { value: 'all', label: t('All') },
            { value: 'accepted', label: t('Accepted') },
            { value: 'rejected', label: t('Rejected') },
            { value: 'tests', label: t('Tests') },
            { value: 'handshakes', label: t('Handshakes') },
          ]}
        />
        <Select
          allowClear
          placeholder={t('Error code')}
          style={{ width: 220 }}
          value={errorCode}
          onChange={(v) => {
            setErrorCode(v);
            setPage(1);
          }}
          options={ERROR_CODES.map((c) => ({ value: c, label: c }))}
          data-testid="filter-error-code"
        />
        <Select
          allowClear
          placeholder={t('Method')}
          style={{ width: 110 }}
          value={method}
          onChange={(v) => {
            setMethod(v);
            setPage(1);
          }}
          options={METHODS.map((m) => ({ value: m, label: m }))}
        />
        <DatePicker.RangePicker
          showTime
          value={range as any}
          onChange={(v) => {
            setRange(v as any);
            setPage(1);
          }}
          placeholder={[t('From'), t('To')]}
        />
        <Input.Search
          allowClear
          placeholder={t('Text in the body')}
          style={{ width: 200 }}
          onSearch={(v) => {
            setText(v);
            setPage(1);
          }}
          data-testid="filter-body-text"
        />
        <Button icon={<ReloadOutlined />} onClick={() => setTick((x) => x + 1)} data-testid="refresh-deliveries">
          {t('Refresh')}
        </Button>
        <Space size={4}>
          <Switch size="small" checked={auto} onChange={setAuto} data-testid="auto-refresh" />
          <Typography.Text>{t('Auto-refresh')}</Typography.Text>
        </Space>
      </Space>
      {error ? <Alert type="error" showIcon message={error} /> : null}
      <Table<Delivery>
        rowKey="id"
        size="small"
        loading={loading}
        dataSource={data}
        data-testid="deliveries-table"
        onRow={(row) => ({ onClick: () => openDetail(row.id), style: { cursor: 'pointer' } })}
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
            render: (v, row) => (
              <Space size={2}>
                <Tag color={statusColor(v)}>{v ?? '-'}</Tag>
                {row.test ? <Tag color="purple">{t('Test')}</Tag> : null}
                {row.handshake ? (
                  <Tag color="purple" data-testid="delivery-handshake">
                    {t('Handshake')}
                  </Tag>
                ) : null}
                {row.repeated ? <Tag color="blue">{t('Repeat')}</Tag> : null}
                {row.replayOf ? <Tag>{t('Replay')}</Tag> : null}
              </Space>
            ),
          },
          { title: t('Error code'), dataIndex: 'errorCode', render: (v) => v ?? '' },
          { title: t('Duration'), dataIndex: 'durationMs', render: (v) => (v != null ? `${v} ms` : '') },
          { title: t('Version'), dataIndex: 'workflowId', render: (v) => (v ? `#${v}` : '') },
          {
            title: t('Execution'),
            dataIndex: 'executionId',
            render: (v) => (v ? `#${String(v)}` : ''),
          },
        ]}
      />
      {open && (
        <DeliveryDetail
          delivery={open}
          version={props.version}
          onClose={() => setOpen(null)}
          onOpenDelivery={openDetail}
          onReplayed={(id) => {
            setTick((x) => x + 1);
            if (id) openDetail(id);
          }}
        />
      )}
    </Space>
  );
}

/** The deliveries drawer: from the workflow list, the canvas header, an execution, and the trigger form. */
export function DeliveriesDrawer(props: {
  workflowKey: string;
  version?: VersionRef;
  executionId?: string | number;
  onClose: () => void;
  refreshKey?: number;
}) {
  const t = useT();
  return (
    <Drawer
      open
      width={1080}
      title={props.executionId ? t('Delivery of execution #{{id}}', { id: props.executionId }) : t('Deliveries')}
      onClose={props.onClose}
      data-testid="deliveries-drawer"
    >
      <DeliveriesList
        workflowKey={props.workflowKey}
        version={props.version}
        executionId={props.executionId}
        refreshKey={props.refreshKey}
        openFirst={!!props.executionId}
      />
    </Drawer>
  );
}

/** In the trigger form: the deliveries of this webhook, a signed test request and sample capture. */
export function WebhookDeliveries() {
  const t = useT();
  const ctx = useFlowContext() as any;
  const form = useForm();
  const workflow = ctx?.workflow;
  const [show, setShow] = useState(false);
  const [testing, setTesting] = useState(false);
  const [refreshKey, setRefreshKey] = useState(0);
  if (!workflow?.key) return null;
  const values = (form?.values ?? {}) as { methods?: string[] };
  const methods = Array.isArray(values.methods) && values.methods.length ? values.methods : ['POST'];
  const version: VersionRef = { id: workflow.id, key: workflow.key, enabled: workflow.enabled };
  // Usable on executed (read-only) versions too: these buttons change nothing in the form.
  return (
    <ConfigProvider componentDisabled={false}>
      <Space wrap>
        <Button icon={<UnorderedListOutlined />} onClick={() => setShow(true)} data-testid="open-deliveries">
          {t('Deliveries')}
        </Button>
        <Button icon={<ExperimentOutlined />} onClick={() => setTesting(true)} data-testid="open-test-request">
          {t('Send a test request')}
        </Button>
        <ListenForSample version={version} onCaptured={() => setRefreshKey((x) => x + 1)} />
        {show && (
          <DeliveriesDrawer
            workflowKey={workflow.key}
            version={version}
            refreshKey={refreshKey}
            onClose={() => setShow(false)}
          />
        )}
        {testing && (
          <TestRequest
            version={version}
            methods={methods}
            bodySchema={form?.values?.bodySchema ?? workflow.config?.bodySchema}
            sample={workflow.config?.sample}
            verificationType={workflow.config?.verification?.type}
            onClose={() => setTesting(false)}
            onSent={() => setRefreshKey((x) => x + 1)}
          />
        )}
      </Space>
    </ConfigProvider>
  );
}
