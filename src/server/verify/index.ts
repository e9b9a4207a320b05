import type { IncomingHttpHeaders } from 'node:http';
import type { Problem } from '../../common/checks';
import { VERIFICATION_MESSAGES } from '../../common/messages';
import { WebhookError } from '../answer';
import { verifyBasic } from './basic';
import { decryptDingtalk, dingtalkHandshake, dingtalkSuccess, verifyDingtalk } from './dingtalk';
import { verifyDingtalkRobot } from './dingtalk-robot';
import { discordHandshake, ED25519_HEX, verifyDiscord } from './discord';
import { decryptFeishuEvent, feishuHandshake, verifyFeishu } from './feishu';
import { verifyGithub } from './github';
import { ALGORITHMS, ENCODINGS, verifyHmac } from './hmac';
import { metaHandshake, verifyMeta } from './meta';
import { msgraphHandshake, verifyMsgraph } from './msgraph';
import { isSecretValue, secretList } from './secrets';
import { verifyShopify } from './shopify';
import { slackHandshake, verifySlack } from './slack';
import { isStandardSecret, verifyStandard } from './standard';
import { verifyStripe } from './stripe';
import { verifyTemplate } from './template';
import { verifyToken } from './token';
import { verifyTwilio } from './twilio';
import { twitchHandshake, verifyTwitch } from './twitch';
import type { Handshake, SenderAnswer, SenderRequest, VerificationConfig, Verifier } from './types';
import { decryptWecom, verifyWecom, wecomAcknowledge, wecomHandshake } from './wecom';
import { AES_KEY_PATTERN } from './wxcrypt';
import { verifyZoom, zoomHandshake } from './zoom';

export type { SenderAnswer, SenderRequest, VerificationConfig } from './types';

/**
 * Fields that hold secrets: sealed at rest, masked in the UI, never logged, never sent back.
 * (`publicKey` and the receiver ids are not secret.)
 */
export const SECRET_FIELDS: readonly string[] = [
  'secret',
  'token',
  'password',
  'encodingAESKey',
  'aesKey',
  'verificationToken',
  'encryptKey',
  'verifyToken',
  'authToken',
  'clientState',
];

/** Secret fields whose value has a fixed shape (43 base64 characters): a stand-in for a mask must have it too. */
export const AES_KEY_FIELDS: readonly string[] = ['encodingAESKey', 'aesKey'];

type Field =
  | 'username'
  | 'password'
  | 'token'
  | 'secret'
  | 'header'
  | 'algorithm'
  | 'encoding'
  | 'prefix'
  | 'toleranceSeconds'
  | 'encodingAESKey'
  | 'receiveId'
  | 'aesKey'
  | 'ownerKey'
  | 'verificationToken'
  | 'encryptKey'
  | 'verifyToken'
  | 'publicKey'
  | 'clientState'
  | 'authToken'
  | 'url'
  | 'message'
  | 'timestampHeader'
  | 'idHeader';

interface Scheme {
  verify: Verifier;
  required: Field[];
  optional: Field[];
  /** Headers that carry the credential itself (not a signature): never stored with an execution. */
  credentials?: (config: VerificationConfig) => string[];
  /** Query parameters that carry a credential (Meta's verify token): redacted in the logged path. */
  credentialQuery?: string[];
  /**
   * The sender's handshake, answered by the plugin: the answer when the request is one, else null.
   * A signed handshake runs after `verify` (and `decrypt`); an unsigned one (`handshakeFirst`)
   * runs before and in place of `verify`, proving itself (its token, its own signature).
   */
  handshake?: Handshake;
  handshakeFirst?: boolean;
  /** Methods the handshake uses, allowed for it even when the webhook's methods leave them out. */
  handshakeMethods?: string[];
  /** The event inside the sender's envelope: replaces the parsed body as `$context.data`. */
  decrypt?: (config: VerificationConfig, request: SenderRequest) => unknown;
  /** The answer the sender expects to an accepted event in async mode, unless the webhook configures one. */
  acknowledge?: (config: VerificationConfig, request: SenderRequest) => SenderAnswer;
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
  slack: { ...timestamped(verifySlack), handshake: slackHandshake },
  shopify: { verify: verifyShopify, required: ['secret'], optional: [] },
  standard: timestamped(verifyStandard),
  wecom: {
    verify: verifyWecom,
    required: ['token', 'encodingAESKey'],
    optional: ['receiveId'],
    handshake: wecomHandshake,
    handshakeFirst: true,
    handshakeMethods: ['GET'],
    decrypt: decryptWecom,
    acknowledge: wecomAcknowledge,
  },
  dingtalk: {
    verify: verifyDingtalk,
    required: ['token', 'aesKey', 'ownerKey'],
    optional: [],
    decrypt: decryptDingtalk,
    handshake: dingtalkHandshake,
    acknowledge: dingtalkSuccess,
  },
  'dingtalk-robot': {
    verify: verifyDingtalkRobot,
    required: ['secret'],
    optional: [],
    // Legacy outgoing robots send their token in a `token` header.
    credentials: () => ['token'],
  },
  feishu: {
    verify: verifyFeishu,
    required: ['verificationToken'],
    optional: ['encryptKey'],
    handshake: feishuHandshake,
    handshakeFirst: true,
    decrypt: decryptFeishuEvent,
  },
  meta: {
    verify: verifyMeta,
    required: ['secret', 'verifyToken'],
    optional: [],
    credentialQuery: ['hub.verify_token'],
    handshake: metaHandshake,
    handshakeFirst: true,
    handshakeMethods: ['GET'],
  },
  zoom: { ...timestamped(verifyZoom), handshake: zoomHandshake },
  twitch: { ...timestamped(verifyTwitch), handshake: twitchHandshake },
  discord: { verify: verifyDiscord, required: ['publicKey'], optional: [], handshake: discordHandshake },
  msgraph: {
    verify: verifyMsgraph,
    required: ['clientState'],
    optional: [],
    handshake: msgraphHandshake,
    handshakeFirst: true,
  },
  twilio: { verify: verifyTwilio, required: ['authToken', 'url'], optional: [] },
  template: {
    verify: verifyTemplate,
    required: ['secret', 'header'],
    optional: ['algorithm', 'encoding', 'prefix', 'message', 'timestampHeader', 'idHeader', 'toleranceSeconds'],
  },
};

export const VERIFICATION_TYPES = Object.keys(SCHEMES);

const schemeOf = (type: unknown): Scheme | undefined =>
  typeof type === 'string' && Object.hasOwn(SCHEMES, type) ? SCHEMES[type] : undefined;

function isHeaderName(v: unknown): boolean {
  return typeof v === 'string' && /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(v);
}

function isAesKey(v: unknown): boolean {
  return isSecretValue(v) && secretList(v).every((k) => AES_KEY_PATTERN.test(k));
}

const V = VERIFICATION_MESSAGES;

/** Each field's check, and the problem (a code and values, answered in the admin's language) when it fails. */
const CHECKS: Record<Field, [ok: (value: unknown) => boolean, problem: (field: Field) => Problem]> = {
  username: [(v) => typeof v === 'string' && v !== '', V.required],
  password: [isSecretValue, V.secret],
  token: [isSecretValue, V.secret],
  secret: [isSecretValue, V.secret],
  header: [isHeaderName, V.headerName],
  algorithm: [(v) => ALGORITHMS.includes(v as never), (f) => V.oneOf(f, ALGORITHMS.join(', '))],
  encoding: [(v) => ENCODINGS.includes(v as never), (f) => V.oneOf(f, ENCODINGS.join(', '))],
  prefix: [(v) => typeof v === 'string', V.text],
  toleranceSeconds: [(v) => typeof v === 'number' && Number.isFinite(v) && v > 0, V.seconds],
  encodingAESKey: [isAesKey, V.aesKey],
  aesKey: [isAesKey, V.aesKey],
  receiveId: [(v) => typeof v === 'string', V.text],
  ownerKey: [(v) => typeof v === 'string' && v !== '', V.required],
  verificationToken: [isSecretValue, V.secret],
  encryptKey: [isSecretValue, V.secret],
  verifyToken: [isSecretValue, V.secret],
  clientState: [isSecretValue, V.secret],
  authToken: [isSecretValue, V.secret],
  publicKey: [(v) => isSecretValue(v) && secretList(v).every((k) => ED25519_HEX.test(k)), V.publicKey],
  url: [(v) => typeof v === 'string' && /^https?:\/\/[^\s]+$/i.test(v), V.url],
  message: [(v) => typeof v === 'string' && v.includes('{body}'), V.template],
  timestampHeader: [isHeaderName, V.headerName],
  idHeader: [isHeaderName, V.headerName],
};

const absent = (v: unknown) => v === undefined || v === null || v === '';

/**
 * Checks a `verification` object. Returns field -> problem (fields of the verification object,
 * e.g. `secret`), or null when valid. A missing verification means `none` and is valid.
 */
export function validateVerification(v: unknown): Record<string, Problem> | null {
  if (v === undefined || v === null) return null;
  const types = VERIFICATION_TYPES.join(', ');
  if (typeof v !== 'object' || Array.isArray(v)) return { type: V.notObject(types) };
  const config = v as Record<string, unknown>;
  const scheme = schemeOf(config.type);
  if (!scheme) return { type: V.type(types) };
  const errors: Record<string, Problem> = {};
  for (const field of scheme.required) {
    const [ok, problem] = CHECKS[field];
    if (absent(config[field]) || !ok(config[field])) errors[field] = problem(field);
  }
  for (const field of scheme.optional) {
    const [ok, problem] = CHECKS[field];
    if (!absent(config[field]) && !ok(config[field])) errors[field] = problem(field);
  }
  if (config.type === 'standard' && !errors.secret && !secretList(config.secret).every(isStandardSecret)) {
    errors.secret = V.standardSecret('secret');
  }
  return Object.keys(errors).length ? errors : null;
}

/** A request as a scheme sees it, from the parts the unit tests give. */
function senderRequest(headers: IncomingHttpHeaders, raw: Buffer, nowSeconds: number, extra: Partial<SenderRequest>) {
  return { method: 'POST', query: {}, querystring: '', url: '', ...extra, headers, raw, nowSeconds } as SenderRequest;
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
  extra: Partial<SenderRequest> = {},
): void {
  const scheme = schemeOf(verification.type);
  if (!scheme) throw new Error(`Unknown verification type "${verification.type}"`);
  scheme.verify(verification, headers, raw, nowSeconds, senderRequest(headers, raw, nowSeconds, extra));
}

/** What the sender's check made of a request. */
export type SenderOutcome =
  /** A handshake the plugin answers itself: nothing runs. */
  | { handshake: SenderAnswer }
  /**
   * An authentic event. `decrypted` holds `$context.data` when the scheme opens an envelope
   * (else the body parser makes it); `acknowledge` makes the answer the sender expects in async mode.
   */
  | { handshake: null; decrypted?: { data: unknown }; acknowledge?: () => SenderAnswer };

/**
 * The sender stage of the route: an unsigned handshake (which proves itself), else the
 * signature or token check, the envelope opened, then a signed handshake. `handshakeOnly`: the
 * method is allowed for the scheme's handshake alone, so anything else is 405.
 */
export function checkSender(
  verification: VerificationConfig,
  request: SenderRequest,
  { handshakeOnly = false } = {},
): SenderOutcome {
  const scheme = schemeOf(verification.type);
  if (!scheme) throw new Error(`Unknown verification type "${verification.type}"`);
  if (scheme.handshake && scheme.handshakeFirst) {
    const answer = scheme.handshake(verification, request);
    if (answer) return { handshake: answer };
  }
  if (handshakeOnly) throw new WebhookError('METHOD_NOT_ALLOWED', `Method ${request.method} is not allowed`);
  scheme.verify(verification, request.headers, request.raw, request.nowSeconds, request);
  const decrypted = scheme.decrypt ? { data: scheme.decrypt(verification, request) } : undefined;
  if (scheme.handshake && !scheme.handshakeFirst) {
    const answer = scheme.handshake(verification, { ...request, data: decrypted?.data });
    if (answer) return { handshake: answer };
  }
  const { acknowledge } = scheme;
  return {
    handshake: null,
    decrypted,
    acknowledge: acknowledge ? () => acknowledge(verification, request) : undefined,
  };
}

/** Methods a scheme's handshake uses (allowed for it alone when the webhook's methods leave them out). */
export function handshakeMethods(verification: VerificationConfig): string[] {
  return schemeOf(verification.type)?.handshakeMethods ?? [];
}

/** Query parameters that carry a credential of the scheme, redacted in the logged path. */
export function credentialQuery(verification: VerificationConfig): string[] {
  return schemeOf(verification.type)?.credentialQuery ?? [];
}

/**
 * The headers of a request that carry the credential a scheme checks (Basic's Authorization,
 * the token's header), lower-case. They read `[redacted]` in `$context.headers` and the log;
 * signature headers are not among them (each proves one body only).
 */
export function credentialHeaders(verification: VerificationConfig): string[] {
  return schemeOf(verification.type)?.credentials?.(verification) ?? [];
}
