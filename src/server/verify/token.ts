import type { IncomingHttpHeaders } from 'node:http';
import { refusal } from '../answer';
import { getHeader } from './headers';
import { firstSecret, matchesAnySecret } from './secrets';
import type { Signer, VerificationConfig } from './types';

/**
 * A shared token in a header (`header`, default `Authorization`; GitLab sends `X-Gitlab-Token`).
 * The value must equal `token`; on Authorization, `Bearer {token}` is accepted as well.
 */
export function verifyToken(config: VerificationConfig, headers: IncomingHttpHeaders): void {
  const name = typeof config.header === 'string' && config.header !== '' ? config.header : 'Authorization';
  const value = getHeader(headers, name);
  if (value === undefined) throw refusal('UNAUTHORIZED', `Missing ${name} header`);
  const candidates = [value];
  const bearer = name.toLowerCase() === 'authorization' ? /^Bearer\s+(.+)$/i.exec(value) : null;
  if (bearer) candidates.push(bearer[1].trim());
  if (!matchesAnySecret(config.token, candidates)) {
    throw refusal('UNAUTHORIZED', `Invalid token in ${name} header`);
  }
}

/** Sends the token (the first while rotating) in its header. */
export const signToken: Signer = (config) => {
  const name = typeof config.header === 'string' && config.header !== '' ? config.header : 'Authorization';
  return { [name.toLowerCase()]: firstSecret(config.token) };
};
