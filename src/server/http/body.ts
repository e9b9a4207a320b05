import { createWriteStream, promises as fs, mkdirSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TextDecoder } from 'node:util';
import busboy from 'busboy';
import contentType from 'content-type';
import qs from 'qs';
import getRawBody from 'raw-body';
import sjson from 'secure-json-parse';
import { WebhookError } from './errors';

/** Deepest nesting a JSON or form body may have; deeper bodies are refused as INVALID_BODY. */
export const MAX_DEPTH = 64;
const MAX_PARTS = 1000;

/** One upload in `$context.files`: SPEC.md's name, type, size and where to read it. */
export interface UploadedFile {
  field: string;
  /** SPEC.md's `name` and `type`; `filename` and `mimeType` say the same, as busboy names them. */
  name: string;
  type: string;
  filename: string;
  mimeType: string;
  size: number;
  /** Absolute path of the stored copy on the server. */
  path: string;
}

function uploadedFile(field: string, filename: string, mimeType: string, size: number, target: string): UploadedFile {
  return { field, name: filename, type: mimeType, filename, mimeType, size, path: target };
}

export interface ParsedBody {
  data: unknown;
  files: UploadedFile[];
}

/**
 * Reads the exact bytes of the body (needed for signatures) within `limit`, and within
 * `timeoutMs`: a slower (or stalled) sender gets 408 and is cut off.
 */
export async function readRawBody(req: IncomingMessage, limit: number, timeoutMs: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    throw new WebhookError('PAYLOAD_TOO_LARGE', `Body is larger than the limit of ${limit} bytes`);
  }
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        req.pause();
        reject(
          new WebhookError('REQUEST_TIMEOUT', `Body did not arrive within ${timeoutMs} ms`, {
            headers: { Connection: 'close' },
          }),
        );
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
    if (type === 'entity.too.large') {
      throw new WebhookError('PAYLOAD_TOO_LARGE', `Body is larger than the limit of ${limit} bytes`);
    }
    if (type === 'request.size.invalid') {
      throw new WebhookError('INVALID_BODY', 'Body length does not match Content-Length');
    }
    throw new WebhookError('INVALID_BODY', `Body could not be read: ${(error as Error).message}`);
  }
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

const NUL_MESSAGE = 'Body contains NUL characters, which cannot be stored as text';

function hasNul(value: unknown): boolean {
  const stack = [value];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (v.includes('\0')) return true;
    } else if (v && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        if (k.includes('\0')) return true;
        stack.push(child);
      }
    }
  }
  return false;
}

function decodeText(raw: Buffer, charset = 'utf-8'): string {
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(charset, { fatal: true });
  } catch {
    throw new WebhookError('UNSUPPORTED_MEDIA_TYPE', `Charset ${charset} is not supported`);
  }
  let text: string;
  try {
    text = decoder.decode(raw);
  } catch {
    throw new WebhookError('INVALID_BODY', `Body is not valid ${charset}`);
  }
  // Text with NUL is binary in disguise, and PostgreSQL cannot store it in text or JSON.
  if (text.includes('\0')) throw new WebhookError('INVALID_BODY', NUL_MESSAGE);
  return text;
}

function depthOf(value: unknown, limit: number): number {
  // Iterative walk: a hostile body must not overflow the stack.
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length) {
    const [v, d] = stack.pop() as [unknown, number];
    if (d > max) max = d;
    if (max > limit) return max;
    if (v && typeof v === 'object') {
      for (const child of Object.values(v)) if (child && typeof child === 'object') stack.push([child, d + 1]);
    }
  }
  return max;
}

function parseJson(text: string): unknown {
  let data: unknown;
  try {
    data = sjson.parse(text, undefined, { protoAction: 'remove', constructorAction: 'remove' });
  } catch (error) {
    throw new WebhookError('INVALID_BODY', `Body is not valid JSON: ${(error as Error).message}`);
  }
  if (depthOf(data, MAX_DEPTH) > MAX_DEPTH) {
    throw new WebhookError('INVALID_BODY', `Body is nested deeper than ${MAX_DEPTH} levels`);
  }
  if (text.includes('\\u0000') && hasNul(data)) throw new WebhookError('INVALID_BODY', NUL_MESSAGE);
  return data;
}

function parseForm(text: string): Record<string, unknown> {
  const data = qs.parse(text, { depth: 5, parameterLimit: MAX_PARTS, allowPrototypes: false, arrayLimit: 100 });
  if (text.includes('%00') && hasNul(data)) throw new WebhookError('INVALID_BODY', NUL_MESSAGE);
  return data;
}

async function parseMultipart(
  raw: Buffer,
  headers: IncomingMessage['headers'],
  uploadDir: string,
  maxBytes: number,
): Promise<ParsedBody> {
  const fields: Record<string, unknown> = {};
  const files: UploadedFile[] = [];
  const writes: Promise<void>[] = [];
  let bb: busboy.Busboy;
  try {
    bb = busboy({
      headers,
      limits: { parts: MAX_PARTS, fields: MAX_PARTS, files: 100, fileSize: maxBytes },
    });
  } catch (error) {
    throw new WebhookError('INVALID_BODY', `Multipart body is malformed: ${(error as Error).message}`);
  }
  let failure: WebhookError | null = null;
  const fail = (message: string) => {
    failure ??= new WebhookError('INVALID_BODY', message);
  };
  bb.on('field', (name, value) => {
    if (name === '__proto__' || name === 'constructor' || name === 'prototype') return;
    if (name.includes('\0') || value.includes('\0')) fail(NUL_MESSAGE);
    const prev = fields[name];
    if (prev === undefined) fields[name] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else fields[name] = [prev, value];
  });
  bb.on('file', (field, stream, info) => {
    const index = files.length;
    const safeName = path
      .basename(info.filename || `file-${index}`)
      .replace(/[^\w.-]/g, '_')
      .slice(-100);
    const target = path.join(uploadDir, `${index}-${safeName}`);
    const file = uploadedFile(field, info.filename ?? '', info.mimeType, 0, target);
    files.push(file);
    mkdirSync(uploadDir, { recursive: true });
    writes.push(pipeline(stream, createWriteStream(target)));
    stream.on('data', (chunk: Buffer) => {
      file.size += chunk.length;
    });
  });
  bb.on('partsLimit', () => fail(`Multipart body has more than ${MAX_PARTS} parts`));
  bb.on('filesLimit', () => fail('Multipart body has too many files'));
  bb.on('fieldsLimit', () => fail(`Multipart body has more than ${MAX_PARTS} fields`));
  try {
    await pipeline(Readable.from([raw]), bb);
    await Promise.all(writes);
  } catch (error) {
    throw failure ?? new WebhookError('INVALID_BODY', `Multipart body is malformed: ${(error as Error).message}`);
  }
  if (failure) throw failure;
  return { data: fields, files };
}

/**
 * Turns the raw bytes into `$context.data` (and `$context.files`) by Content-Type:
 * JSON, urlencoded forms, multipart with files, text and XML (as text), octet-stream
 * (stored as a file), empty bodies, and bodies without Content-Type (JSON if it parses, else text).
 */
export async function parseBody(
  raw: Buffer,
  headers: IncomingMessage['headers'],
  options: { uploadDir: () => string; maxBytes: number },
): Promise<ParsedBody> {
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
      return { data: parseJson(decodeText(raw, charset)), files: [] };
    case 'form':
      return { data: parseForm(decodeText(raw, charset)), files: [] };
    case 'multipart':
      return parseMultipart(raw, headers, options.uploadDir(), options.maxBytes);
    case 'text':
      return { data: decodeText(raw, charset), files: [] };
    case 'binary': {
      const dir = options.uploadDir();
      await fs.mkdir(dir, { recursive: true });
      const target = path.join(dir, 'body.bin');
      await fs.writeFile(target, raw);
      return {
        data: null,
        files: [uploadedFile('body', 'body.bin', mediaType ?? 'application/octet-stream', raw.length, target)],
      };
    }
    case 'unknown': {
      const text = decodeText(raw);
      try {
        return { data: parseJson(text), files: [] };
      } catch (error) {
        if ((error as WebhookError).message.includes('nested deeper')) throw error;
        return { data: text, files: [] };
      }
    }
  }
}
