import { randomBytes } from 'node:crypto';
import { getHeader } from './headers';
import { hmac, signatureInvalid } from './hmac';
import { jsonObject } from './request';
import { findSigningSecret, firstSecret, secretList } from './secrets';
import { checkTimestamp, parseTimestamp, toleranceOf } from './timestamp';
import type { Handshake, HandshakeTrialMaker, SenderRequest, Signer, VerificationConfig, Verifier } from './types';

function signingSecret(config: VerificationConfig, request: Pick<SenderRequest, 'headers' | 'raw'>) {
  const signature = getHeader(request.headers, 'x-zm-signature');
  const ts = getHeader(request.headers, 'x-zm-request-timestamp');
  if (signature === undefined || ts === undefined) {
    throw signatureInvalid('Missing x-zm-signature or x-zm-request-timestamp header');
  }
  const timestamp = parseTimestamp(ts);
  if (timestamp === undefined) throw signatureInvalid('Malformed x-zm-request-timestamp header');
  if (!signature.startsWith('v0=')) throw signatureInvalid('x-zm-signature header must start with "v0="');
  const secret = findSigningSecret(config.secret, [signature.slice(3)], 'hex', (s) =>
    hmac('sha256', s, `v0:${ts}:`, request.raw),
  );
  if (secret === undefined) throw signatureInvalid('x-zm-signature does not match the request body');
  return { secret, timestamp };
}

/** Zoom: `x-zm-signature: v0=<hex HMAC-SHA256 of "v0:{x-zm-request-timestamp}:{body}">`, Secret Token as key. */
export const verifyZoom: Verifier = (config, headers, raw, nowSeconds) => {
  const { timestamp } = signingSecret(config, { headers, raw });
  checkTimestamp(timestamp, nowSeconds, toleranceOf(config));
};

/** `endpoint.url_validation` (signed): `{plainToken, encryptedToken: hex HMAC-SHA256(secret, plainToken)}`. */
export const zoomHandshake: Handshake = (config, request) => {
  const body = jsonObject(request.raw);
  const payload = body?.payload as Record<string, unknown> | undefined;
  if (body?.event !== 'endpoint.url_validation' || typeof payload?.plainToken !== 'string') return null;
  // The secret that signed this request answers it (while the Secret Token rotates).
  const secret =
    secretList(config.secret).length > 1 ? signingSecret(config, request).secret : secretList(config.secret)[0];
  const plainToken = payload.plainToken;
  return {
    status: 200,
    body: { plainToken, encryptedToken: hmac('sha256', secret, plainToken).toString('hex') },
    json: true,
  };
};

/** Signs as Zoom does: `x-zm-request-timestamp` and `x-zm-signature: v0=<hex HMAC of "v0:{ts}:{body}">`. */
export const signZoom: Signer = (config, raw, nowSeconds) => ({
  'x-zm-request-timestamp': String(nowSeconds),
  'x-zm-signature': `v0=${hmac('sha256', firstSecret(config.secret), `v0:${nowSeconds}:`, raw).toString('hex')}`,
});

/** The URL check: `endpoint.url_validation` with a `plainToken` (signed). */
export const zoomTrial: HandshakeTrialMaker = () => ({
  body: JSON.stringify({
    event: 'endpoint.url_validation',
    payload: { plainToken: randomBytes(8).toString('hex') },
    event_ts: Date.now(),
  }),
});
