import { randomBytes } from 'node:crypto';
import { checkFields, formatProblem, isPositiveInteger as isPositiveInt, type Problem } from '../common/checks';
import type { OnTimeout } from '../common/constants';
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_TIMEOUT_MS, type Method } from '../common/constants';
import { type Filter, isEmptyFilter } from '../common/filter';
import { MESSAGES } from '../common/messages';
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
  onTimeout?: unknown;
  filter?: unknown;
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
  onTimeout: OnTimeout;
  /** Null when there is none (or it has no condition). */
  filter: Filter | null;
}

export function generateKey(): string {
  return randomBytes(12).toString('base64url');
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks a stored configuration. Returns a map of field to problem (an English text with its
 * values, answered in the admin's language), or null when valid.
 */
export function configProblems(config: RawWebhookConfig): Record<string, Problem> | null {
  const errors: Record<string, Problem> = {};
  // The checks the admin form runs too (src/common/checks.ts), with the field named in front.
  for (const [field, problem] of Object.entries(checkFields(config))) {
    errors[field] = { ...problem, prefix: field };
  }
  if (config.path !== undefined && config.path !== null && config.path !== '') {
    if (typeof config.path !== 'string') {
      errors.path = MESSAGES.pathNotString();
    } else {
      try {
        compilePathPattern(config.path);
      } catch (e) {
        errors.path = MESSAGES.pathInvalid((e as Error).message);
      }
    }
  }
  const verificationErrors = validateVerification(withoutMasks(config.verification));
  for (const [field, problem] of Object.entries(verificationErrors ?? {})) {
    errors[`verification.${field}`] = MESSAGES.verification(problem);
  }
  if (config.bodySchema !== undefined && config.bodySchema !== null) {
    if (!isObject(config.bodySchema)) {
      errors.bodySchema = MESSAGES.schemaNotObject();
    } else {
      try {
        compileSchema(config.bodySchema);
      } catch (e) {
        errors.bodySchema = MESSAGES.schemaInvalid((e as Error).message);
      }
    }
  }
  return Object.keys(errors).length ? errors : null;
}

/**
 * Checks a stored configuration. Returns a map of field to message (English), or null when valid.
 * Used by the engine's workflows:create/update actions, so messages reach the administrator
 * (translated there: see src/server/messages.ts).
 */
export function validateConfig(config: RawWebhookConfig): Record<string, string> | null {
  const problems = configProblems(config);
  if (!problems) return null;
  return Object.fromEntries(Object.entries(problems).map(([field, problem]) => [field, formatProblem(problem)]));
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
    onTimeout: raw.onTimeout === 'accept' ? 'accept' : 'error',
    filter: isObject(raw.filter) && !isEmptyFilter(raw.filter) ? (raw.filter as Filter) : null,
  };
}
