import { SECRET_MASK } from '../../common/constants';
import { AES_KEY_FIELDS, SECRET_FIELDS, schemeOf } from '../../common/schemes';
import { SecretCipher } from './cipher';

/** What a secret looks like in every API answer (the admin form knows it too). */
export const MASK = SECRET_MASK;

const isObject = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);
const masked = (value: unknown) => (Array.isArray(value) ? value.map(() => MASK) : MASK);

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
 * Before a webhook config is stored: every secret is sealed (see SecretCipher). A mask (the UI
 * sends it back when the administrator typed no new secret) takes the stored secret's place; a
 * sealed value is kept when this app's key opens it; anything else is a new secret and is
 * sealed. Changes `next` in place; returns the fields that carry a mask (or a sealed value of
 * another key) with nothing stored to put back.
 */
export function sealSecrets(
  next: Record<string, any>,
  previous: Record<string, any> | undefined,
  cipher: SecretCipher,
): string[] {
  const verification = next.verification;
  if (!isObject(verification)) return [];
  const before = isObject(previous?.verification) ? previous.verification : {};
  const seal = (v: unknown): string | null => {
    if (typeof v !== 'string' || v === '') return null;
    if (SecretCipher.isSealed(v)) return cipher.open(v) === null ? null : v;
    return cipher.seal(v);
  };
  const missing: string[] = [];
  for (const field of SECRET_FIELDS) {
    const value = verification[field];
    if (value === undefined || value === null || value === '') continue;
    const stored = before[field];
    const storedList: unknown[] = Array.isArray(stored) ? stored : stored === undefined ? [] : [stored];
    let result: unknown;
    if (value === MASK) {
      result = storedList.length === 1 ? seal(storedList[0]) : null;
    } else if (Array.isArray(value)) {
      const list = value.map((v, i) => seal(v === MASK ? storedList[i] : v));
      result = list.every((v) => v !== null) ? list : null;
    } else {
      result = seal(value);
    }
    if (result === null) missing.push(field);
    else verification[field] = result;
  }
  return missing;
}

/**
 * The verification config with its sealed secrets opened, for the route (kept in memory only).
 * Throws when a secret was sealed under another key (APP_KEY changed): the webhook is then not
 * served until its secret is entered again.
 */
export function openSecrets<T extends Record<string, unknown>>(verification: T, cipher: SecretCipher): T {
  const copy: Record<string, unknown> = { ...verification };
  const open = (v: unknown) => {
    if (!SecretCipher.isSealed(v)) return v;
    const plain = cipher.open(v);
    if (plain === null) throw new Error('a verification secret was sealed under another key; enter it again');
    return plain;
  };
  for (const field of SECRET_FIELDS) {
    const value = copy[field];
    if (Array.isArray(value)) copy[field] = value.map(open);
    else if (value !== undefined) copy[field] = open(value);
  }
  return copy as T;
}

/** A verification config where masks and sealed values stand in for valid secrets, for validation. */
export function withoutMasks(verification: unknown): unknown {
  if (!isObject(verification)) return verification;
  const copy = { ...verification };
  for (const field of SECRET_FIELDS) {
    // A stand-in of the shape the field needs: a whsec_ secret, a 43-character AES key.
    const stand =
      schemeOf(verification.type)?.secretStandIn ?? (AES_KEY_FIELDS.includes(field) ? 'A'.repeat(43) : 'masked');
    const standIn = (v: unknown) => (v === MASK || SecretCipher.isSealed(v) ? stand : v);
    const value = copy[field];
    if (Array.isArray(value)) copy[field] = value.map(standIn);
    else copy[field] = standIn(value);
  }
  return copy;
}

/** True when a config still holds a secret in clear (stored before secrets were sealed). */
export function hasOpenSecrets(config: unknown): boolean {
  const verification = isObject(config) ? config.verification : undefined;
  if (!isObject(verification)) return false;
  return SECRET_FIELDS.some((field) => {
    const value = verification[field];
    const list = Array.isArray(value) ? value : [value];
    return list.some((v) => typeof v === 'string' && v !== '' && v !== MASK && !SecretCipher.isSealed(v));
  });
}

function maskDeep(value: unknown): { value: unknown; changed: boolean } {
  if (typeof value === 'string')
    return SecretCipher.isSealed(value) ? { value: MASK, changed: true } : { value, changed: false };
  if (value === null || typeof value !== 'object') return { value, changed: false };
  const plain =
    typeof (value as any).toJSON === 'function' && !(value instanceof Date) ? (value as any).toJSON() : value;
  if (Array.isArray(plain)) {
    let changed = false;
    const out = plain.map((item) => {
      const r = maskDeep(item);
      changed ||= r.changed;
      return r.value;
    });
    return changed ? { value: out, changed } : { value, changed: false };
  }
  if (!isObject(plain)) return { value, changed: false };
  let changed = false;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(plain)) {
    const r = maskDeep(v);
    changed ||= r.changed;
    out[k] = r.value;
  }
  // A secret stored before sealing existed, until the start-up migration seals it.
  if (out.type === 'webhook' && isObject(out.config) && hasOpenSecrets(out.config)) {
    out.config = maskConfig(out.config);
    changed = true;
  }
  return changed ? { value: out, changed } : { value, changed: false };
}

/**
 * Shows every sealed secret in an API answer as the mask, at any depth. This is for the UI's
 * sake (it shows "a secret is saved"); what keeps the secrets is that only sealed values are
 * stored, so an answer this misses still carries no secret.
 */
export function maskSecretsInBody(body: unknown): unknown {
  return maskDeep(body).value;
}
