import { DeleteOutlined, PlusOutlined } from '@ant-design/icons';
import { WorkflowVariableTextArea } from '@nocobase/plugin-workflow/client';
import { Button, Input, Space } from 'antd';
import { useEffect, useRef, useState } from 'react';
import { useT } from '../locale';
import { HEADER_NAME_PATTERN, sameJson } from '../utils';

type Row = { name: string; value: unknown };

const toRows = (value: unknown): Row[] =>
  value && typeof value === 'object' && !Array.isArray(value)
    ? Object.entries(value as Record<string, unknown>).map(([name, v]) => ({ name, value: v }))
    : Array.isArray(value)
      ? value.map((r: any) => ({ name: String(r?.name ?? ''), value: r?.value }))
      : [];

const toObject = (rows: Row[]) => {
  const out: Record<string, unknown> = {};
  for (const r of rows) if (r.name.trim()) out[r.name.trim()] = r.value ?? '';
  return out;
};

/**
 * Header name/value pairs, stored as `{ name: value }`. With `variables`, values can use workflow
 * variables (the Webhook response node); without, they are plain text (the async answer).
 */
export function KeyValueEditor(props: {
  value?: Record<string, unknown>;
  onChange?: (v: Record<string, unknown> | undefined) => void;
  disabled?: boolean;
  variables?: boolean;
  addText?: string;
}) {
  const { value, onChange, disabled, variables } = props;
  const t = useT();
  const [rows, setRows] = useState<Row[]>(() => toRows(value));
  const emitted = useRef<unknown>(value);
  useEffect(() => {
    // Formily hands back copies of what we emitted: compare contents, not identity.
    if (!sameJson(value, emitted.current)) {
      emitted.current = value;
      setRows(toRows(value));
    }
  }, [value]);
  const update = (next: Row[]) => {
    setRows(next);
    const obj = toObject(next);
    const out = Object.keys(obj).length ? obj : undefined;
    emitted.current = out;
    onChange?.(out);
  };
  return (
    <Space direction="vertical" style={{ width: '100%' }} size={4}>
      {rows.map((row, i) => {
        const badName = row.name !== '' && !HEADER_NAME_PATTERN.test(row.name);
        return (
          <Space.Compact key={i} style={{ width: '100%', alignItems: 'flex-start' }}>
            <Input
              value={row.name}
              disabled={disabled}
              status={badName ? 'error' : undefined}
              placeholder={t('Header name')}
              style={{ width: '35%', flexShrink: 0 }}
              onChange={(e) => update(rows.map((r, j) => (j === i ? { ...r, name: e.target.value } : r)))}
            />
            <div style={{ flex: 1, minWidth: 0 }}>
              {variables ? (
                <WorkflowVariableTextArea
                  value={row.value}
                  disabled={disabled}
                  placeholder={t('Value')}
                  onChange={(v: unknown) => update(rows.map((r, j) => (j === i ? { ...r, value: v } : r)))}
                />
              ) : (
                <Input
                  value={String(row.value ?? '')}
                  disabled={disabled}
                  placeholder={t('Value')}
                  onChange={(e) => update(rows.map((r, j) => (j === i ? { ...r, value: e.target.value } : r)))}
                />
              )}
            </div>
            <Button
              icon={<DeleteOutlined />}
              disabled={disabled}
              aria-label={t('Remove')}
              onClick={() => update(rows.filter((_, j) => j !== i))}
            />
          </Space.Compact>
        );
      })}
      <Button
        type="dashed"
        size="small"
        icon={<PlusOutlined />}
        disabled={disabled}
        onClick={() => setRows([...rows, { name: '', value: '' }])}
      >
        {props.addText ?? t('Add header')}
      </Button>
    </Space>
  );
}
