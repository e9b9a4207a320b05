/** `config.sample`: one request kept for the variable picker (see webhookDeliveries:sample). */
export interface Sample {
  data?: unknown;
  headers?: Record<string, unknown>;
  query?: Record<string, unknown>;
  params?: Record<string, unknown>;
}

export interface SampleOption {
  key: string;
  label: string;
  children?: SampleOption[] | null;
}

const example = (value: unknown): string => {
  const text = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
};

/** The fields of a sample value as picker options, each leaf labelled with its example value. */
export function sampleOptions(value: unknown, depth = 0): SampleOption[] | null {
  if (value === null || typeof value !== 'object' || depth > 5) return null;
  const entries = Array.isArray(value) ? [] : Object.entries(value as Record<string, unknown>);
  if (!entries.length) return null;
  return entries.map(([key, item]) => {
    const children = sampleOptions(item, depth + 1);
    return { key, label: children ? key : `${key}  ${example(item)}`, children };
  });
}

/** Merges option lists by key (the first list's labels win). */
export function mergeOptions(
  a: SampleOption[] | null | undefined,
  b: SampleOption[] | null | undefined,
): SampleOption[] {
  const out = [...(a ?? [])];
  for (const option of b ?? []) if (!out.some((o) => o.key === option.key)) out.push(option);
  return out;
}
