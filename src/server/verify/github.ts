import type { IncomingHttpHeaders } from 'node:http';
import { hmac, verifyHmacHeader } from './hmac';
import { firstSecret } from './secrets';
import type { Signer, VerificationConfig } from './types';

/** GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`. */
export function verifyGithub(config: VerificationConfig, headers: IncomingHttpHeaders, raw: Buffer): void {
  verifyHmacHeader(headers, raw, {
    secret: config.secret,
    header: 'X-Hub-Signature-256',
    algorithm: 'sha256',
    encoding: 'hex',
    prefix: 'sha256=',
  });
}

/** Signs as GitHub does. */
export const signGithub: Signer = (config, raw) => ({
  'x-hub-signature-256': `sha256=${hmac('sha256', firstSecret(config.secret), raw).toString('hex')}`,
});
