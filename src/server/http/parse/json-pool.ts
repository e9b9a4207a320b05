import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { type ErrorCode, WebhookError } from '../../answer';
import type { JsonLimits } from './json';

export interface JsonWorkerSettings {
  /** JSON bodies of at least this many bytes are parsed in a worker thread. */
  thresholdBytes: number;
  /** Worker threads at most, each created when first needed; 0 parses every body in the request's thread. */
  workers: number;
  /** A parse that takes longer is answered 503 and its worker replaced. */
  timeoutMs: number;
}

/** One body for the worker (json-thread.ts): its bytes, charset, and whether non-JSON is text. */
export interface JsonJob {
  id: number;
  bytes: Uint8Array;
  charset: string | undefined;
  orText: boolean;
  limits: JsonLimits;
}

export type JsonReply =
  | { id: number; ok: true; data: unknown }
  | { id: number; ok: false; code?: ErrorCode; message: string };

interface Pending {
  job: JsonJob;
  resolve: (data: unknown) => void;
  reject: (error: Error) => void;
}

interface Thread {
  worker: Worker;
  pending: Pending | null;
  timer: NodeJS.Timeout | null;
}

const unavailable = (message: string) => new WebhookError('UNAVAILABLE', message);

/**
 * The worker that compiles json-thread: its `.js` sibling in dist/server; under tsx or vitest
 * (this module is TypeScript source) the `.ts` one, through tsx's require hook, in a worker that
 * inherits none of the parent's loader flags.
 */
function startWorker(): Worker {
  const ext = path.extname(__filename);
  const entry = path.join(__dirname, `json-thread${ext === '.ts' ? '.ts' : '.js'}`);
  if (ext !== '.ts') return new Worker(entry);
  const tsx = require.resolve('tsx/cjs');
  return new Worker(`require(${JSON.stringify(tsx)});require(${JSON.stringify(entry)});`, {
    eval: true,
    execArgv: [],
  });
}

/**
 * Large JSON bodies are decoded, shape-checked and parsed off the event loop: a 20 MB body costs
 * ~330 ms of parsing, during which every other request (the admin API too) would wait. A small
 * pool of worker threads, created lazily and unref'd, one body at a time each, the rest queued.
 * A worker that dies or overruns `timeoutMs` answers its body 503 UNAVAILABLE and is replaced by
 * the next body that needs one. The data and the errors are those of the in-thread parse: both
 * run `parseJsonBytes`.
 */
export class JsonWorkerPool {
  private readonly threads: Thread[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;

  constructor(
    readonly settings: JsonWorkerSettings,
    private readonly log: (message: string, meta?: object) => void = () => undefined,
    private readonly start: () => Worker = startWorker,
  ) {}

  /** Whether a body of this many bytes is parsed by a worker. */
  wants(bytes: number): boolean {
    return this.settings.workers > 0 && bytes >= this.settings.thresholdBytes;
  }

  /** `parseJsonBytes(raw, charset, orText, limits)` in a worker. */
  parse(raw: Uint8Array, charset: string | undefined, orText: boolean, limits: JsonLimits): Promise<unknown> {
    // A view into a larger buffer would be copied whole: send its own bytes only.
    const bytes = raw.byteOffset === 0 && raw.byteLength === raw.buffer.byteLength ? raw : new Uint8Array(raw);
    return new Promise((resolve, reject) => {
      this.queue.push({ job: { id: this.nextId++, bytes, charset, orText, limits }, resolve, reject });
      this.pump();
    });
  }

  /** The live workers (for tests and diagnostics). */
  workers(): Worker[] {
    return this.threads.map((t) => t.worker);
  }

  /** Stops every worker; bodies still waiting are answered 503. A later body starts a new worker. */
  async close(): Promise<void> {
    for (const pending of this.queue.splice(0)) pending.reject(unavailable('The application is stopping; retry later'));
    const threads = this.threads.splice(0);
    for (const thread of threads) this.finish(thread, unavailable('The application is stopping; retry later'));
    await Promise.all(threads.map((t) => t.worker.terminate().catch(() => undefined)));
  }

  private pump(): void {
    while (this.queue.length) {
      let thread = this.threads.find((t) => !t.pending);
      if (!thread) {
        if (this.threads.length >= Math.max(1, this.settings.workers)) return;
        thread = this.spawn();
      }
      const pending = this.queue.shift() as Pending;
      const current = thread;
      current.pending = pending;
      current.timer = setTimeout(() => {
        this.log(`JSON worker overran ${this.settings.timeoutMs} ms on a ${pending.job.bytes.length}-byte body`);
        this.retire(current, unavailable(`Body parsing took longer than ${this.settings.timeoutMs} ms; retry later`));
      }, this.settings.timeoutMs);
      try {
        current.worker.postMessage(pending.job);
      } catch (error) {
        this.retire(current, unavailable('The body could not be handed to the JSON worker; retry later'));
        this.log(`JSON worker: ${(error as Error).message}`, { error });
      }
    }
  }

  private spawn(): Thread {
    const worker = this.start();
    worker.unref();
    const thread: Thread = { worker, pending: null, timer: null };
    this.threads.push(thread);
    worker.on('message', (reply: JsonReply) => {
      const pending = thread.pending;
      if (!pending || reply.id !== pending.job.id) return;
      this.finish(thread);
      if (reply.ok) pending.resolve(reply.data);
      else if (reply.code) pending.reject(new WebhookError(reply.code, reply.message));
      else pending.reject(new Error(reply.message));
      this.pump();
    });
    worker.on('error', (error) => this.log(`JSON worker failed: ${error.message}`, { error }));
    worker.on('exit', (code) => {
      if (!this.threads.includes(thread)) return;
      this.log(`JSON worker exited (code ${code}); a new one takes the next body`);
      this.retire(thread, unavailable('The JSON worker stopped while parsing the body; retry later'));
    });
    return thread;
  }

  /** Settles the thread's body (with `error` if given) and clears its timer. */
  private finish(thread: Thread, error?: Error): void {
    if (thread.timer) clearTimeout(thread.timer);
    thread.timer = null;
    const pending = thread.pending;
    thread.pending = null;
    if (error && pending) pending.reject(error);
  }

  /** Takes a worker out of the pool for good: its body gets `error`, the queue a new worker. */
  private retire(thread: Thread, error: Error): void {
    const at = this.threads.indexOf(thread);
    if (at !== -1) this.threads.splice(at, 1);
    this.finish(thread, error);
    thread.worker.terminate().catch(() => undefined);
    this.pump();
  }
}
