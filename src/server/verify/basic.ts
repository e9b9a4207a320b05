import type { IncomingHttpHeaders } from 'node:http';
import { WebhookError } from '../answer';
import { safeEqual } from './compare';
import { getHeader } from './headers';
import { firstSecret, matchesAnySecret } from './secrets';
import type { Signer, VerificationConfig } from './types';

const unauthorized = (message: string) =>
  new WebhookError('UNAUTHORIZED', message, {
    headers: { 'WWW-Authenticate': 'Basic realm="webhook", charset="UTF-8"' },
  });

/** HTTP Basic: `Authorization: Basic base64(username:password)`; `password` may be a list (rotation). */
export function verifyBasic(config: VerificationConfig, headers: IncomingHttpHeaders): void {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(getHeader(headers, 'Authorization') ?? '');
  if (!match) throw unauthorized('HTTP Basic credentials are required');
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw unauthorized('Malformed HTTP Basic credentials');
  const { username } = config;
  const userOk = typeof username === 'string' && username !== '' && safeEqual(decoded.slice(0, colon), username);
  const passwordOk = matchesAnySecret(config.password, [decoded.slice(colon + 1)]);
  if (!userOk || !passwordOk) throw unauthorized('Invalid username or password');
}

/** Sends the configured credentials (the first password while rotating). */
export const signBasic: Signer = (config) => ({
  authorization: `Basic ${Buffer.from(`${String(config.username ?? '')}:${firstSecret(config.password)}`).toString('base64')}`,
});
