import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Database } from '@nocobase/database';
import { WebhookError } from './answer';
import type { PendingUpload } from './http/parse';

/** One upload in `$context.files`: SPEC.md's name, type, size and where to read it. */
export interface StoredUpload {
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

export interface UploadCaps {
  /** Bytes kept for all webhooks together (WEBHOOK_UPLOADS_MAX_BYTES). */
  maxBytes: number;
  /** Bytes kept for one webhook workflow, all its versions (WEBHOOK_UPLOADS_MAX_BYTES_PER_WEBHOOK). */
  maxBytesPerWebhook: number;
}

const SAFE_SEGMENT = /^[A-Za-z0-9_-]{1,128}$/;

async function sizeOfTree(dir: string): Promise<number> {
  let total = 0;
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += await sizeOfTree(full);
    else
      total += await fs.stat(full).then(
        (s) => s.size,
        () => 0,
      );
  }
  return total;
}

/**
 * The files of accepted deliveries, under `{root}/{workflow key}/{delivery id}/`. Uploads are
 * parsed into memory and written here only once a delivery is accepted (verified, parsed,
 * schema-checked, not a repeat); they are removed when the delivery turns out not to start an
 * execution, when its execution ends, and with its delivery-log row. The bytes kept are capped
 * per webhook and in all; the counts are this process's view (started from what is on disk).
 */
export class UploadStore {
  private used = 0;
  private readonly usedByWebhook = new Map<string, number>();
  private loaded: Promise<void> | null = null;

  constructor(
    readonly root: string,
    private readonly caps: UploadCaps,
  ) {}

  /** Counts what is already on disk (once, lazily). */
  private load(): Promise<void> {
    this.loaded ??= (async () => {
      const webhooks = await fs.readdir(this.root, { withFileTypes: true }).catch(() => []);
      for (const entry of webhooks) {
        if (!entry.isDirectory()) continue;
        const bytes = await sizeOfTree(path.join(this.root, entry.name));
        this.usedByWebhook.set(entry.name, bytes);
        this.used += bytes;
      }
    })();
    return this.loaded;
  }

  private count(webhook: string, bytes: number): void {
    this.used = Math.max(0, this.used + bytes);
    this.usedByWebhook.set(webhook, Math.max(0, (this.usedByWebhook.get(webhook) ?? 0) + bytes));
  }

  /** Bytes this process counts as kept: in all, or for one webhook. */
  bytesKept(webhook?: string): number {
    return webhook === undefined ? this.used : (this.usedByWebhook.get(webhook) ?? 0);
  }

  /** The folder of one delivery's files. */
  dirOf(webhook: string, deliveryId: string): string {
    if (!SAFE_SEGMENT.test(webhook) || !SAFE_SEGMENT.test(deliveryId)) throw new Error('unsafe upload folder name');
    return path.join(this.root, webhook, deliveryId);
  }

  /** Writes an accepted delivery's uploads; refused (503) when a cap would be passed. */
  async store(webhook: string, deliveryId: string, files: PendingUpload[]): Promise<StoredUpload[]> {
    if (files.length === 0) return [];
    await this.load();
    const bytes = files.reduce((sum, f) => sum + f.size, 0);
    if (this.used + bytes > this.caps.maxBytes) {
      throw new WebhookError('UNAVAILABLE', 'Upload storage is full (WEBHOOK_UPLOADS_MAX_BYTES); retry later', {
        headers: { 'Retry-After': '60' },
      });
    }
    if ((this.usedByWebhook.get(webhook) ?? 0) + bytes > this.caps.maxBytesPerWebhook) {
      throw new WebhookError(
        'UNAVAILABLE',
        'Upload storage of this webhook is full (WEBHOOK_UPLOADS_MAX_BYTES_PER_WEBHOOK); retry later',
        { headers: { 'Retry-After': '60' } },
      );
    }
    const dir = this.dirOf(webhook, deliveryId);
    this.count(webhook, bytes);
    try {
      await fs.mkdir(dir, { recursive: true });
      return await Promise.all(
        files.map(async (file, index) => {
          const safeName = path
            .basename(file.name || `file-${index}`)
            .replace(/[^\w.-]/g, '_')
            .slice(-100);
          const target = path.join(dir, `${index}-${safeName}`);
          await fs.writeFile(target, file.content);
          return {
            field: file.field,
            name: file.name,
            type: file.type,
            filename: file.name,
            mimeType: file.type,
            size: file.size,
            path: target,
          };
        }),
      );
    } catch (error) {
      await this.removeDir(webhook, deliveryId);
      throw error;
    }
  }

  /** Removes one delivery's folder (nothing when there is none). */
  async removeDir(webhook: string, deliveryId: string): Promise<void> {
    let dir: string;
    try {
      dir = this.dirOf(webhook, deliveryId);
    } catch {
      return;
    }
    const bytes = await sizeOfTree(dir);
    await fs.rm(dir, { recursive: true, force: true });
    if (bytes) this.count(webhook, -bytes);
  }

  /**
   * Removes the folders that hold these files (an execution's `$context.files`). Paths outside
   * this store are ignored: a context is data, and data does not choose what gets deleted.
   */
  async removeFiles(files: unknown): Promise<void> {
    if (!Array.isArray(files)) return;
    const folders = new Set<string>();
    for (const file of files) {
      const p = (file as { path?: unknown })?.path;
      if (typeof p !== 'string') continue;
      const relative = path.relative(this.root, path.dirname(p));
      const parts = relative.split(path.sep);
      if (parts.length === 2 && parts.every((s) => SAFE_SEGMENT.test(s))) folders.add(relative);
    }
    for (const folder of folders) {
      const [webhook, deliveryId] = folder.split(path.sep);
      await this.removeDir(webhook, deliveryId);
    }
  }

  /**
   * Removes the folders of deliveries that are no longer in the log (swept by retention, or
   * left by a process that died between writing files and committing the delivery).
   * `kept` answers which of the given delivery ids still have a row.
   */
  async sweep(kept: (deliveryIds: string[]) => Promise<Set<string>>, olderThanMs = 60_000): Promise<number> {
    let removed = 0;
    const webhooks = await fs.readdir(this.root, { withFileTypes: true }).catch(() => []);
    for (const webhook of webhooks) {
      if (!webhook.isDirectory()) continue;
      const deliveries = await fs.readdir(path.join(this.root, webhook.name), { withFileTypes: true }).catch(() => []);
      const old: string[] = [];
      for (const d of deliveries) {
        if (!d.isDirectory()) continue;
        const stat = await fs.stat(path.join(this.root, webhook.name, d.name)).catch(() => null);
        if (stat && Date.now() - stat.mtimeMs > olderThanMs) old.push(d.name);
      }
      for (let i = 0; i < old.length; i += 500) {
        const chunk = old.slice(i, i + 500);
        const still = await kept(chunk);
        for (const id of chunk) {
          if (still.has(id)) continue;
          await this.removeDir(webhook.name, id);
          removed++;
        }
      }
    }
    return removed;
  }
}

/** An execution's uploads go when it ends (or is deleted): hooks on the engine's executions. */
export function releaseUploadsWithExecutions(db: Database, store: UploadStore, warn: (message: string) => void): void {
  db.on('executions.afterUpdate', (execution: any) => {
    const files = execution.get('context')?.files;
    const status = execution.get('status');
    if (Array.isArray(files) && files.length && status !== null && status !== 0) {
      return store.removeFiles(files).catch((error) => warn(`upload removal failed: ${error.message}`));
    }
  });
  db.on('executions.afterDestroy', (execution: any) =>
    store.removeFiles(execution.get('context')?.files).catch(() => undefined),
  );
}
