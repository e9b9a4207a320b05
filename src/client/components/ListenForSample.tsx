import { AimOutlined } from '@ant-design/icons';
import { useAPIClient } from '@nocobase/client';
import { useFlowContext } from '@nocobase/plugin-workflow/client';
import { Button, Modal, message, Progress, Space, Typography } from 'antd';
import { useEffect, useRef, useState } from 'react';
import { DELIVERIES } from '../../common/constants';
import { useT } from '../locale';
import { webhookUrl } from '../utils';
import type { VersionRef } from './delivery-view';

const LISTEN_SECONDS = 180;
const POLL_MS = 1500;

/**
 * "Listen for a request": waits (a visible timer, cancel) for the next request that reaches this
 * webhook (a real one to its URL, or a test request to this version), and keeps it as the
 * version's sample; the variable picker then offers its fields.
 */
export function ListenForSample(props: { version: VersionRef; onCaptured?: () => void }) {
  const t = useT();
  const api = useAPIClient();
  const flow = useFlowContext() as any;
  const [since, setSince] = useState<Date | null>(null);
  const [elapsed, setElapsed] = useState(0);
  const busy = useRef(false);
  const url = webhookUrl(api?.axios?.defaults?.baseURL, window.location.origin, flow?.workflow?.config?.key ?? '');

  useEffect(() => {
    if (!since) return;
    const timer = setInterval(async () => {
      const seconds = Math.floor((Date.now() - since.getTime()) / 1000);
      setElapsed(seconds);
      if (seconds >= LISTEN_SECONDS) {
        setSince(null);
        message.warning(t('No request arrived; listening stopped.'));
        return;
      }
      if (busy.current) return;
      busy.current = true;
      try {
        const res = await api.resource(DELIVERIES).list({
          filter: {
            $and: [
              { workflowKey: props.version.key },
              { createdAt: { $gt: since.toISOString() } },
              { status: { $lt: 400 } },
              { replayOf: { $empty: true } },
            ],
          },
          sort: ['createdAt'],
          fields: ['id'],
          pageSize: 1,
        });
        const found = res?.data?.data?.[0];
        if (found) {
          await api.resource(DELIVERIES).sample({ filterByTk: found.id, workflowId: props.version.id });
          setSince(null);
          message.success(
            t('Kept as the sample of version #{{id}}: its fields are offered as variables.', { id: props.version.id }),
          );
          flow?.refresh?.();
          props.onCaptured?.();
        }
      } catch (e: any) {
        setSince(null);
        message.error(e?.response?.data?.errors?.[0]?.message ?? e?.message ?? String(e));
      } finally {
        busy.current = false;
      }
    }, POLL_MS);
    return () => clearInterval(timer);
  }, [since, api, props.version, flow, t, props.onCaptured]);

  return (
    <>
      <Button
        icon={<AimOutlined />}
        onClick={() => {
          setElapsed(0);
          setSince(new Date(Date.now() - 1000));
        }}
        data-testid="listen-for-sample"
      >
        {t('Listen for a request')}
      </Button>
      {since && (
        <Modal
          open
          title={t('Listening for a request')}
          onCancel={() => setSince(null)}
          footer={
            <Button onClick={() => setSince(null)} data-testid="cancel-listening">
              {t('Cancel')}
            </Button>
          }
          data-testid="listening"
        >
          <Space direction="vertical" style={{ width: '100%' }}>
            <Typography.Paragraph>
              {t(
                'Send a request to the webhook now (or a test request to this version). The first accepted one becomes the sample.',
              )}
            </Typography.Paragraph>
            {props.version.enabled ? null : (
              <Typography.Text type="warning">{t('Enable the workflow to receive requests.')}</Typography.Text>
            )}
            <Typography.Text code copyable>
              {url}
            </Typography.Text>
            <Progress percent={Math.round((elapsed / LISTEN_SECONDS) * 100)} showInfo={false} status="active" />
            <Typography.Text type="secondary" data-testid="listening-timer">
              {t('{{seconds}} s left', { seconds: LISTEN_SECONDS - elapsed })}
            </Typography.Text>
          </Space>
        </Modal>
      )}
    </>
  );
}
