import { randomBytes } from 'node:crypto';
import { invalidBody, isObject, jsonObject, queryParam, requireJsonObject, unauthorized } from './request';
import { firstSecret, matchesAnySecret } from './secrets';
import type { Handshake, HandshakeTrialMaker, RequestSigner, Signed, Verifier } from './types';

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

/**
 * Graph signs nothing: each notification carries the `clientState`. The admin's JSON gets it in
 * every item of its `value[]`, or becomes the one item of `{"value": [...]}`.
 */
export const signMsgraph: RequestSigner = (config, raw): Signed => {
  const clientState = firstSecret(config.clientState);
  const body = jsonObject(raw);
  if (!body) return { headers: {} };
  const value = Array.isArray(body.value)
    ? body.value.map((item) => (isObject(item) ? { ...item, clientState } : item))
    : [{ ...body, clientState }];
  const signed = Array.isArray(body.value) ? { ...body, value } : { value };
  return { headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(signed), 'utf8') };
};

/** The validation request: `?validationToken=…`, with no body. */
export const msgraphTrial: HandshakeTrialMaker = () => ({
  query: { validationToken: `Validation: ${randomBytes(6).toString('hex')}` },
  headers: { 'content-type': 'text/plain' },
  body: '',
});
