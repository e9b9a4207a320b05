import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { AES_KEY_PATTERN } from '../../common/schemes';
import { signatureInvalid } from './hmac';
import { invalidBody, unauthorized } from './request';
import { findSigningSecret, secretList } from './secrets';

/**
 * The message crypto that WeCom (企业微信) and DingTalk (钉钉) share: an `EncodingAESKey` of 43
 * base64 characters is the AES-256 key (base64 of it plus "="), the IV its first 16 bytes; the
 * plaintext is 16 random bytes, the message length (4 bytes, big-endian), the message and the
 * receiver's id (CorpID, AppKey, SuiteKey…), PKCS#7-padded to 32 bytes; the signature is the
 * hex SHA-1 of the sorted token, timestamp, nonce and ciphertext.
 */

export function aesKeyOf(encodingAESKey: string): Buffer | null {
  if (!AES_KEY_PATTERN.test(encodingAESKey)) return null;
  const key = Buffer.from(`${encodingAESKey}=`, 'base64');
  return key.length === 32 ? key : null;
}

export function msgSignature(token: string, timestamp: string, nonce: string, encrypt: string): Buffer {
  return createHash('sha1').update([token, timestamp, nonce, encrypt].sort().join('')).digest();
}

export interface SignedQuery {
  signature: string;
  timestamp: string;
  nonce: string;
}

/** The signature, timestamp and nonce of the query; missing ones are `401 SIGNATURE_INVALID`. */
export function signedQuery(signature?: string, timestamp?: string, nonce?: string): SignedQuery {
  if (signature === undefined || timestamp === undefined || nonce === undefined) {
    throw signatureInvalid('Missing msg_signature, timestamp or nonce query parameter');
  }
  return { signature, timestamp, nonce };
}

/**
 * Checks `signature` (hex) against every token of a rotation; returns the token that signed.
 * Throws `401 SIGNATURE_INVALID` otherwise.
 */
export function checkMsgSignature(
  tokens: unknown,
  { signature, timestamp, nonce }: SignedQuery,
  encrypt: string,
): string {
  const token = findSigningSecret(tokens, [signature], 'hex', (t) => msgSignature(t, timestamp, nonce, encrypt));
  if (token === undefined) throw signatureInvalid('msg_signature does not match the token and the message');
  return token;
}

function unpad(data: Buffer): Buffer | null {
  const pad = data[data.length - 1];
  if (pad < 1 || pad > 32 || pad > data.length) return null;
  for (let i = data.length - pad; i < data.length; i++) if (data[i] !== pad) return null;
  return data.subarray(0, data.length - pad);
}

function decryptWith(key: Buffer, ciphertext: Buffer): { message: Buffer; receiveId: string } | null {
  try {
    const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
    decipher.setAutoPadding(false);
    const plain = unpad(Buffer.concat([decipher.update(ciphertext), decipher.final()]));
    if (!plain || plain.length < 20) return null;
    const length = plain.readUInt32BE(16);
    if (20 + length > plain.length) return null;
    return { message: plain.subarray(20, 20 + length), receiveId: plain.subarray(20 + length).toString('utf8') };
  } catch {
    return null;
  }
}

/**
 * Opens `encrypt` (base64) with the first key of a rotation that decrypts it for `receiveId`
 * (checked when given). An envelope no key opens is `400 INVALID_BODY`; one opened but meant
 * for another receiver is `401 UNAUTHORIZED`.
 */
export function openEnvelope(
  aesKeys: unknown,
  encrypt: string,
  receiveId: string | undefined,
): { message: Buffer; aesKey: string } {
  const ciphertext = Buffer.from(encrypt, 'base64');
  if (ciphertext.length === 0 || ciphertext.length % 16 !== 0) throw invalidBody('The encrypted message is malformed');
  let otherReceiver = false;
  for (const aesKey of secretList(aesKeys)) {
    const key = aesKeyOf(aesKey);
    const opened = key && decryptWith(key, ciphertext);
    if (!opened) continue;
    if (receiveId === undefined || opened.receiveId === receiveId) return { message: opened.message, aesKey };
    otherReceiver = true;
  }
  if (otherReceiver) throw unauthorized('The message is encrypted for another receiver id');
  throw invalidBody('The encrypted message cannot be decrypted with the configured key');
}

/** Encrypts `message` for `receiveId` (the answer DingTalk expects, and the test vectors). */
export function sealEnvelope(encodingAESKey: string, message: string, receiveId: string): string {
  const key = aesKeyOf(encodingAESKey);
  if (!key) throw new Error('invalid EncodingAESKey');
  const body = Buffer.from(message, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length, 0);
  const plain = Buffer.concat([randomBytes(16), length, body, Buffer.from(receiveId, 'utf8')]);
  const pad = 32 - (plain.length % 32);
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(Buffer.concat([plain, Buffer.alloc(pad, pad)])), cipher.final()]).toString(
    'base64',
  );
}
