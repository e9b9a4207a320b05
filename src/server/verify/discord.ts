import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import { ED25519_HEX } from '../../common/schemes';
import { getHeader } from './headers';
import { signatureInvalid } from './hmac';
import { jsonObject } from './request';
import { secretList } from './secrets';
import type { Handshake, Verifier } from './types';

const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const keys = new Map<string, KeyObject>();

/** An Ed25519 public key from its 32 raw bytes (cached). */
export function ed25519Key(raw: Buffer): KeyObject {
  const id = raw.toString('hex');
  let key = keys.get(id);
  if (!key) {
    key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
    if (keys.size > 1000) keys.clear();
    keys.set(id, key);
  }
  return key;
}

/** Discord interactions: `X-Signature-Ed25519` (hex) over `{X-Signature-Timestamp}{body}`, with the app's public key. */
export const verifyDiscord: Verifier = (config, headers, raw) => {
  const signature = getHeader(headers, 'X-Signature-Ed25519');
  const timestamp = getHeader(headers, 'X-Signature-Timestamp');
  if (signature === undefined || timestamp === undefined || !/^[0-9a-fA-F]{128}$/.test(signature)) {
    throw signatureInvalid('Missing or malformed X-Signature-Ed25519 or X-Signature-Timestamp header');
  }
  const message = Buffer.concat([Buffer.from(timestamp, 'utf8'), raw]);
  const sig = Buffer.from(signature, 'hex');
  const ok = secretList(config.publicKey)
    .filter((k) => ED25519_HEX.test(k))
    .some((k) => verify(null, message, ed25519Key(Buffer.from(k, 'hex')), sig));
  if (!ok) throw signatureInvalid('X-Signature-Ed25519 does not match the request body');
};

/** PING `{"type":1}` (signed, after `verifyDiscord`) -> `{"type":1}`. */
export const discordHandshake: Handshake = (_config, request) =>
  jsonObject(request.raw)?.type === 1 ? { status: 200, body: { type: 1 }, json: true } : null;
