import ipaddr from 'ipaddr.js';
import { HEADER_NAME_PATTERN, KEY_PATTERN, METHODS, type Method, ON_TIMEOUT } from './constants';
import { filterShapeProblem } from './filter';
import type { Problem, ProblemValue } from './problem';

export { formatProblem, type Problem, type ProblemValue, renderProblem } from './problem';

/**
 * The checks of a webhook's configuration that the admin form and the server share: the form
 * shows a problem next to its field, the server's `validateConfig` answers it with 400 on
 * `workflows:create`/`update`. A problem is an English text with `{{placeholders}}` (a key of
 * src/locale, translated by the form) and their values. Nothing here may need Node.
 */
/** A problem message (the locale test collects the texts of `msg(...)` calls). */
const msg = (text: string, values?: Record<string, ProblemValue>): Problem => ({ text, values });

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isUnset = (v: unknown) => v === undefined || v === null;
const shown = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : String(JSON.stringify(v) ?? v));

/** The longest delay a timer takes (about 24.8 days). */
const MAX_TIMER_MS = 2_147_483_647;

export const isPositiveInteger = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) > 0;

/** True for an IPv4/IPv6 address (brackets allowed) or CIDR range, as the allow-list reads them. */
export function isIpEntry(entry: unknown): boolean {
  if (typeof entry !== 'string') return false;
  const text = entry.trim();
  if (text.includes('/')) {
    try {
      ipaddr.parseCIDR(text);
      return true;
    } catch {
      return false;
    }
  }
  return ipaddr.isValid(text.replace(/^\[|\]$/g, ''));
}

/** The entries of an IP/CIDR list that cannot be read. */
export function invalidIpEntries(list: unknown): string[] {
  return Array.isArray(list) ? list.filter((x) => !isIpEntry(x)).map(String) : [];
}

/**
 * What is wrong with a CORS origin entry, or null. An origin is what a browser sends in its
 * `Origin` header, exactly: `http(s)://host[:port]`, lower-case, without the default port, path
 * or trailing "/"; or `*` for any.
 */
export function originProblem(entry: unknown): Problem | null {
  if (entry === '*') return null;
  if (typeof entry === 'string') {
    let url: URL | null = null;
    try {
      url = new URL(entry);
    } catch {
      url = null;
    }
    if (url && (url.protocol === 'http:' || url.protocol === 'https:') && url.host) {
      if (url.origin === entry) return null;
      return msg('"{{entry}}" is not an origin as browsers send it: use "{{origin}}"', { entry, origin: url.origin });
    }
  }
  return msg('"{{entry}}" is not an origin such as https://example.com (or * for any)', { entry: String(entry) });
}

export const isOrigin = (entry: unknown): boolean => originProblem(entry) === null;

/** What is wrong with a header name (empty is fine: the field is optional), or null. */
export function headerNameProblem(value: unknown): Problem | null {
  if (isUnset(value) || value === '') return null;
  return typeof value === 'string' && HEADER_NAME_PATTERN.test(value) ? null : msg('Not a header name');
}

/** One check per field of `workflow.config`; each returns null when the value is fine (or unset). */
export const fieldChecks = {
  key(value: unknown): Problem | null {
    if (value === undefined) return null;
    return typeof value === 'string' && KEY_PATTERN.test(value) ? null : msg('1 to 128 letters, digits, "_" or "-"');
  },
  methods(value: unknown): Problem | null {
    if (value === undefined) return null;
    const ok =
      Array.isArray(value) &&
      value.length > 0 &&
      value.every((m) => typeof m === 'string' && METHODS.includes(m.toUpperCase() as Method));
    return ok ? null : msg('Choose one or more of {{methods}}', { methods: METHODS.join(', ') });
  },
  maxBodyBytes: positiveInteger,
  timeoutMs(value: unknown): Problem | null {
    // A Node timer longer than this fires after 1 ms instead.
    if (isPositiveInteger(value) && value > MAX_TIMER_MS) {
      return msg('Must be at most {{max}} ms (about 24 days), got {{value}}', { max: MAX_TIMER_MS, value });
    }
    return positiveInteger(value);
  },
  ipAllowlist: ipList,
  trustedProxies: ipList,
  idempotencyHeader: headerNameProblem,
  rateLimit(value: unknown): Problem | null {
    if (isUnset(value)) return null;
    return isObject(value) && isPositiveInteger(value.requests) && isPositiveInteger(value.perSeconds)
      ? null
      : msg('Enter the number of requests and of seconds, each a whole number greater than 0');
  },
  cors(value: unknown): Problem | null {
    if (isUnset(value)) return null;
    if (!isObject(value) || !Array.isArray(value.origins)) {
      return msg('A list of origins such as https://example.com (or * for any)');
    }
    for (const entry of value.origins) {
      const problem = originProblem(entry);
      if (problem) return problem;
    }
    return null;
  },
  onTimeout(value: unknown): Problem | null {
    if (isUnset(value)) return null;
    return (ON_TIMEOUT as readonly unknown[]).includes(value)
      ? null
      : msg('One of {{values}}, got {{value}}', { values: ON_TIMEOUT.join(', '), value: shown(value) });
  },
  filter(value: unknown): Problem | null {
    if (isUnset(value)) return null;
    const problem = filterShapeProblem(value);
    return problem ? msg('Not a filter: {{problem}}', { problem }) : null;
  },
  response(value: unknown): Problem | null {
    if (isUnset(value)) return null;
    if (!isObject(value)) return msg('An object with status, headers and body');
    const { status, headers } = value;
    if (status !== undefined && !(Number.isInteger(status) && (status as number) >= 200 && (status as number) <= 599)) {
      return msg('The status must be a whole number from 200 to 599, got {{value}}', { value: shown(status) });
    }
    if (headers !== undefined && !isObject(headers)) return msg('Headers must be names and values');
    if (isObject(headers)) {
      for (const name of Object.keys(headers)) {
        if (!HEADER_NAME_PATTERN.test(name)) return msg('"{{entry}}" is not a header name', { entry: name });
      }
    }
    return null;
  },
} satisfies Record<string, (value: unknown) => Problem | null>;

export type CheckedField = keyof typeof fieldChecks;

function positiveInteger(value: unknown): Problem | null {
  if (isUnset(value) || isPositiveInteger(value)) return null;
  return msg('Must be a whole number greater than 0, got {{value}}', { value: shown(value) });
}

function ipList(value: unknown): Problem | null {
  if (isUnset(value)) return null;
  if (!Array.isArray(value)) return msg('A list of IP addresses or CIDR ranges');
  const bad = invalidIpEntries(value);
  return bad.length ? msg('Not an IP address or CIDR range: {{entries}}', { entries: bad.join(', ') }) : null;
}

/** Runs every field check on `config`: field name to problem, empty when all pass. */
export function checkFields(config: Record<string, unknown>): Partial<Record<CheckedField, Problem>> {
  const problems: Partial<Record<CheckedField, Problem>> = {};
  for (const [field, check] of Object.entries(fieldChecks) as [CheckedField, (v: unknown) => Problem | null][]) {
    const problem = check(config[field]);
    if (problem) problems[field] = problem;
  }
  return problems;
}
