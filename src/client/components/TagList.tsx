import { Select, Tag } from 'antd';

/**
 * A list of short entries (IP addresses, CIDR ranges, origins) typed as tags; entries that `isValid`
 * refuses are shown in red, and the schema's validator names them.
 */
export function TagList(props: {
  value?: string[];
  onChange?: (v: string[] | undefined) => void;
  disabled?: boolean;
  placeholder?: string;
  isValid?: (entry: string) => boolean;
  testid?: string;
}) {
  const { value, onChange, disabled, placeholder, isValid = () => true, testid } = props;
  return (
    <Select
      mode="tags"
      open={false}
      suffixIcon={null}
      value={Array.isArray(value) ? value : []}
      disabled={disabled}
      placeholder={placeholder}
      tokenSeparators={[',', ' ', '\n', ';']}
      data-testid={testid}
      onChange={(next: string[]) => {
        const cleaned = [...new Set(next.map((s) => s.trim()).filter(Boolean))];
        onChange?.(cleaned.length ? cleaned : undefined);
      }}
      tagRender={({ label, value: entry, closable, onClose }) => (
        <Tag
          color={isValid(String(entry)) ? undefined : 'error'}
          closable={closable}
          onClose={onClose}
          style={{ marginInlineEnd: 4, fontFamily: 'monospace' }}
        >
          {label}
        </Tag>
      )}
      style={{ width: '100%' }}
    />
  );
}
