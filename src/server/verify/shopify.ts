import type { IncomingHttpHeaders } from 'node:http';
import { verifyHmacHeader } from './hmac';
import type { VerificationConfig } from './types';

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
