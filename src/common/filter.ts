/**
 * The trigger's `filter`: a condition over `$context` in NocoBase's filter JSON, e.g.
 * `{"$and": [{"headers.x-github-event": {"$eq": "push"}}]}`. Paths are dotted (`data.action`,
 * `headers.x-github-event`) or nested objects; a bare value means `$eq`. Shared by the admin
 * form (to check what it saves) and the server (to decide). No regular expressions: a filter
 * written by an administrator runs on every request, and must not be a way to stall it.
 */
import type { Problem } from './problem';

export type Filter = Record<string, unknown>;

/** A problem message (the locale test collects the texts of `msg(...)` calls). */
const msg = (text: string, values?: Record<string, string>): Problem => ({ text, values });

type Operator = (actual: unknown, expected: unknown) => boolean;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function equals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  // Headers, query values and form fields are strings: "1" equals 1, "true" equals true.
  if (
    (typeof a === 'string' && (typeof b === 'number' || typeof b === 'boolean')) ||
    (typeof b === 'string' && (typeof a === 'number' || typeof a === 'boolean'))
  ) {
    return String(a) === String(b);
  }
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => equals(x, b[i]));
  return false;
}

const isEmpty = (v: unknown) =>
  v === undefined ||
  v === null ||
  v === '' ||
  (Array.isArray(v) && v.length === 0) ||
  (isObject(v) && Object.keys(v).length === 0);

function compare(a: unknown, b: unknown): number | null {
  const x = typeof a === 'string' && typeof b === 'number' ? Number(a) : a;
  const y = typeof b === 'string' && typeof a === 'number' ? Number(b) : b;
  if (typeof x === 'number' && typeof y === 'number' && !Number.isNaN(x) && !Number.isNaN(y)) return x - y;
  if (typeof x === 'string' && typeof y === 'string') return x < y ? -1 : x > y ? 1 : 0;
  return null;
}

const includes = (actual: unknown, expected: unknown) =>
  typeof actual === 'string'
    ? actual.includes(String(expected))
    : Array.isArray(actual) && actual.some((item) => equals(item, expected));

export const FILTER_OPERATORS: Record<string, Operator> = {
  $eq: equals,
  $ne: (a, b) => !equals(a, b),
  $in: (a, b) => Array.isArray(b) && b.some((x) => equals(a, x)),
  $notIn: (a, b) => Array.isArray(b) && !b.some((x) => equals(a, x)),
  $includes: includes,
  $notIncludes: (a, b) => !includes(a, b),
  $startsWith: (a, b) => typeof a === 'string' && a.startsWith(String(b)),
  $endsWith: (a, b) => typeof a === 'string' && a.endsWith(String(b)),
  $gt: (a, b) => (compare(a, b) ?? Number.NaN) > 0,
  $gte: (a, b) => (compare(a, b) ?? Number.NaN) >= 0,
  $lt: (a, b) => (compare(a, b) ?? Number.NaN) < 0,
  $lte: (a, b) => (compare(a, b) ?? Number.NaN) <= 0,
  $exists: (a, b) => (a !== undefined && a !== null) === (b !== false),
  $notExists: (a, b) => (a === undefined || a === null) === (b !== false),
  $empty: (a) => isEmpty(a),
  $notEmpty: (a) => !isEmpty(a),
  $isTruly: (a) => Boolean(a) && a !== 'false' && a !== '0',
  $isFalsy: (a) => !a || a === 'false' || a === '0',
};

function valueAt(source: unknown, path: string[]): unknown {
  let value = source;
  for (const part of path) {
    if (!isObject(value) && !Array.isArray(value)) return undefined;
    value = Object.hasOwn(value as object, part) ? (value as Record<string, unknown>)[part] : undefined;
  }
  return value;
}

const isOperatorMap = (v: unknown): v is Record<string, unknown> =>
  isObject(v) && Object.keys(v).length > 0 && Object.keys(v).every((k) => k.startsWith('$'));

function matchesAt(context: unknown, path: string[], condition: unknown): boolean {
  if (isOperatorMap(condition)) {
    const actual = valueAt(context, path);
    return Object.entries(condition).every(([op, expected]) => FILTER_OPERATORS[op]?.(actual, expected) ?? false);
  }
  if (isObject(condition)) {
    return Object.entries(condition).every(([key, inner]) => matchesAt(context, [...path, ...key.split('.')], inner));
  }
  return equals(valueAt(context, path), condition);
}

/** True when `context` passes `filter` (an empty filter passes everything). */
export function matchesFilter(filter: Filter | null | undefined, context: unknown): boolean {
  if (!filter) return true;
  return Object.entries(filter).every(([key, value]) => {
    if (key === '$and') return Array.isArray(value) && value.every((f) => matchesFilter(f as Filter, context));
    if (key === '$or')
      return Array.isArray(value) && (value.length === 0 || value.some((f) => matchesFilter(f as Filter, context)));
    return matchesAt(context, key.split('.'), value);
  });
}

/** The first operator in `filter` that is not known, or a description of a malformed part; null when fine. */
export function filterShapeProblem(filter: unknown, depth = 0): Problem | null {
  if (depth > 16) return msg('nested too deep');
  if (!isObject(filter)) return msg('not an object');
  for (const [key, value] of Object.entries(filter)) {
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(value)) return msg('{{key}} must be a list of conditions', { key });
      for (const item of value) {
        const problem = filterShapeProblem(item, depth + 1);
        if (problem) return problem;
      }
    } else if (key.startsWith('$')) {
      return msg('unknown operator {{key}}', { key });
    } else if (isOperatorMap(value)) {
      const unknown = Object.keys(value).find((op) => !Object.hasOwn(FILTER_OPERATORS, op));
      if (unknown) return msg('unknown operator {{key}}', { key: unknown });
    } else if (isObject(value)) {
      const problem = filterShapeProblem(value, depth + 1);
      if (problem) return problem;
    }
  }
  return null;
}

/** True when the filter has no condition at all (`{}`, `{"$and": []}`). */
export function isEmptyFilter(filter: unknown): boolean {
  if (!isObject(filter)) return true;
  return Object.entries(filter).every(
    ([k, v]) => (k === '$and' || k === '$or') && Array.isArray(v) && v.every(isEmptyFilter),
  );
}
