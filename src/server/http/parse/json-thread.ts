/**
 * The JSON worker's entry (started by json-pool.ts, never imported by the app): decodes,
 * shape-checks and parses one body per message with the very function the request's thread
 * uses, and answers with the data or the WebhookError's code and message.
 */
import { parentPort } from 'node:worker_threads';
import { WebhookError } from '../../answer';
import { parseJsonBytes } from './json';
import type { JsonJob, JsonReply } from './json-pool';

const port = parentPort;
if (!port) throw new Error('json-thread runs as a worker thread only');

port.on('message', (job: JsonJob) => {
  let reply: JsonReply;
  try {
    reply = { id: job.id, ok: true, data: parseJsonBytes(job.bytes, job.charset, job.orText, job.limits) };
  } catch (error) {
    reply =
      error instanceof WebhookError
        ? { id: job.id, ok: false, code: error.code, message: error.message }
        : { id: job.id, ok: false, message: String((error as Error)?.message ?? error) };
  }
  port.postMessage(reply);
});
