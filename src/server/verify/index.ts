import type { IncomingHttpHeaders } from 'node:http';
import { verifyBasic } from './basic';
import { verifyGithub } from './github';
import { ALGORITHMS, ENCODINGS, verifyHmac } from './hmac';
import { isSecretValue, secretList } from './secrets';
import { verifyShopify } from './shopify';
import { verifySlack } from './slack';
import { isStandardSecret, verifyStandard } from './standard';
import { verifyStripe } from './stripe';
import { verifyToken } from './token';
import type { VerificationConfig, Verifier } from './types';

export type { VerificationConfig } from './types';

/** Fields that hold secrets: masked in the UI, never logged, never sent back. */
export const SECRET_FIELDS: readonly string[] = ['secret', 'token', 'password'];

type Field =
  | 'username'
  | 'password'
  | 'token'
  | 'secret'
  | 'header'
  | 'algorithm'
  | 'encoding'
  | 'prefix'
  | 'toleranceSeconds';

interface Scheme {
  verify: Verifier;
  required: Field[];
  optional: Field[];
  /** Headers that carry the credential itself (not a signature): never stored with an execution. */
  credentials?: (config: VerificationConfig) => string[];
}

const timestamped = (verify: Verifier): Scheme => ({ verify, required: ['secret'], optional: ['toleranceSeconds'] });

const SCHEMES: Record<string, Scheme> = {
  none: { verify: () => {}, required: [], optional: [] },
  basic: {
    verify: verifyBasic,
    required: ['username', 'password'],
    optional: [],
    credentials: () => ['authorization'],
  },
  token: {
    verify: verifyToken,
    required: ['token'],
    optional: ['header'],
    credentials: (config) => [
      typeof config.header === 'string' && config.header ? config.header.toLowerCase() : 'authorization',
    ],
  },
  hmac: { verify: verifyHmac, required: ['secret', 'header'], optional: ['algorithm', 'encoding', 'prefix'] },
  github: { verify: verifyGithub, required: ['secret'], optional: [] },
  stripe: timestamped(verifyStripe),
  slack: timestamped(verifySlack),
  shopify: { verify: verifyShopify, required: ['secret'], optional: [] },
  standard: timestamped(verifyStandard),
};

export const VERIFICATION_TYPES = Object.keys(SCHEMES);

const schemeOf = (type: unknown): Scheme | undefined =>
  typeof type === 'string' && Object.hasOwn(SCHEMES, type) ? SCHEMES[type] : undefined;

const SECRET_MESSAGE = 'a non-empty string, or a list of non-empty strings to rotate without downtime';

const CHECKS: Record<Field, [ok: (value: unknown) => boolean, message: string]> = {
  username: [(v) => typeof v === 'string' && v !== '', 'Username is required'],
  password: [isSecretValue, `Password must be ${SECRET_MESSAGE}`],
  token: [isSecretValue, `Token must be ${SECRET_MESSAGE}`],
  secret: [isSecretValue, `Secret must be ${SECRET_MESSAGE}`],
  header: [(v) => typeof v === 'string' && /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(v), 'Header must be a header name'],
  algorithm: [(v) => ALGORITHMS.includes(v as never), `Algorithm must be one of ${ALGORITHMS.join(', ')}`],
  encoding: [(v) => ENCODINGS.includes(v as never), `Encoding must be one of ${ENCODINGS.join(', ')}`],
  prefix: [(v) => typeof v === 'string', 'Prefix must be a string, e.g. "sha256="'],
  toleranceSeconds: [
    (v) => typeof v === 'number' && Number.isFinite(v) && v > 0,
    'toleranceSeconds must be a positive number of seconds',
  ],
};

const absent = (v: unknown) => v === undefined || v === null || v === '';

/**
 * Checks a `verification` object. Returns field -> message (fields of the verification object,
 * e.g. `secret`), or null when valid. A missing verification means `none` and is valid.
 */
export function validateVerification(v: unknown): Record<string, string> | null {
  if (v === undefined || v === null) return null;
  const types = VERIFICATION_TYPES.join(', ');
  if (typeof v !== 'object' || Array.isArray(v))
    return { type: `Verification must be an object whose type is one of ${types}` };
  const config = v as Record<string, unknown>;
  const scheme = schemeOf(config.type);
  if (!scheme) return { type: `Verification type must be one of ${types}` };
  const errors: Record<string, string> = {};
  for (const field of scheme.required) {
    const [ok, message] = CHECKS[field];
    if (absent(config[field]) || !ok(config[field])) errors[field] = message;
  }
  for (const field of scheme.optional) {
    const [ok, message] = CHECKS[field];
    if (!absent(config[field]) && !ok(config[field])) errors[field] = message;
  }
  if (config.type === 'standard' && !errors.secret && !secretList(config.secret).every(isStandardSecret)) {
    errors.secret = 'Secret must be whsec_ followed by base64, as shown by the sender (or a list of them)';
  }
  return Object.keys(errors).length ? errors : null;
}

/**
 * Checks who sent a request, over the exact raw body bytes. Returns when it is authentic; throws a
 * `WebhookError` (UNAUTHORIZED, SIGNATURE_INVALID or TIMESTAMP_OUT_OF_TOLERANCE) otherwise, and a plain
 * Error for a configuration that `validateVerification` would refuse (failing closed).
 */
export function verifyRequest(
  verification: VerificationConfig,
  headers: IncomingHttpHeaders,
  raw: Buffer,
  nowSeconds: number,
): void {
  const scheme = schemeOf(verification.type);
  if (!scheme) throw new Error(`Unknown verification type "${verification.type}"`);
  scheme.verify(verification, headers, raw, nowSeconds);
}

/**
 * The headers of a request that carry the credential a scheme checks (Basic's Authorization,
 * the token's header), lower-case. They read `[redacted]` in `$context.headers` and the log;
 * signature headers are not among them (each proves one body only).
 */
export function credentialHeaders(verification: VerificationConfig): string[] {
  return schemeOf(verification.type)?.credentials?.(verification) ?? [];
}
