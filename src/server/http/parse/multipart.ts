import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import { WebhookError } from '../../answer';
import { MAX_PARTS } from './form';
import { NUL_MESSAGE } from './text';

/** Most files one multipart body may carry. */
export const MAX_FILES = 100;

/** An upload read from the body, held in memory until the delivery is accepted (see uploads.ts). */
export interface PendingUpload {
  field: string;
  name: string;
  type: string;
  size: number;
  content: Buffer;
}

/**
 * A multipart body, already read whole within its limit: fields become `$context.data` (a name
 * sent twice becomes a list), files stay in memory. Nothing touches the disk here: a request
 * that is refused later (signature, schema, idempotency) leaves nothing behind.
 */
export async function parseMultipart(
  raw: Buffer,
  headers: IncomingHttpHeaders,
  maxBytes: number,
): Promise<{ data: Record<string, unknown>; files: PendingUpload[] }> {
  // No prototype: a field may be named `hasOwnProperty` or `toString` and stays plain data.
  const fields: Record<string, unknown> = Object.create(null);
  const files: PendingUpload[] = [];
  let bb: busboy.Busboy;
  try {
    bb = busboy({ headers, limits: { parts: MAX_PARTS, fields: MAX_PARTS, files: MAX_FILES, fileSize: maxBytes } });
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
    const chunks: Buffer[] = [];
    let size = 0;
    // A truncated body makes the file stream fail too: the error is the whole body's (below).
    stream.on('error', () => undefined);
    stream.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
    });
    stream.on('limit', () => fail(`A file is larger than the limit of ${maxBytes} bytes`));
    stream.on('end', () => {
      files.push({ field, name: info.filename ?? '', type: info.mimeType, size, content: Buffer.concat(chunks, size) });
    });
  });
  bb.on('partsLimit', () => fail(`Multipart body has more than ${MAX_PARTS} parts`));
  bb.on('filesLimit', () => fail(`Multipart body has more than ${MAX_FILES} files`));
  bb.on('fieldsLimit', () => fail(`Multipart body has more than ${MAX_PARTS} fields`));
  try {
    await pipeline(Readable.from([raw]), bb);
  } catch (error) {
    throw failure ?? new WebhookError('INVALID_BODY', `Multipart body is malformed: ${(error as Error).message}`);
  }
  if (failure) throw failure;
  return { data: { ...fields }, files };
}
