import type { IncomingHttpHeaders } from 'node:http';
import contentType from 'content-type';
import { WebhookError } from '../../answer';
import { parseForm } from './form';
import { type JsonLimits, parseJsonBytes } from './json';
import type { JsonWorkerPool } from './json-pool';
import { type PendingUpload, parseMultipart } from './multipart';
import { decodeText } from './text';

export type { JsonLimits } from './json';
export { MAX_DEPTH } from './json';
export { JsonWorkerPool, type JsonWorkerSettings } from './json-pool';
export type { PendingUpload } from './multipart';

export interface ParsedBody {
  data: unknown;
  /** Uploads held in memory; written to disk only once the delivery is accepted. */
  files: PendingUpload[];
}

export interface ParseOptions {
  maxBytes: number;
  json: JsonLimits;
  /** Parses JSON bodies from its threshold up, off the event loop. */
  jsonPool?: JsonWorkerPool;
}

/** A JSON body (or one without Content-Type, `orText`): in a worker when large, else here. */
function parseJsonBody(raw: Buffer, charset: string | undefined, orText: boolean, options: ParseOptions) {
  const pool = options.jsonPool;
  if (pool?.wants(raw.length)) return pool.parse(raw, charset, orText, options.json);
  return parseJsonBytes(raw, charset, orText, options.json);
}

type Kind = 'empty' | 'json' | 'form' | 'multipart' | 'text' | 'binary' | 'unknown';

function classify(mediaType: string | null, raw: Buffer): Kind {
  if (raw.length === 0 && mediaType !== 'multipart/form-data') return 'empty';
  if (mediaType === null) return 'unknown';
  if (mediaType === 'application/json' || mediaType.endsWith('+json')) return 'json';
  if (mediaType === 'application/x-www-form-urlencoded') return 'form';
  if (mediaType === 'multipart/form-data') return 'multipart';
  if (mediaType.startsWith('text/') || mediaType === 'application/xml' || mediaType.endsWith('+xml')) return 'text';
  if (mediaType === 'application/octet-stream') return 'binary';
  throw new WebhookError('UNSUPPORTED_MEDIA_TYPE', `Content-Type ${mediaType} is not supported`);
}

/**
 * Turns the raw bytes into `$context.data` (and uploads) by Content-Type: JSON, urlencoded
 * forms, multipart with files, text and XML (as text), octet-stream (one upload), empty bodies,
 * and bodies without Content-Type (JSON if it parses, else text).
 */
export async function parseBody(raw: Buffer, headers: IncomingHttpHeaders, options: ParseOptions): Promise<ParsedBody> {
  let mediaType: string | null = null;
  let charset: string | undefined;
  if (headers['content-type']) {
    try {
      const parsed = contentType.parse(headers['content-type']);
      mediaType = parsed.type;
      charset = parsed.parameters.charset;
    } catch {
      throw new WebhookError('UNSUPPORTED_MEDIA_TYPE', 'Content-Type header is malformed');
    }
  }
  switch (classify(mediaType, raw)) {
    case 'empty':
      return { data: null, files: [] };
    case 'json':
      return { data: await parseJsonBody(raw, charset, false, options), files: [] };
    case 'form':
      return { data: parseForm(decodeText(raw, charset)), files: [] };
    case 'multipart':
      return parseMultipart(raw, headers, options.maxBytes);
    case 'text':
      return { data: decodeText(raw, charset), files: [] };
    case 'binary':
      return {
        data: null,
        files: [
          {
            field: 'body',
            name: 'body.bin',
            type: mediaType ?? 'application/octet-stream',
            size: raw.length,
            content: raw,
          },
        ],
      };
    case 'unknown':
      // JSON if it parses, else text; a JSON body past a limit is refused all the same.
      return { data: await parseJsonBody(raw, undefined, true, options), files: [] };
  }
}
