import { randomBytes } from 'node:crypto';
import { invalidBody, jsonObject, queryParam, requireJsonObject } from './request';
import { firstSecret, secretList } from './secrets';
import type {
  Handshake,
  HandshakeTrialMaker,
  RequestSigner,
  SenderAnswer,
  SenderRequest,
  VerificationConfig,
  Verifier,
} from './types';
import { checkMsgSignature, msgSignature, openEnvelope, sealEnvelope, signedQuery } from './wxcrypt';

/**
 * DingTalk (钉钉) HTTP event subscription: POST `{"encrypt": …}` with `signature` (or
 * `msg_signature`), `timestamp` and `nonce` in the query; the crypto of WeCom, over JSON, the
 * receiver id being the `ownerKey` (AppKey, SuiteKey or CorpId).
 */
const signed = (request: SenderRequest) =>
  signedQuery(
    queryParam(request, 'msg_signature') ?? queryParam(request, 'signature'),
    queryParam(request, 'timestamp'),
    queryParam(request, 'nonce'),
  );

function encryptOf(raw: Buffer): string {
  const encrypt = requireJsonObject(raw, 'A DingTalk event').encrypt;
  if (typeof encrypt !== 'string' || encrypt === '') throw invalidBody('A DingTalk event must carry "encrypt"');
  return encrypt;
}

const ownerKeyOf = (config: VerificationConfig) => (typeof config.ownerKey === 'string' ? config.ownerKey : '');

export const verifyDingtalk: Verifier = (config, _headers, raw, _now, request) => {
  const query = signed(request);
  checkMsgSignature(config.token, query, encryptOf(raw));
};

/** `$context.data`: the decrypted JSON event (`{"EventType": …, …}`). */
export function decryptDingtalk(config: VerificationConfig, request: SenderRequest): unknown {
  const { message } = openEnvelope(config.aesKey, encryptOf(request.raw), ownerKeyOf(config));
  const event = jsonObject(message);
  if (!event) throw invalidBody('The decrypted DingTalk event is not a JSON object');
  return event;
}

/**
 * The answer DingTalk expects: `success`, encrypted for the owner key, signed with the token that
 * signed the request (and sealed with the key that opened it, while either rotates).
 */
export function dingtalkSuccess(config: VerificationConfig, request: SenderRequest): SenderAnswer {
  const encryptIn = encryptOf(request.raw);
  const token = checkMsgSignature(config.token, signed(request), encryptIn);
  const { aesKey } = openEnvelope(config.aesKey, encryptIn, ownerKeyOf(config));
  const encrypt = sealEnvelope(aesKey, 'success', ownerKeyOf(config));
  const timeStamp = String(Date.now());
  const nonce = randomBytes(6).toString('hex');
  return {
    status: 200,
    body: { msg_signature: msgSignature(token, timeStamp, nonce, encrypt).toString('hex'), timeStamp, nonce, encrypt },
    json: true,
  };
}

/** The `check_url` event (signed and encrypted, so it runs after both): the encrypted `success`. */
export const dingtalkHandshake: Handshake = (config, request) => {
  const event = request.data as Record<string, unknown> | undefined;
  if (event?.EventType !== 'check_url') return null;
  return secretList(config.token).length ? dingtalkSuccess(config, request) : null;
};

/** Signs as DingTalk pushes: the event (the admin's JSON) sealed into `{"encrypt"}`, the signature in the query. */
export const signDingtalk: RequestSigner = (config, raw, nowSeconds) => {
  const encrypt = sealEnvelope(firstSecret(config.aesKey), raw.toString('utf8'), ownerKeyOf(config));
  const timestamp = String(nowSeconds * 1000);
  const nonce = randomBytes(6).toString('hex');
  const signature = msgSignature(firstSecret(config.token), timestamp, nonce, encrypt).toString('hex');
  return {
    headers: { 'content-type': 'application/json' },
    query: { msg_signature: signature, timestamp, nonce },
    body: Buffer.from(JSON.stringify({ encrypt }), 'utf8'),
  };
};

/** The URL check: the `check_url` event, sealed and signed like any event. */
export const dingtalkTrial: HandshakeTrialMaker = () => ({ body: JSON.stringify({ EventType: 'check_url' }) });
