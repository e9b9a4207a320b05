import type { IncomingHttpHeaders } from 'node:http';
import { verifyHmacHeader } from './hmac';
import type { VerificationConfig } from './types';

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
