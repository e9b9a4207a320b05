import { UnorderedListOutlined } from '@ant-design/icons';
import { useAPIClient } from '@nocobase/client';
import { Button } from 'antd';
import { type ReactNode, useCallback, useEffect, useRef, useState } from 'react';
import { createPortal } from 'react-dom';
import { useLocation } from 'react-router-dom';
import { TRIGGER_TYPE } from '../../common/constants';
import { DeliveriesDrawer } from '../components/Deliveries';
import type { VersionRef } from '../components/delivery-view';
import { useT } from '../locale';

/** What the open drawer shows. */
interface Target {
  workflowKey: string;
  version?: VersionRef;
  executionId?: string | number;
}

const CANVAS = /\/workflow\/workflows\/(\d+)\/?$/;
const EXECUTION = /\/workflow\/executions\/(\d+)\/?$/;
const LIST = /\/settings\/workflow\/?$/;
const MARK = 'data-webhook-operator';

/** A container of our own inside a host element of the workflow pages (made once, kept while the host lives). */
function slot(host: Element, name: string, where: 'prepend' | 'append'): HTMLElement {
  const found = host.querySelector(`:scope > [${MARK}="${name}"]`);
  if (found) return found as HTMLElement;
  const el = document.createElement('span');
  el.setAttribute(MARK, name);
  el.style.display = 'inline-flex';
  el.style.alignItems = 'center';
  if (where === 'prepend') host.prepend(el);
  else host.append(el);
  return el;
}

/** Calls `scan` whenever the page's DOM changes (at most once a frame). */
function useDomChanges(scan: () => void, active: boolean) {
  useEffect(() => {
    if (!active) return;
    let frame = 0;
    const run = () => {
      if (frame) return;
      frame = requestAnimationFrame(() => {
        frame = 0;
        scan();
      });
    };
    run();
    const observer = new MutationObserver(run);
    observer.observe(document.body, { childList: true, subtree: true });
    return () => {
      observer.disconnect();
      if (frame) cancelAnimationFrame(frame);
    };
  }, [scan, active]);
}

/**
 * The delivery log, one click away on every webhook workflow page, for any version in any state
 * (an executed version's trigger drawer is read-only, buttons included): a "Deliveries" action on
 * each webhook row of the workflow list, a button in the canvas header, and one in an execution's
 * header that opens the delivery that started it. The workflow plugin has no slot for these, so
 * they are rendered into containers of our own placed in its pages.
 */
export function WebhookOperator(props: { children?: ReactNode }) {
  const location = useLocation();
  const api = useAPIClient();
  const t = useT();
  const [target, setTarget] = useState<Target | null>(null);
  const [hosts, setHosts] = useState<Array<{ el: HTMLElement; target: Target; label: string; id: string }>>([]);
  const webhooks = useRef<Map<string, { key: string; id: number; enabled: boolean; executed: number }>>(new Map());
  const execution = useRef<{ id: string; workflowKey: string; workflowId: number } | null>(null);
  const [loaded, setLoaded] = useState(0);

  const path = location.pathname;
  const canvasId = CANVAS.exec(path)?.[1];
  const executionId = EXECUTION.exec(path)?.[1];
  const onList = LIST.test(path);
  const active = !!(canvasId || executionId || onList);

  // What the page is about: the webhook workflows (list), one version (canvas), one execution.
  useEffect(() => {
    if (!active) return;
    let stop = false;
    (async () => {
      try {
        if (executionId) {
          const res = await api.resource('executions').get({ filterByTk: executionId, appends: ['workflow'] });
          const e = res?.data?.data;
          execution.current =
            e?.workflow?.type === TRIGGER_TYPE
              ? { id: String(e.id), workflowKey: e.key, workflowId: e.workflowId }
              : null;
        } else {
          const res = await api.resource('workflows').list({
            filter: canvasId ? { id: canvasId, type: TRIGGER_TYPE } : { type: TRIGGER_TYPE },
            fields: ['id', 'key', 'enabled'],
            appends: ['versionStats'],
            paginate: false,
          });
          const map = new Map<string, { key: string; id: number; enabled: boolean; executed: number }>();
          for (const w of res?.data?.data ?? []) {
            map.set(String(w.id), {
              key: w.key,
              id: w.id,
              enabled: w.enabled,
              executed: w.versionStats?.executed ?? 0,
            });
          }
          webhooks.current = map;
        }
      } catch {
        webhooks.current = new Map();
        execution.current = null;
      }
      if (!stop) setLoaded((x) => x + 1);
    })();
    return () => {
      stop = true;
    };
  }, [api, active, canvasId, executionId, onList]);

  const scan = useCallback(() => {
    const next: Array<{ el: HTMLElement; target: Target; label: string; id: string }> = [];
    const aside = document.querySelector('.workflow-toolbar > aside');
    if (canvasId && aside) {
      const w = webhooks.current.get(canvasId);
      if (w) {
        next.push({
          el: slot(aside, 'canvas', 'prepend'),
          id: `canvas-${canvasId}`,
          label: 'Deliveries',
          target: { workflowKey: w.key, version: { id: w.id, key: w.key, enabled: w.enabled, executed: w.executed } },
        });
      }
    }
    if (executionId && aside && execution.current?.id === executionId) {
      const e = execution.current;
      next.push({
        el: slot(aside, 'execution', 'prepend'),
        id: `execution-${executionId}`,
        label: 'Delivery',
        target: { workflowKey: e.workflowKey, executionId: e.id },
      });
    }
    if (onList && webhooks.current.size) {
      for (const row of document.querySelectorAll('tr[data-row-key]')) {
        const w = webhooks.current.get(row.getAttribute('data-row-key') ?? '');
        const cell = row.querySelector(':scope > td:last-child');
        // Rows of the workflow table only: their actions cell links to the workflow's canvas.
        if (!w || !cell?.querySelector(`a[href*="/workflow/workflows/${w.id}"]`)) continue;
        next.push({
          el: slot(cell, 'row', 'append'),
          id: `row-${w.id}`,
          label: 'Deliveries',
          target: { workflowKey: w.key, version: { id: w.id, key: w.key, enabled: w.enabled, executed: w.executed } },
        });
      }
    }
    setHosts((previous) =>
      previous.length === next.length && previous.every((h, i) => h.el === next[i].el && h.id === next[i].id)
        ? previous
        : next,
    );
    // `loaded` re-runs the scan once the page's webhooks are known.
  }, [canvasId, executionId, onList, loaded]);

  useDomChanges(scan, active);
  useEffect(() => {
    if (!active) setHosts([]);
  }, [active]);

  return (
    <>
      {props.children}
      {hosts.map((h) =>
        createPortal(
          h.id.startsWith('row-') ? (
            <span style={{ marginInlineStart: 8 }}>
              <span style={{ color: 'rgba(0,0,0,0.15)', marginInlineEnd: 8 }}>|</span>
              <Button
                type="link"
                size="small"
                style={{ padding: 0, height: 'auto' }}
                onClick={() => setTarget(h.target)}
                data-testid={`deliveries-${h.id}`}
              >
                {t('Deliveries')}
              </Button>
            </span>
          ) : (
            <Button
              type="text"
              icon={<UnorderedListOutlined />}
              onClick={() => setTarget(h.target)}
              data-testid={`deliveries-${h.id.split('-')[0]}`}
            >
              {h.label === 'Delivery' ? t('Delivery') : t('Deliveries')}
            </Button>
          ),
          h.el,
          h.id,
        ),
      )}
      {target && (
        <DeliveriesDrawer
          workflowKey={target.workflowKey}
          version={target.version}
          executionId={target.executionId}
          onClose={() => setTarget(null)}
        />
      )}
    </>
  );
}
