import { randomBytes } from 'node:crypto';
import { WebhookError } from '../answer';
import { signGithub, verifyGithub } from './github';
import { queryParam } from './request';
import { firstSecret, matchesAnySecret } from './secrets';
import type { Handshake, HandshakeTrialMaker, Signer, Verifier } from './types';

/**
 * Meta (WhatsApp, Instagram, Messenger) subscription check: GET
 * `?hub.mode=subscribe&hub.verify_token=v&hub.challenge=c` -> `c` as text when `v` is the Verify
 * Token, else `403 UNAUTHORIZED` (Meta's documented answer). Unsigned: the token is its proof.
 */
export const metaHandshake: Handshake = (config, request) => {
  if (request.method !== 'GET' || queryParam(request, 'hub.mode') === undefined) return null;
  const token = queryParam(request, 'hub.verify_token');
  const challenge = queryParam(request, 'hub.challenge');
  if (
    queryParam(request, 'hub.mode') !== 'subscribe' ||
    challenge === undefined ||
    token === undefined ||
    !matchesAnySecret(config.verifyToken, [token])
  ) {
    throw new WebhookError('UNAUTHORIZED', 'hub.verify_token does not match the Verify Token', { status: 403 });
  }
  return { status: 200, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: challenge };
};

/** Each event: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body, keyed with the App Secret>`. */
export const verifyMeta: Verifier = verifyGithub;

/** Signs as Meta does: `X-Hub-Signature-256`, as GitHub. */
export const signMeta: Signer = signGithub;

/** The subscription check: GET `?hub.mode=subscribe&hub.verify_token&hub.challenge`. */
export const metaTrial: HandshakeTrialMaker = (config) => ({
  method: 'GET',
  query: {
    'hub.mode': 'subscribe',
    'hub.verify_token': firstSecret(config.verifyToken),
    'hub.challenge': randomBytes(6).toString('hex'),
  },
});
