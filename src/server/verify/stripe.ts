import type { IncomingHttpHeaders } from 'node:http';
import { getHeader } from './headers';
import { hmac, signatureInvalid } from './hmac';
import { firstSecret, matchesAnySignature } from './secrets';
import { checkTimestamp, parseTimestamp, toleranceOf } from './timestamp';
import type { Signer, VerificationConfig } from './types';

/**
 * Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…]`, each v1 an HMAC-SHA256 of `{t}.{body}` keyed
 * with the whole `whsec_…` string. Any v1 may match (Stripe sends several while its secret rotates).
 */
export function verifyStripe(
  config: VerificationConfig,
  headers: IncomingHttpHeaders,
  raw: Buffer,
  nowSeconds: number,
): void {
  const value = getHeader(headers, 'Stripe-Signature');
  if (value === undefined) throw signatureInvalid('Missing Stripe-Signature header');
  let t: string | undefined;
  const signatures: string[] = [];
  for (const item of value.split(',')) {
    const at = item.indexOf('=');
    if (at < 0) continue;
    const key = item.slice(0, at).trim();
    const part = item.slice(at + 1).trim();
    if (key === 't') t ??= part;
    else if (key === 'v1') signatures.push(part);
  }
  const timestamp = parseTimestamp(t);
  if (timestamp === undefined || signatures.length === 0) {
    throw signatureInvalid('Stripe-Signature header needs a timestamp t= and at least one v1= signature');
  }
  if (!matchesAnySignature(config.secret, signatures, 'hex', (secret) => hmac('sha256', secret, `${t}.`, raw))) {
    throw signatureInvalid('Stripe-Signature does not match the request body');
  }
  checkTimestamp(timestamp, nowSeconds, toleranceOf(config));
}

/** Signs as Stripe does: `t={now},v1={hex HMAC of "{t}.{body}"}`. */
export const signStripe: Signer = (config, raw, nowSeconds) => ({
  'stripe-signature': `t=${nowSeconds},v1=${hmac('sha256', firstSecret(config.secret), `${nowSeconds}.`, raw).toString('hex')}`,
});
