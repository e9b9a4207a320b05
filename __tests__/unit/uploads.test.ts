import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UploadStore } from '../../src/server/uploads';
import { filesUnder } from '../helpers/hostile-requests';

// The store behind `$context.files`: its caps per webhook and in all, and that it removes only
// files under its own folder.
describe('UploadStore caps', () => {
  const pending = (size: number) => ({
    field: 'f',
    name: 'a.bin',
    type: 'application/octet-stream',
    size,
    content: Buffer.alloc(size),
  });

  it('refuses past the per-webhook cap and the global cap, and counts removals back', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'uploads-'));
    const store = new UploadStore(root, { maxBytes: 3000, maxBytesPerWebhook: 2000 });
    await store.store('wa', 'd1', [pending(1500)]);
    await expect(store.store('wa', 'd2', [pending(600)])).rejects.toMatchObject({ status: 503 });
    await store.store('wb', 'd3', [pending(1400)]);
    await expect(store.store('wc', 'd4', [pending(200)])).rejects.toMatchObject({ status: 503 });
    expect(filesUnder(root)).toHaveLength(2);
    await store.removeDir('wa', 'd1');
    expect(store.bytesKept()).toBe(1400);
    await store.store('wc', 'd4', [pending(200)]);
    expect(filesUnder(root)).toHaveLength(2);
  });

  it('counts what is already on disk when it starts, and never deletes outside its root', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'uploads-'));
    mkdirSync(path.join(root, 'wa', 'd0'), { recursive: true });
    writeFileSync(path.join(root, 'wa', 'd0', '0-x'), Buffer.alloc(1900));
    const store = new UploadStore(root, { maxBytes: 10_000, maxBytesPerWebhook: 2000 });
    await expect(store.store('wa', 'd1', [pending(200)])).rejects.toMatchObject({ status: 503 });
    const outside = mkdtempSync(path.join(os.tmpdir(), 'outside-'));
    writeFileSync(path.join(outside, 'keep'), 'x');
    await store.removeFiles([{ path: path.join(outside, 'keep') }, { path: '/etc/passwd' }]);
    expect(filesUnder(outside)).toHaveLength(1);
  });
});
