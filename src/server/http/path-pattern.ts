import { match } from 'path-to-regexp';

export interface PathMatcher {
  pattern: string;
  /** Returns the named parts of a sub-path, or null when it does not match. */
  match(subPath: string): Record<string, string> | null;
}

/** Compiles a sub-path pattern such as `/orders/:id`; named parts become `$context.params`. */
export function compilePathPattern(pattern: string): PathMatcher {
  const normalized = pattern.startsWith('/') ? pattern : `/${pattern}`;
  const fn = match<Record<string, string>>(normalized, { decode: safeDecode, sensitive: true, strict: false });
  return {
    pattern: normalized,
    match(subPath) {
      const result = fn(subPath || '/');
      if (!result) return null;
      const params: Record<string, string> = {};
      for (const [k, v] of Object.entries(result.params)) {
        params[k] = Array.isArray(v) ? v.join('/') : String(v);
      }
      return params;
    },
  };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
