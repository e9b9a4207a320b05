import type { ChildProcess } from 'node:child_process';

/** A workflow the bench needs: a webhook trigger plus a chain of nodes. */
export interface WorkflowSpec {
  name: string;
  sync: boolean;
  config: Record<string, unknown>;
  nodes: Array<{ type: string; config?: Record<string, unknown> }>;
}

export interface CreatedWorkflow {
  id: string;
  key: string;
  webhookKey: string;
}

export interface ExecStats {
  total: number;
  queueing: number;
  started: number;
  resolved: number;
  failed: number;
}

export interface EngineRunResult {
  runs: number;
  errors: number;
  /** Calls still unanswered when the run gave up waiting (counted in errors too). */
  stuck: number;
  rate: number;
  p50: number;
  p99: number;
  firstError?: string;
}

/** Messages the parent sends to a child over the IPC channel, each answered with the same id. */
export interface Request {
  id: number;
  cmd: string;
  args?: any;
}

export interface Reply {
  id: number;
  ok: boolean;
  result?: any;
  error?: string;
}

/** Calls into a child process over its IPC channel, one promise per request, each with a deadline. */
export class Rpc {
  private next = 1;
  private readonly waiting = new Map<
    number,
    { resolve: (v: any) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }
  >();

  constructor(
    private readonly child: ChildProcess,
    private readonly name: string,
  ) {
    child.on('message', (message: any) => {
      if (!message || typeof message.id !== 'number') return;
      const pending = this.waiting.get(message.id);
      if (!pending) return;
      this.waiting.delete(message.id);
      clearTimeout(pending.timer);
      if (message.ok) pending.resolve(message.result);
      else pending.reject(new Error(`${this.name}: ${message.error}`));
    });
    child.once('exit', (code, signal) => {
      for (const [id, pending] of this.waiting) {
        clearTimeout(pending.timer);
        pending.reject(new Error(`${this.name} exited (${code ?? signal}) while handling request ${id}`));
      }
      this.waiting.clear();
    });
  }

  call<T = any>(cmd: string, args?: unknown, timeoutMs = 120_000): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`${this.name}: "${cmd}" did not answer within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      this.waiting.set(id, { resolve, reject, timer });
      if (!this.child.connected) {
        clearTimeout(timer);
        this.waiting.delete(id);
        reject(new Error(`${this.name} is not running`));
        return;
      }
      this.child.send({ id, cmd, args } satisfies Request);
    });
  }
}

/** Serves `Request`s arriving on this process's IPC channel with the given handlers. */
export function serveRpc(handlers: Record<string, (args: any) => Promise<unknown> | unknown>): void {
  process.on('message', async (message: any) => {
    if (!message || typeof message.id !== 'number') return;
    const handler = handlers[message.cmd];
    let reply: Reply;
    try {
      if (!handler) throw new Error(`unknown command ${message.cmd}`);
      reply = { id: message.id, ok: true, result: await handler(message.args) };
    } catch (error) {
      reply = { id: message.id, ok: false, error: (error as Error)?.stack ?? String(error) };
    }
    if (process.connected) process.send?.(reply);
  });
}

export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (!sorted.length) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}
