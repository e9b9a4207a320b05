import type { IncomingHttpHeaders } from 'node:http';
import { hmac, verifyHmacHeader } from './hmac';
import { firstSecret } from './secrets';
import type { Signer, VerificationConfig } from './types';

/** Shopify: `X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256 of the body>`. */
export function verifyShopify(config: VerificationConfig, headers: IncomingHttpHeaders, raw: Buffer): void {
  verifyHmacHeader(headers, raw, {
    secret: config.secret,
    header: 'X-Shopify-Hmac-Sha256',
    algorithm: 'sha256',
    encoding: 'base64',
    prefix: '',
  });
}

/** Signs as Shopify does. */
export const signShopify: Signer = (config, raw) => ({
  'x-shopify-hmac-sha256': hmac('sha256', firstSecret(config.secret), raw).toString('base64'),
});
