import { randomBytes } from 'node:crypto';
import { XMLParser } from 'fast-xml-parser';
import { invalidBody, isObject, queryParam } from './request';
import { firstSecret } from './secrets';
import type {
  Handshake,
  HandshakeTrialMaker,
  RequestSigner,
  SenderRequest,
  Signed,
  VerificationConfig,
  Verifier,
} from './types';
import { checkMsgSignature, msgSignature, openEnvelope, sealEnvelope, signedQuery } from './wxcrypt';

const receiveIdOf = (config: VerificationConfig) =>
  typeof config.receiveId === 'string' && config.receiveId !== '' ? config.receiveId : undefined;

// Every value stays text: ids such as MsgId are 64-bit and would lose digits as numbers.
const xml = new XMLParser({ ignoreAttributes: true, parseTagValue: false, processEntities: true, trimValues: true });

/** The `<xml>…</xml>` document as an object (its root element's children); 400 when it is not one. */
export function parseWecomXml(text: string, what: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = xml.parse(text, true);
  } catch {
    throw invalidBody(`${what} is not well-formed XML`);
  }
  const root = isObject(parsed) ? parsed.xml : undefined;
  if (!isObject(root)) throw invalidBody(`${what} must be an <xml> document`);
  return root;
}

const signed = (request: SenderRequest) =>
  signedQuery(queryParam(request, 'msg_signature'), queryParam(request, 'timestamp'), queryParam(request, 'nonce'));

function encryptOf(raw: Buffer): string {
  const encrypt = parseWecomXml(raw.toString('utf8'), 'The WeCom callback body').Encrypt;
  if (typeof encrypt !== 'string' || encrypt === '') throw invalidBody('The WeCom callback body has no <Encrypt>');
  return encrypt;
}

/** WeCom (企业微信) callback: POST `<xml><Encrypt>…</Encrypt></xml>`, `msg_signature` over token, timestamp, nonce, Encrypt. */
export const verifyWecom: Verifier = (config, _headers, raw, _now, request) => {
  const query = signed(request);
  checkMsgSignature(config.token, query, encryptOf(raw));
};

/** The decrypted message as an object: `{ ToUserName, FromUserName, CreateTime, MsgType, … }`. */
export function decryptWecom(config: VerificationConfig, request: SenderRequest): unknown {
  const { message } = openEnvelope(config.encodingAESKey, encryptOf(request.raw), receiveIdOf(config));
  return parseWecomXml(message.toString('utf8'), 'The decrypted WeCom message');
}

/** The URL check: GET `?msg_signature&timestamp&nonce&echostr` -> the decrypted echostr, as text. */
export const wecomHandshake: Handshake = (config, request) => {
  const echostr = queryParam(request, 'echostr');
  if (request.method !== 'GET' || echostr === undefined) return null;
  checkMsgSignature(config.token, signed(request), echostr);
  const { message } = openEnvelope(config.encodingAESKey, echostr, receiveIdOf(config));
  return { status: 200, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: message.toString('utf8') };
};

/** WeCom expects an empty 200 to an event it need not be answered. */
export const wecomAcknowledge = () => ({ status: 200, body: '' });

/**
 * Signs as WeCom sends: the message (the admin's XML) sealed into `<xml><Encrypt>…`, and
 * `msg_signature`, `timestamp`, `nonce` in the query. A GET is the URL check: a sealed `echostr`.
 */
export const signWecom: RequestSigner = (config, raw, nowSeconds, context): Signed => {
  const token = firstSecret(config.token);
  const key = firstSecret(config.encodingAESKey);
  const receiveId = receiveIdOf(config) ?? '';
  const timestamp = String(nowSeconds);
  const nonce = randomBytes(8).toString('hex');
  if (context.method === 'GET') {
    const echostr = sealEnvelope(key, randomBytes(9).toString('base64url'), receiveId);
    const signature = msgSignature(token, timestamp, nonce, echostr).toString('hex');
    return { headers: {}, query: { msg_signature: signature, timestamp, nonce, echostr } };
  }
  const encrypt = sealEnvelope(key, raw.toString('utf8'), receiveId);
  const body = `<xml><ToUserName><![CDATA[${receiveId}]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`;
  return {
    headers: { 'content-type': 'text/xml' },
    query: { msg_signature: msgSignature(token, timestamp, nonce, encrypt).toString('hex'), timestamp, nonce },
    body: Buffer.from(body, 'utf8'),
  };
};

/** The URL check is a GET (its `echostr` sealed by the signer). */
export const wecomTrial: HandshakeTrialMaker = () => ({ method: 'GET' });
