import type { IncomingHttpHeaders } from 'node:http';
import type { Problem } from '../../common/checks';
import { VERIFICATION_MESSAGES as V } from '../../common/messages';
import { FIELDS, type SchemeRow, schemeOf as schemeRow, VERIFICATION_TYPES } from '../../common/schemes';
import { WebhookError } from '../answer';
import { verifyBasic } from './basic';
import { decryptDingtalk, dingtalkHandshake, dingtalkSuccess, verifyDingtalk } from './dingtalk';
import { verifyDingtalkRobot } from './dingtalk-robot';
import { discordHandshake, verifyDiscord } from './discord';
import { decryptFeishuEvent, feishuHandshake, verifyFeishu } from './feishu';
import { verifyGithub } from './github';
import { verifyHmac } from './hmac';
import { metaHandshake, verifyMeta } from './meta';
import { msgraphHandshake, verifyMsgraph } from './msgraph';
import { secretList } from './secrets';
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
import { verifyZoom, zoomHandshake } from './zoom';

export { AES_KEY_FIELDS, SECRET_FIELDS, VERIFICATION_TYPES } from '../../common/schemes';
export type { SenderAnswer, SenderRequest, VerificationConfig } from './types';

/** The behaviour of a scheme; what it reads and needs is its row in src/common/schemes.ts. */
export interface Behaviour {
  verify: Verifier;
  /**
   * The sender's handshake, answered by the plugin: the answer when the request is one, else null.
   * Whether it runs before `verify` (unsigned) or after is the row's `handshake.first`.
   */
  handshake?: Handshake;
  /** The event inside the sender's envelope: replaces the parsed body as `$context.data`. */
  decrypt?: (config: VerificationConfig, request: SenderRequest) => unknown;
  /** The answer the sender expects to an accepted event in async mode, unless the webhook configures one. */
  acknowledge?: (config: VerificationConfig, request: SenderRequest) => SenderAnswer;
}

/** Each scheme's behaviour, keyed by type (a test checks these keys are the table's types). */
export const BEHAVIOURS: Record<string, Behaviour> = {
  none: { verify: () => {} },
  basic: { verify: verifyBasic },
  token: { verify: verifyToken },
  hmac: { verify: verifyHmac },
  github: { verify: verifyGithub },
  stripe: { verify: verifyStripe },
  slack: { verify: verifySlack, handshake: slackHandshake },
  shopify: { verify: verifyShopify },
  standard: { verify: verifyStandard },
  wecom: { verify: verifyWecom, handshake: wecomHandshake, decrypt: decryptWecom, acknowledge: wecomAcknowledge },
  dingtalk: {
    verify: verifyDingtalk,
    decrypt: decryptDingtalk,
    handshake: dingtalkHandshake,
    acknowledge: dingtalkSuccess,
  },
  'dingtalk-robot': { verify: verifyDingtalkRobot },
  feishu: { verify: verifyFeishu, handshake: feishuHandshake, decrypt: decryptFeishuEvent },
  meta: { verify: verifyMeta, handshake: metaHandshake },
  zoom: { verify: verifyZoom, handshake: zoomHandshake },
  twitch: { verify: verifyTwitch, handshake: twitchHandshake },
  discord: { verify: verifyDiscord, handshake: discordHandshake },
  msgraph: { verify: verifyMsgraph, handshake: msgraphHandshake },
  twilio: { verify: verifyTwilio },
  template: { verify: verifyTemplate },
};

/** A scheme: its row (data) and its behaviour; undefined for an unknown type. */
function schemeOf(type: unknown): { row: SchemeRow; behaviour: Behaviour } | undefined {
  const row = schemeRow(type);
  return row && Object.hasOwn(BEHAVIOURS, row.type) ? { row, behaviour: BEHAVIOURS[row.type] } : undefined;
}

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
  const scheme = schemeRow(config.type);
  if (!scheme) return { type: V.type(types) };
  const errors: Record<string, Problem> = {};
  for (const field of scheme.required) {
    const { check, problem } = FIELDS[field];
    if (absent(config[field]) || !check(config[field])) errors[field] = problem(field);
  }
  for (const field of scheme.optional) {
    const { check, problem } = FIELDS[field];
    if (!absent(config[field]) && !check(config[field])) errors[field] = problem(field);
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
  scheme.behaviour.verify(verification, headers, raw, nowSeconds, senderRequest(headers, raw, nowSeconds, extra));
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
  const { handshake, decrypt, acknowledge, verify } = scheme.behaviour;
  const handshakeFirst = scheme.row.handshake !== false && scheme.row.handshake.first;
  if (handshake && handshakeFirst) {
    const answer = handshake(verification, request);
    if (answer) return { handshake: answer };
  }
  if (handshakeOnly) throw new WebhookError('METHOD_NOT_ALLOWED', `Method ${request.method} is not allowed`);
  verify(verification, request.headers, request.raw, request.nowSeconds, request);
  const decrypted = decrypt ? { data: decrypt(verification, request) } : undefined;
  if (handshake && !handshakeFirst) {
    const answer = handshake(verification, { ...request, data: decrypted?.data });
    if (answer) return { handshake: answer };
  }
  return {
    handshake: null,
    decrypted,
    acknowledge: acknowledge ? () => acknowledge(verification, request) : undefined,
  };
}

/** Methods a scheme's handshake uses (allowed for it alone when the webhook's methods leave them out). */
export function handshakeMethods(verification: VerificationConfig): string[] {
  const handshake = schemeRow(verification.type)?.handshake;
  return handshake ? handshake.methods : [];
}

/** Query parameters that carry a credential of the scheme, redacted in the logged path. */
export function credentialQuery(verification: VerificationConfig): string[] {
  return schemeRow(verification.type)?.credentialQuery ?? [];
}

/**
 * The headers of a request that carry the credential a scheme checks (Basic's Authorization,
 * the token's header), lower-case. They read `[redacted]` in `$context.headers` and the log;
 * signature headers are not among them (each proves one body only).
 */
export function credentialHeaders(verification: VerificationConfig): string[] {
  const row = schemeRow(verification.type);
  if (!row) return [];
  const named = row.credentialHeaderField && verification[row.credentialHeaderField];
  return typeof named === 'string' && named !== '' ? [named.toLowerCase()] : row.credentialHeaders;
}
