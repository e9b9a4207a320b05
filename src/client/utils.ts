// Names, defaults and the configuration checks are shared with the server (src/common).
export {
  fieldChecks,
  headerNameProblem,
  invalidIpEntries,
  isIpEntry,
  isOrigin,
  originProblem,
  type Problem,
  renderProblem,
} from '../common/checks';
export {
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_TOLERANCE_SECONDS,
  HEADER_NAME_PATTERN,
  KEY_PATTERN,
  METHODS,
  RESPONSE_INSTRUCTION,
  SECRET_MASK,
  TRIGGER_TYPE,
} from '../common/constants';

/** A random URL key, 16 characters of base64url (96 bits), like the server's. */
export function generateKey(): string {
  const bytes = new Uint8Array(12);
  globalThis.crypto.getRandomValues(bytes);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** `{origin}{apiBase}webhooks/{key}{path}`: the public URL of a webhook in this app. */
export function webhookUrl(apiBaseURL: string | undefined, origin: string, key: string, path?: string): string {
  const base = new URL(apiBaseURL || '/api/', origin).href.replace(/\/?$/, '/');
  const sub = typeof path === 'string' && path.trim() ? `/${path.trim().replace(/^\/+/, '')}` : '';
  return `${base}webhooks/${encodeURIComponent(key || '')}${sub}`;
}

/** Parses JSON text. Returns the value, or an error message with line and column. */
export function parseJson(text: string): { value?: unknown; error?: string; line?: number; column?: number } {
  try {
    return { value: JSON.parse(text) };
  } catch (e) {
    const message = (e as Error).message;
    const m = /position (\d+)/.exec(message);
    if (m) {
      const pos = Number(m[1]);
      const before = text.slice(0, pos).split('\n');
      return { error: message, line: before.length, column: before[before.length - 1].length + 1 };
    }
    return { error: message };
  }
}

const SCHEMA_TYPES = ['object', 'array', 'string', 'number', 'integer', 'boolean', 'null'];

/** Light structural checks of a JSON Schema (the server compiles it for real on save). */
export function schemaProblems(schema: unknown): string[] {
  const problems: string[] = [];
  const walk = (node: unknown, at: string) => {
    if (typeof node === 'boolean') return;
    if (!node || typeof node !== 'object' || Array.isArray(node)) {
      problems.push(`${at || '/'}: a schema must be an object`);
      return;
    }
    const s = node as Record<string, unknown>;
    const types = Array.isArray(s.type) ? s.type : s.type === undefined ? [] : [s.type];
    for (const t of types) if (!SCHEMA_TYPES.includes(t as string)) problems.push(`${at || '/'}: unknown type "${t}"`);
    if (s.required !== undefined && (!Array.isArray(s.required) || s.required.some((r) => typeof r !== 'string'))) {
      problems.push(`${at || '/'}: "required" must be a list of property names`);
    }
    if (s.properties !== undefined) {
      if (!s.properties || typeof s.properties !== 'object' || Array.isArray(s.properties)) {
        problems.push(`${at || '/'}: "properties" must be an object`);
      } else {
        for (const [k, v] of Object.entries(s.properties)) walk(v, `${at}/properties/${k}`);
      }
    }
    if (s.items !== undefined && !Array.isArray(s.items)) walk(s.items, `${at}/items`);
  };
  walk(schema, '');
  return problems;
}

export interface SchemaVariable {
  key: string;
  value: string;
  label: string;
  children?: SchemaVariable[] | null;
}

/** The properties of a JSON Schema as variable options (nested objects become children). */
export function schemaToVariables(schema: unknown, depth = 0): SchemaVariable[] | null {
  if (!schema || typeof schema !== 'object' || depth > 4) return null;
  const props = (schema as { properties?: Record<string, unknown> }).properties;
  if (!props || typeof props !== 'object') return null;
  const result = Object.entries(props).map(([name, sub]) => {
    const title = sub && typeof sub === 'object' ? (sub as { title?: unknown }).title : undefined;
    return {
      key: name,
      value: name,
      label: typeof title === 'string' && title ? `${title} (${name})` : name,
      children: schemaToVariables(sub, depth + 1),
    };
  });
  return result.length ? result : null;
}

/** A secret value as entries for the form: one or several (rotation). */
export function secretEntries(value: unknown): string[] {
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'string' ? v : ''));
  return typeof value === 'string' ? [value] : [''];
}

/** Back to what the server stores: a string, or a list while rotating. Empty entries are dropped. */
export function secretValue(entries: string[]): string | string[] {
  const kept = entries.filter((e) => e !== '');
  if (kept.length <= 1) return kept[0] ?? '';
  return kept;
}

export function formatBytes(n: unknown): string {
  const v = Number(n);
  if (!Number.isFinite(v)) return '';
  if (v < 1024) return `${v} B`;
  if (v < 1024 * 1024) return `${(v / 1024).toFixed(1)} KiB`;
  return `${(v / 1024 / 1024).toFixed(1)} MiB`;
}

/** Deep equality of JSON-like values (Formily hands back copies of emitted objects). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  try {
    return JSON.stringify(a) === JSON.stringify(b);
  } catch {
    return false;
  }
}
