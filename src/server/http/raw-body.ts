import type { IncomingMessage } from 'node:http';
import getRawBody from 'raw-body';
import { WebhookError } from '../answer';

/** The connection of a request whose body is not read to its end cannot carry another request. */
const CLOSE = { headers: { Connection: 'close' } };

function tooLarge(limit: number): WebhookError {
  return new WebhookError('PAYLOAD_TOO_LARGE', `Body is larger than the limit of ${limit} bytes`, CLOSE);
}

/**
 * Reads the exact bytes of the body (needed for signatures) within `limit`, and within
 * `timeoutMs`: a slower (or stalled) sender gets 408 and is cut off. A compressed body is
 * refused (415) before it is read: signatures are computed over the bytes as sent, and an
 * inflated body could be far larger than its limit. Every failure is a WebhookError; a refused
 * body's connection is closed after the answer.
 */
export async function readRawBody(req: IncomingMessage, limit: number, timeoutMs: number): Promise<Buffer> {
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
    throw new WebhookError(
      'UNSUPPORTED_MEDIA_TYPE',
      `Content-Encoding ${encoding} is not supported; send the body uncompressed`,
      CLOSE,
    );
  }
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) throw tooLarge(limit);
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        req.pause();
        reject(new WebhookError('REQUEST_TIMEOUT', `Body did not arrive within ${timeoutMs} ms`, CLOSE));
      }, timeoutMs);
      getRawBody(req, { limit, length: declared }, (error, body) => {
        clearTimeout(timer);
        if (error) reject(error);
        else resolve(body);
      });
    });
  } catch (error) {
    if (error instanceof WebhookError) throw error;
    const type = (error as { type?: string }).type;
    if (type === 'entity.too.large') throw tooLarge(limit);
    if (type === 'request.size.invalid') {
      throw new WebhookError('INVALID_BODY', 'Body length does not match Content-Length', CLOSE);
    }
    if (type === 'request.aborted')
      throw new WebhookError('INVALID_BODY', 'The client closed the request before its body ended', CLOSE);
    throw new WebhookError('INVALID_BODY', `Body could not be read: ${(error as Error).message}`, CLOSE);
  }
}
