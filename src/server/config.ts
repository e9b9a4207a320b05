import { randomBytes } from 'node:crypto';
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_TIMEOUT_MS, KEY_PATTERN, METHODS, type Method } from './constants';
import { invalidIpEntries } from './http/client-ip';
import type { CorsConfig } from './http/cors';
import { compilePathPattern, type PathMatcher } from './http/path-pattern';
import type { RateLimit } from './http/rate-limit';
import { compileSchema } from './http/schema';
import { withoutMasks } from './secrets';
import { type VerificationConfig, validateVerification } from './verify';

export interface ResponseConfig {
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/** `workflow.config` of a webhook workflow, as stored (see SPEC.md). */
export interface RawWebhookConfig {
  key?: unknown;
  path?: unknown;
  methods?: unknown;
  verification?: unknown;
  ipAllowlist?: unknown;
  trustedProxies?: unknown;
  bodySchema?: unknown;
  idempotencyHeader?: unknown;
  maxBodyBytes?: unknown;
  rateLimit?: unknown;
  cors?: unknown;
  response?: unknown;
  timeoutMs?: unknown;
  [other: string]: unknown;
}

/** The same configuration with defaults applied and patterns compiled, ready for the hot path. */
export interface WebhookConfig {
  key: string;
  path: PathMatcher | null;
  methods: Method[];
  verification: VerificationConfig;
  ipAllowlist: string[];
  trustedProxies: string[];
  bodySchema: object | null;
  idempotencyHeader: string | null;
  maxBodyBytes: number;
  rateLimit: RateLimit | null;
  cors: CorsConfig | null;
  response: ResponseConfig | null;
  timeoutMs: number;
}

export function generateKey(): string {
  return randomBytes(12).toString('base64url');
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function isOrigin(value: unknown): boolean {
  if (value === '*') return true;
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value;
  } catch {
    return false;
  }
}

const isPositiveInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0;

/**
 * Checks a stored configuration. Returns a map of field to message, or null when valid.
 * Used by the engine's workflows:create/update actions, so messages reach the administrator.
 */
export function validateConfig(config: RawWebhookConfig): Record<string, string> | null {
  const errors: Record<string, string> = {};
  if (config.key !== undefined && (typeof config.key !== 'string' || !KEY_PATTERN.test(config.key))) {
    errors.key = 'Webhook key must be 1 to 128 characters of A-Z, a-z, 0-9, "_" or "-"';
  }
  if (config.path !== undefined && config.path !== null && config.path !== '') {
    if (typeof config.path !== 'string') {
      errors.path = 'Webhook path must be a string such as "/orders/:id"';
    } else {
      try {
        compilePathPattern(config.path);
      } catch (e) {
        errors.path = `Webhook path is not a valid pattern: ${(e as Error).message}`;
      }
    }
  }
  if (config.methods !== undefined) {
    const methods = config.methods;
    if (
      !Array.isArray(methods) ||
      methods.length === 0 ||
      methods.some((m) => typeof m !== 'string' || !METHODS.includes(m.toUpperCase() as Method))
    ) {
      errors.methods = `Webhook methods must be a non-empty list of ${METHODS.join(', ')}`;
    }
  }
  const verificationErrors = validateVerification(withoutMasks(config.verification));
  for (const [field, message] of Object.entries(verificationErrors ?? {})) {
    errors[`verification.${field}`] = `Verification: ${message}`;
  }
  for (const field of ['maxBodyBytes', 'timeoutMs'] as const) {
    if (config[field] !== undefined && config[field] !== null && !isPositiveInt(config[field])) {
      errors[field] = `${field} must be a positive integer`;
    }
  }
  for (const field of ['ipAllowlist', 'trustedProxies'] as const) {
    const list = config[field];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list) || list.some((x) => typeof x !== 'string')) {
      errors[field] = `${field} must be a list of IP addresses or CIDR ranges`;
    } else if (invalidIpEntries(list).length) {
      errors[field] =
        `${field} has entries that are not IP addresses or CIDR ranges: ${invalidIpEntries(list).join(', ')}`;
    }
  }
  if (config.bodySchema !== undefined && config.bodySchema !== null) {
    if (!isObject(config.bodySchema)) {
      errors.bodySchema = 'bodySchema must be a JSON Schema object';
    } else {
      try {
        compileSchema(config.bodySchema);
      } catch (e) {
        errors.bodySchema = `bodySchema is not a valid JSON Schema: ${(e as Error).message}`;
      }
    }
  }
  if (config.response !== undefined && config.response !== null) {
    const r = config.response;
    if (!isObject(r)) {
      errors.response = 'response must be an object with status, headers and body';
    } else if (
      r.status !== undefined &&
      !(Number.isInteger(r.status) && (r.status as number) >= 200 && (r.status as number) <= 599)
    ) {
      errors.response = 'response.status must be an HTTP status between 200 and 599';
    } else if (r.headers !== undefined && !isObject(r.headers)) {
      errors.response = 'response.headers must be an object of header names to values';
    }
  }
  if (config.rateLimit !== undefined && config.rateLimit !== null) {
    const r = config.rateLimit;
    if (!isObject(r) || !isPositiveInt(r.requests) || !isPositiveInt(r.perSeconds)) {
      errors.rateLimit = 'rateLimit must be { "requests": positive integer, "perSeconds": positive integer }';
    }
  }
  if (config.cors !== undefined && config.cors !== null) {
    const c = config.cors;
    if (!isObject(c) || !Array.isArray(c.origins) || c.origins.some((o) => !isOrigin(o))) {
      errors.cors = 'cors must be { "origins": [...] } with origins such as "https://example.com" or "*"';
    }
  }
  if (
    config.idempotencyHeader !== undefined &&
    config.idempotencyHeader !== null &&
    config.idempotencyHeader !== '' &&
    (typeof config.idempotencyHeader !== 'string' || !/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(config.idempotencyHeader))
  ) {
    errors.idempotencyHeader = 'idempotencyHeader must be a header name';
  }
  return Object.keys(errors).length ? errors : null;
}

/**
 * Applies defaults and compiles patterns. Assumes `validateConfig` passed (throws otherwise).
 * `openSecrets` turns the stored (sealed) verification into the one the route checks with.
 */
export function normalizeConfig(
  raw: RawWebhookConfig,
  openSecrets: (verification: VerificationConfig) => VerificationConfig = (v) => v,
): WebhookConfig {
  const errors = validateConfig(raw);
  if (errors) throw new Error(Object.values(errors).join('; '));
  if (typeof raw.key !== 'string') throw new Error('Webhook key is missing');
  const methods = Array.isArray(raw.methods)
    ? [...new Set((raw.methods as string[]).map((m) => m.toUpperCase() as Method))]
    : (['POST'] as Method[]);
  const verification = isObject(raw.verification)
    ? openSecrets(raw.verification as VerificationConfig)
    : { type: 'none' };
  return {
    key: raw.key,
    path: typeof raw.path === 'string' && raw.path !== '' ? compilePathPattern(raw.path) : null,
    methods,
    verification,
    ipAllowlist: (raw.ipAllowlist as string[] | undefined) ?? [],
    trustedProxies: (raw.trustedProxies as string[] | undefined) ?? [],
    bodySchema: isObject(raw.bodySchema) ? raw.bodySchema : null,
    idempotencyHeader:
      typeof raw.idempotencyHeader === 'string' && raw.idempotencyHeader ? raw.idempotencyHeader.toLowerCase() : null,
    maxBodyBytes: isPositiveInt(raw.maxBodyBytes) ? raw.maxBodyBytes : DEFAULT_MAX_BODY_BYTES,
    rateLimit: isObject(raw.rateLimit) ? (raw.rateLimit as unknown as RateLimit) : null,
    cors: isObject(raw.cors) ? { origins: raw.cors.origins as string[] } : null,
    response: isObject(raw.response) ? (raw.response as ResponseConfig) : null,
    timeoutMs: isPositiveInt(raw.timeoutMs) ? raw.timeoutMs : DEFAULT_TIMEOUT_MS,
  };
}
