import { invalidBody, isObject, queryParam, requireJsonObject, unauthorized } from './request';
import { matchesAnySecret } from './secrets';
import type { Handshake, Verifier } from './types';

/**
 * Microsoft Graph subscription validation: `?validationToken=v` -> `200 text/plain` v. Graph
 * sends it without clientState; it proves nothing and starts nothing.
 */
export const msgraphHandshake: Handshake = (_config, request) => {
  const token = queryParam(request, 'validationToken');
  if (token === undefined) return null;
  return { status: 200, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: token };
};

/** Change notifications: every item of `value[]` must carry the subscription's `clientState`. */
export const verifyMsgraph: Verifier = (config, _headers, raw) => {
  const value = requireJsonObject(raw, 'A Microsoft Graph notification').value;
  if (!Array.isArray(value) || value.length === 0) throw invalidBody('A Microsoft Graph notification needs value[]');
  for (const item of value) {
    const state = isObject(item) ? item.clientState : undefined;
    if (typeof state !== 'string' || !matchesAnySecret(config.clientState, [state])) {
      throw unauthorized('A notification does not carry the configured clientState');
    }
  }
};
