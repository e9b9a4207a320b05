import { DeleteOutlined, PlusOutlined } from '@ant-design/icons';
import { Button, Input, Space, Typography } from 'antd';
import { useRef } from 'react';
import { useT } from '../locale';
import { SECRET_MASK, secretEntries, secretValue } from '../utils';

/**
 * A secret field: typed masked, never shown again. A stored secret comes back from the server as
 * the mask and is sent back as the mask (the server keeps the stored value) until a new one is
 * typed. Several secrets are accepted while one is being rotated.
 */
export function SecretInput(props: {
  value?: string | string[];
  onChange?: (v: string | string[]) => void;
  disabled?: boolean;
  placeholder?: string;
}) {
  const { value, onChange, disabled, placeholder } = props;
  const t = useT();
  const entries = secretEntries(value);
  const saved = useRef(entries.map((e) => e === SECRET_MASK));
  const set = (next: string[]) => onChange?.(secretValue(next));
  return (
    <Space direction="vertical" style={{ width: '100%' }} size={4}>
      {entries.map((entry, i) => {
        const masked = entry === SECRET_MASK;
        return (
          <Space.Compact key={i} style={{ width: '100%' }}>
            <Input.Password
              value={masked ? '' : entry}
              disabled={disabled}
              autoComplete="new-password"
              visibilityToggle={false}
              placeholder={masked ? `${SECRET_MASK} ${t('(saved, type to replace)')}` : placeholder}
              data-testid={`secret-input-${i}`}
              onChange={(e) => {
                const next = [...entries];
                const typed = e.target.value;
                next[i] = typed === '' && saved.current[i] ? SECRET_MASK : typed;
                set(next);
              }}
            />
            {entries.length > 1 && (
              <Button
                icon={<DeleteOutlined />}
                disabled={disabled}
                aria-label={t('Remove secret')}
                onClick={() => {
                  // The server keeps saved secrets by position: saved ones after the removed one
                  // would shift onto the wrong stored value, so they must be typed again.
                  const next = entries.filter((_, j) => j !== i).map((e, j) => (j >= i && e === SECRET_MASK ? '' : e));
                  saved.current = next.map((e) => e === SECRET_MASK);
                  onChange?.(next.length === 1 ? next[0] : next);
                }}
              />
            )}
          </Space.Compact>
        );
      })}
      <Space size={8} wrap>
        <Button
          size="small"
          type="dashed"
          icon={<PlusOutlined />}
          disabled={disabled}
          onClick={() => {
            saved.current.push(false);
            onChange?.([...entries.filter((e) => e !== ''), '']);
          }}
        >
          {t('Add a secret (rotation)')}
        </Button>
        {entries.length > 1 && (
          <Typography.Text type="secondary">{t('Any of these secrets is accepted.')}</Typography.Text>
        )}
      </Space>
    </Space>
  );
}
