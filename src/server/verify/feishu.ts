import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { getHeader } from './headers';
import { signatureInvalid } from './hmac';
import { invalidBody, isObject, jsonObject, requireJsonObject, unauthorized } from './request';
import { firstSecret, matchesAnySecret, matchesAnySignature, secretList } from './secrets';
import type {
  Handshake,
  HandshakeTrialMaker,
  RequestSigner,
  SenderRequest,
  Signed,
  VerificationConfig,
  Verifier,
} from './types';

/** Feishu / Lark `{"encrypt": …}`: AES-256-CBC, key SHA-256 of the Encrypt Key, IV the first 16 bytes. */
export function decryptFeishu(encryptKey: string, encrypt: string): string | null {
  const data = Buffer.from(encrypt, 'base64');
  if (data.length < 32 || data.length % 16 !== 0) return null;
  try {
    const key = createHash('sha256').update(encryptKey).digest();
    const decipher = createDecipheriv('aes-256-cbc', key, data.subarray(0, 16));
    const plain = Buffer.concat([decipher.update(data.subarray(16)), decipher.final()]);
    return plain.toString('utf8');
  } catch {
    return null;
  }
}

/** The event inside `{"encrypt": …}` (tried with each key of a rotation); 400 when no key opens it. */
function openEncrypted(config: VerificationConfig, encrypt: unknown): Record<string, unknown> {
  if (typeof encrypt !== 'string' || encrypt === '') throw invalidBody('"encrypt" must be a non-empty string');
  const keys = secretList(config.encryptKey);
  if (keys.length === 0) throw invalidBody('The event is encrypted, but no Encrypt Key is configured');
  for (const key of keys) {
    const text = decryptFeishu(key, encrypt);
    if (text === null) continue;
    const event = jsonObject(Buffer.from(text, 'utf8'));
    if (event) return event;
  }
  throw invalidBody('The encrypted event cannot be decrypted with the configured Encrypt Key');
}

/** The plain body, or the event inside `{"encrypt": …}`. */
function eventOf(config: VerificationConfig, body: Record<string, unknown>): Record<string, unknown> {
  return body.encrypt !== undefined ? openEncrypted(config, body.encrypt) : body;
}

const tokenOf = (event: Record<string, unknown>) =>
  isObject(event.header) && typeof event.header.token === 'string'
    ? event.header.token
    : typeof event.token === 'string'
      ? event.token
      : undefined;

function checkToken(config: VerificationConfig, event: Record<string, unknown>): void {
  const token = tokenOf(event);
  if (token === undefined || !matchesAnySecret(config.verificationToken, [token])) {
    throw unauthorized('The event does not carry the configured Verification Token');
  }
}

/**
 * The URL check `{"type":"url_verification","challenge","token"}`, plain or encrypted. Feishu sends
 * it unsigned, so it runs before the signature check and proves itself with the token alone.
 */
export const feishuHandshake: Handshake = (config, request) => {
  const body = jsonObject(request.raw);
  if (!body || (body.type !== 'url_verification' && body.encrypt === undefined)) return null;
  let event: Record<string, unknown>;
  try {
    event = eventOf(config, body);
  } catch {
    // Not a challenge this webhook can open: an event, whose signature is checked first.
    return null;
  }
  if (event.type !== 'url_verification') return null;
  checkToken(config, event);
  return { status: 200, body: { challenge: event.challenge }, json: true };
};

/**
 * With an Encrypt Key: `X-Lark-Signature` = hex SHA-256 of timestamp, nonce, Encrypt Key and body.
 * Without one Feishu signs nothing; the token inside the event is checked when it is decrypted.
 */
export const verifyFeishu: Verifier = (config, headers, raw) => {
  if (secretList(config.encryptKey).length === 0) return;
  const signature = getHeader(headers, 'X-Lark-Signature');
  const timestamp = getHeader(headers, 'X-Lark-Request-Timestamp') ?? '';
  const nonce = getHeader(headers, 'X-Lark-Request-Nonce') ?? '';
  if (signature === undefined) throw signatureInvalid('Missing X-Lark-Signature header');
  const sign = (key: string) => createHash('sha256').update(`${timestamp}${nonce}${key}`).update(raw).digest();
  if (!matchesAnySignature(config.encryptKey, [signature], 'hex', sign)) {
    throw signatureInvalid('X-Lark-Signature does not match the request body');
  }
};

/** `$context.data`: the event, decrypted; its `header.token` (v1: `token`) must be the Verification Token. */
export function decryptFeishuEvent(config: VerificationConfig, request: SenderRequest): unknown {
  const event = eventOf(config, requireJsonObject(request.raw, 'A Feishu event'));
  checkToken(config, event);
  return event;
}

/** Feishu's encryption of an event: AES-256-CBC, key SHA-256 of the Encrypt Key, a random IV in front. */
export function encryptFeishu(encryptKey: string, text: string): string {
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-cbc', createHash('sha256').update(encryptKey).digest(), iv);
  return Buffer.concat([iv, cipher.update(text, 'utf8'), cipher.final()]).toString('base64');
}

/** The event with the Verification Token where Feishu puts it: `header.token` (v2), `token` (v1, URL check). */
function withToken(event: Record<string, unknown>, token: string): Record<string, unknown> {
  if (event.type === 'url_verification' || typeof event.token === 'string') return { ...event, token };
  return { ...event, header: { ...(isObject(event.header) ? event.header : {}), token } };
}

/**
 * Sends as Feishu does: the admin's JSON event carries the Verification Token; with an Encrypt
 * Key it is encrypted into `{"encrypt"}` and signed (`X-Lark-Signature` and its timestamp and nonce).
 */
export const signFeishu: RequestSigner = (config, raw, nowSeconds): Signed => {
  const event = jsonObject(raw);
  const text = event ? JSON.stringify(withToken(event, firstSecret(config.verificationToken))) : raw.toString('utf8');
  const keys = secretList(config.encryptKey);
  if (keys.length === 0) return { headers: { 'content-type': 'application/json' }, body: Buffer.from(text, 'utf8') };
  const body = Buffer.from(JSON.stringify({ encrypt: encryptFeishu(keys[0], text) }), 'utf8');
  const timestamp = String(nowSeconds);
  const nonce = randomBytes(8).toString('hex');
  const signature = createHash('sha256').update(`${timestamp}${nonce}${keys[0]}`).update(body).digest('hex');
  return {
    headers: {
      'content-type': 'application/json',
      'x-lark-request-timestamp': timestamp,
      'x-lark-request-nonce': nonce,
      'x-lark-signature': signature,
    },
    body,
  };
};

/** The URL check: `{"type":"url_verification","challenge"}` (the signer adds the token, and encrypts). */
export const feishuTrial: HandshakeTrialMaker = () => ({
  body: JSON.stringify({ type: 'url_verification', challenge: randomBytes(8).toString('hex') }),
});
