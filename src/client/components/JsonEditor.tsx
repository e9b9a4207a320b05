import { useField } from '@formily/react';
import { Alert, Button, Input, Space, Typography } from 'antd';
import { useEffect, useRef, useState } from 'react';
import { useT } from '../locale';
import { parseJson, sameJson, schemaProblems } from '../utils';

const EXAMPLE = {
  type: 'object',
  required: ['action'],
  properties: {
    action: { type: 'string', title: 'Action' },
    repository: { type: 'object', properties: { full_name: { type: 'string' } } },
  },
};

const toText = (v: unknown) => (v === undefined || v === null || v === '' ? '' : JSON.stringify(v, null, 2));

/**
 * A small code editor for a JSON value (the body JSON Schema): monospace with line numbers, Tab
 * indents, live JSON (and JSON Schema shape) validation with the line and column of an error, and
 * Format. An invalid text marks the form field invalid, so the form cannot be saved with it.
 */
export function JsonEditor(props: {
  value?: unknown;
  onChange?: (v: unknown) => void;
  disabled?: boolean;
  schema?: boolean;
  rows?: number;
}) {
  const { value, onChange, disabled, schema = true, rows = 12 } = props;
  const t = useT();
  const field = useField() as any;
  const [text, setText] = useState(() => toText(value));
  const [error, setError] = useState<string | null>(null);
  const last = useRef<unknown>(value);
  const gutter = useRef<HTMLDivElement>(null);

  useEffect(() => {
    // A value set from outside (form reset, another version) replaces the text.
    if (!sameJson(value, last.current)) {
      last.current = value;
      setText(toText(value));
      setError(null);
    }
  }, [value]);

  const apply = (next: string) => {
    setText(next);
    let message: string | null = null;
    let parsed: unknown;
    if (next.trim() === '') {
      parsed = undefined;
    } else {
      const r = parseJson(next);
      if (r.error) {
        message = r.line
          ? t('Invalid JSON (line {{line}}, column {{column}}): {{error}}', {
              line: r.line,
              column: r.column,
              error: r.error,
              interpolation: { escapeValue: false },
            })
          : t('Invalid JSON: {{error}}', { error: r.error, interpolation: { escapeValue: false } });
      } else if (schema) {
        const problems = schemaProblems(r.value);
        if (problems.length) {
          message = t('Not a valid JSON Schema: {{problems}}', {
            problems: problems.join('; '),
            interpolation: { escapeValue: false },
          });
        }
      }
      parsed = r.value;
    }
    setError(message);
    field?.setSelfErrors?.(message ? [message] : []);
    if (!message) {
      last.current = parsed;
      onChange?.(parsed);
    }
  };

  const lines = Math.max(rows, text.split('\n').length);
  return (
    <Space direction="vertical" style={{ width: '100%' }} size={4}>
      <div
        style={{
          display: 'flex',
          border: `1px solid ${error ? '#ff4d4f' : '#d9d9d9'}`,
          borderRadius: 6,
          overflow: 'hidden',
          background: disabled ? '#f5f5f5' : '#fff',
        }}
      >
        <div
          ref={gutter}
          aria-hidden
          style={{
            padding: '4px 6px',
            background: '#fafafa',
            color: '#999',
            fontFamily: 'monospace',
            fontSize: 12,
            lineHeight: '20px',
            textAlign: 'right',
            userSelect: 'none',
            overflow: 'hidden',
            minWidth: 36,
          }}
        >
          {Array.from({ length: lines }, (_, i) => (
            <div key={i}>{i + 1}</div>
          ))}
        </div>
        <Input.TextArea
          value={text}
          disabled={disabled}
          spellCheck={false}
          data-testid="json-editor"
          rows={lines}
          variant="borderless"
          style={{ fontFamily: 'monospace', fontSize: 12, lineHeight: '20px', padding: '4px 8px', resize: 'none' }}
          placeholder={schema ? JSON.stringify(EXAMPLE) : '{}'}
          onChange={(e) => apply(e.target.value)}
          onKeyDown={(e) => {
            if (e.key !== 'Tab') return;
            e.preventDefault();
            const el = e.currentTarget;
            const { selectionStart: s, selectionEnd: end } = el;
            const next = `${text.slice(0, s)}  ${text.slice(end)}`;
            apply(next);
            requestAnimationFrame(() => el.setSelectionRange(s + 2, s + 2));
          }}
        />
      </div>
      {error ? (
        <Alert type="error" showIcon message={error} data-testid="json-editor-error" />
      ) : text.trim() ? (
        <Typography.Text type="success">{schema ? t('Valid JSON Schema') : t('Valid JSON')}</Typography.Text>
      ) : null}
      {!disabled && (
        <Space size={8}>
          <Button size="small" disabled={!text.trim() || !!error} onClick={() => apply(toText(JSON.parse(text)))}>
            {t('Format')}
          </Button>
          {schema && (
            <Button size="small" onClick={() => apply(toText(EXAMPLE))}>
              {t('Insert example')}
            </Button>
          )}
          {text.trim() !== '' && (
            <Button size="small" onClick={() => apply('')}>
              {t('Clear')}
            </Button>
          )}
        </Space>
      )}
    </Space>
  );
}
