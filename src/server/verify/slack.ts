import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { getHeader } from './headers';
import { hmac, signatureInvalid } from './hmac';
import { jsonObject } from './request';
import { firstSecret, matchesAnySignature } from './secrets';
import { checkTimestamp, parseTimestamp, toleranceOf } from './timestamp';
import type { Handshake, HandshakeTrialMaker, Signer, VerificationConfig } from './types';

/** Slack: `X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:{X-Slack-Request-Timestamp}:{body}">`. */
export function verifySlack(
  config: VerificationConfig,
  headers: IncomingHttpHeaders,
  raw: Buffer,
  nowSeconds: number,
): void {
  const signature = getHeader(headers, 'X-Slack-Signature');
  const ts = getHeader(headers, 'X-Slack-Request-Timestamp');
  if (signature === undefined) throw signatureInvalid('Missing X-Slack-Signature header');
  const timestamp = parseTimestamp(ts);
  if (timestamp === undefined) throw signatureInvalid('Missing or malformed X-Slack-Request-Timestamp header');
  if (!signature.startsWith('v0=')) throw signatureInvalid('X-Slack-Signature header must start with "v0="');
  const provided = signature.slice(3);
  if (!matchesAnySignature(config.secret, [provided], 'hex', (secret) => hmac('sha256', secret, `v0:${ts}:`, raw))) {
    throw signatureInvalid('X-Slack-Signature does not match the request body');
  }
  checkTimestamp(timestamp, nowSeconds, toleranceOf(config));
}

/** Slack's Events API URL check (signed, so it runs after `verifySlack`): `{"challenge": c}`. */
export const slackHandshake: Handshake = (_config, request) => {
  const body = jsonObject(request.raw);
  if (body?.type !== 'url_verification' || typeof body.challenge !== 'string') return null;
  return { status: 200, body: { challenge: body.challenge }, json: true };
};
/** Signs as Slack does. */
export const signSlack: Signer = (config, raw, nowSeconds) => ({
  'x-slack-request-timestamp': String(nowSeconds),
  'x-slack-signature': `v0=${hmac('sha256', firstSecret(config.secret), `v0:${nowSeconds}:`, raw).toString('hex')}`,
});

/** The URL check: `{"type":"url_verification","challenge"}` (signed). */
export const slackTrial: HandshakeTrialMaker = () => ({
  body: JSON.stringify({ type: 'url_verification', challenge: randomBytes(8).toString('hex'), token: 'test' }),
});
