import { getHeader } from './headers';
import { hmac, signatureInvalid } from './hmac';
import { firstSecret, matchesAnySignature } from './secrets';
import { checkTimestamp } from './timestamp';
import type { Signer, Verifier } from './types';

/** DingTalk accepts a robot's signed timestamp for one hour. */
const TOLERANCE_SECONDS = 3600;

/**
 * DingTalk outgoing robot: headers `timestamp` (ms) and `sign` = base64 HMAC-SHA256, keyed with the
 * AppSecret, of `{timestamp}\n{AppSecret}`. Older than one hour is TIMESTAMP_OUT_OF_TOLERANCE.
 */
export const verifyDingtalkRobot: Verifier = (config, headers, _raw, nowSeconds) => {
  const timestamp = getHeader(headers, 'timestamp');
  const sign = getHeader(headers, 'sign');
  if (timestamp === undefined || !/^\d{1,16}$/.test(timestamp) || sign === undefined) {
    throw signatureInvalid('Missing or malformed timestamp or sign header');
  }
  const ok = matchesAnySignature(config.secret, [sign], 'base64', (secret) =>
    hmac('sha256', secret, `${timestamp}\n${secret}`),
  );
  if (!ok) throw signatureInvalid('sign does not match the timestamp and the AppSecret');
  checkTimestamp(Math.floor(Number(timestamp) / 1000), nowSeconds, TOLERANCE_SECONDS);
};

/** Signs as the robot does: `timestamp` (ms) and `sign` = base64 HMAC-SHA256 of `{timestamp}\n{AppSecret}`. */
export const signDingtalkRobot: Signer = (config, _raw, nowSeconds) => {
  const secret = firstSecret(config.secret);
  const timestamp = String(nowSeconds * 1000);
  return { timestamp, sign: hmac('sha256', secret, `${timestamp}\n${secret}`).toString('base64') };
};
