import { randomBytes, randomUUID } from 'node:crypto';
import { getHeader } from './headers';
import { hmac, signatureInvalid } from './hmac';
import { jsonObject } from './request';
import { firstSecret, matchesAnySignature } from './secrets';
import { checkTimestamp } from './timestamp';
import type { Handshake, HandshakeTrialMaker, RequestSigner, Verifier } from './types';

/** Twitch asks receivers to refuse messages older than 10 minutes. */
const TWITCH_TOLERANCE_SECONDS = 600;

/**
 * Twitch EventSub: `Twitch-Eventsub-Message-Signature: sha256=<hex HMAC-SHA256 of
 * {Message-Id}{Message-Timestamp}{body}>`; the timestamp (RFC 3339) within 10 minutes
 * (`toleranceSeconds` to change it).
 */
export const verifyTwitch: Verifier = (config, headers, raw, nowSeconds) => {
  const id = getHeader(headers, 'Twitch-Eventsub-Message-Id');
  const ts = getHeader(headers, 'Twitch-Eventsub-Message-Timestamp');
  const signature = getHeader(headers, 'Twitch-Eventsub-Message-Signature');
  if (id === undefined || ts === undefined || signature === undefined) {
    throw signatureInvalid('Missing Twitch-Eventsub-Message-Id, -Timestamp or -Signature header');
  }
  const millis = Date.parse(ts);
  if (Number.isNaN(millis)) throw signatureInvalid('Malformed Twitch-Eventsub-Message-Timestamp header');
  if (!signature.startsWith('sha256=')) throw signatureInvalid('Twitch signature must start with "sha256="');
  const sign = (secret: string) => hmac('sha256', secret, id, ts, raw);
  if (!matchesAnySignature(config.secret, [signature.slice(7)], 'hex', sign)) {
    throw signatureInvalid('Twitch-Eventsub-Message-Signature does not match the request body');
  }
  const tolerance = typeof config.toleranceSeconds === 'number' ? config.toleranceSeconds : TWITCH_TOLERANCE_SECONDS;
  checkTimestamp(Math.floor(millis / 1000), nowSeconds, tolerance);
};

/**
 * Signed, after `verifyTwitch`: `webhook_callback_verification` -> the challenge as text;
 * `revocation` -> 204 (logged; nothing to run).
 */
export const twitchHandshake: Handshake = (_config, request) => {
  const type = getHeader(request.headers, 'Twitch-Eventsub-Message-Type');
  if (type === 'revocation') return { status: 204 };
  if (type !== 'webhook_callback_verification') return null;
  const challenge = jsonObject(request.raw)?.challenge;
  if (typeof challenge !== 'string') return null;
  return { status: 200, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: challenge };
};

/**
 * Signs as Twitch does: `Twitch-Eventsub-Message-Id`, `-Timestamp` (RFC 3339) and `-Signature`;
 * the message type is the admin's (`notification` when unset), so a verification can be tried.
 */
export const signTwitch: RequestSigner = (config, raw, nowSeconds, context) => {
  const id = context.headers['twitch-eventsub-message-id'] || randomUUID();
  const timestamp = new Date(nowSeconds * 1000).toISOString();
  const signature = hmac('sha256', firstSecret(config.secret), id, timestamp, raw).toString('hex');
  return {
    headers: {
      'twitch-eventsub-message-id': id,
      'twitch-eventsub-message-timestamp': timestamp,
      'twitch-eventsub-message-signature': `sha256=${signature}`,
      'twitch-eventsub-message-type': context.headers['twitch-eventsub-message-type'] || 'notification',
    },
  };
};

/** The callback verification: `webhook_callback_verification` with a `challenge` (signed). */
export const twitchTrial: HandshakeTrialMaker = () => ({
  headers: { 'twitch-eventsub-message-type': 'webhook_callback_verification' },
  body: JSON.stringify({
    challenge: randomBytes(8).toString('hex'),
    subscription: { type: 'channel.follow', version: '2', status: 'webhook_callback_verification_pending' },
  }),
});
