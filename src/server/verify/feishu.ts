import { createDecipheriv, createHash } from 'node:crypto';
import { getHeader } from './headers';
import { signatureInvalid } from './hmac';
import { invalidBody, isObject, jsonObject, requireJsonObject, unauthorized } from './request';
import { matchesAnySecret, matchesAnySignature, secretList } from './secrets';
import type { Handshake, SenderRequest, VerificationConfig, Verifier } from './types';

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
