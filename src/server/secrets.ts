import { SECRET_FIELDS } from './verify';

/** What a secret looks like in every API answer. */
export const MASK = '********';

const isObject = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);
const masked = (value: unknown) => (Array.isArray(value) ? value.map(() => MASK) : MASK);
const isMask = (value: unknown) => value === MASK || (Array.isArray(value) && value.some((v) => v === MASK));

/** A webhook config with its verification secrets masked (a copy; the input is not changed). */
export function maskConfig(config: Record<string, any>): Record<string, any> {
  const verification = config.verification;
  if (!isObject(verification)) return config;
  const copy = { ...verification };
  for (const field of SECRET_FIELDS)
    if (copy[field] !== undefined && copy[field] !== '') copy[field] = masked(copy[field]);
  return { ...config, verification: copy };
}

/**
 * Puts stored secrets back where a saved config still carries the mask (the UI sends the mask
 * back when the administrator did not type a new secret). Returns the field names that carry a
 * mask with nothing stored to put back.
 */
export function restoreSecrets(next: Record<string, any>, previous: Record<string, any> | undefined): string[] {
  const verification = next.verification;
  if (!isObject(verification)) return [];
  const before = isObject(previous?.verification) ? previous.verification : {};
  const missing: string[] = [];
  for (const field of SECRET_FIELDS) {
    const value = verification[field];
    if (!isMask(value)) continue;
    const stored = before[field];
    if (value === MASK) {
      if (typeof stored === 'string' && stored) verification[field] = stored;
      else if (Array.isArray(stored) && stored.length === 1) verification[field] = stored[0];
      else missing.push(field);
    } else {
      const storedList = Array.isArray(stored) ? stored : typeof stored === 'string' ? [stored] : [];
      const restored = (value as unknown[]).map((v, i) => (v === MASK ? storedList[i] : v));
      if (restored.some((v) => typeof v !== 'string' || !v)) missing.push(field);
      else verification[field] = restored;
    }
  }
  return missing;
}

/** A verification config where masks stand in for valid secrets, for validation before restore. */
export function withoutMasks(verification: unknown): unknown {
  if (!isObject(verification)) return verification;
  const copy = { ...verification };
  const stand = verification.type === 'standard' ? 'whsec_AAAA' : 'masked';
  for (const field of SECRET_FIELDS) {
    const value = copy[field];
    if (value === MASK) copy[field] = stand;
    else if (Array.isArray(value)) copy[field] = value.map((v) => (v === MASK ? stand : v));
  }
  return copy;
}

function maskDeep(value: unknown, depth: number): { value: unknown; changed: boolean } {
  if (depth > 6 || value === null || typeof value !== 'object') return { value, changed: false };
  const plain =
    typeof (value as any).toJSON === 'function' && !(value instanceof Date) ? (value as any).toJSON() : value;
  if (Array.isArray(plain)) {
    let changed = false;
    const out = plain.map((item) => {
      const r = maskDeep(item, depth + 1);
      changed ||= r.changed;
      return r.value;
    });
    return changed ? { value: out, changed } : { value, changed: false };
  }
  if (!isObject(plain)) return { value, changed: false };
  let changed = false;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(plain)) {
    const r = maskDeep(v, depth + 1);
    changed ||= r.changed;
    out[k] = r.value;
  }
  if (out.type === 'webhook' && isObject(out.config) && isObject(out.config.verification)) {
    out.config = maskConfig(out.config);
    changed = true;
  }
  return changed ? { value: out, changed } : { value, changed: false };
}

/** Masks the secrets of every webhook workflow found in an API answer body. */
export function maskSecretsInBody(body: unknown): unknown {
  return maskDeep(body, 0).value;
}
