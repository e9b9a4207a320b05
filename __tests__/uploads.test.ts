import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import PluginWebhookTriggerServer from '../src/server';
import { UploadStore } from '../src/server/uploads';
import { createTestApp, type TestApp } from './helpers/app';
import { filesUnder } from './helpers/hostile-requests';
import { expectError } from './helpers/http';
import { testInstructions } from './helpers/test-instructions';
import { createWebhookWorkflow, waitForExecutions } from './helpers/workflows';

// SPEC.md "Secrets, files and records": uploads are kept only for accepted deliveries, and
// deleted when their execution ends (or with the delivery record); a rejected request leaves
// no file. Each case counts the files on disk after it, next to the accepted case.
describe('uploads', () => {
  let t: TestApp;
  let plugin: PluginWebhookTriggerServer;
  const post = (key: string) => t.app.agent().post(`/api/webhooks/${key}`);
  const onDisk = () => filesUnder(plugin.uploads.root);
  const readFilesJobs = async () =>
    (await t.app.db.getRepository('jobs').find({ sort: ['-id'] })).filter((j: any) => Array.isArray(j.get('result')));

  beforeAll(async () => {
    t = await createTestApp({ plugins: [testInstructions] });
    plugin = t.app.pm.get(PluginWebhookTriggerServer) as PluginWebhookTriggerServer;
    const readFiles = { type: 'test-read-files' };
    const output = { type: 'output', config: { value: { data: '{{$context.data}}', files: '{{$context.files}}' } } };
    await createWebhookWorkflow(t.app, { sync: true, config: { key: 'files' }, nodes: [readFiles, output] });
    await createWebhookWorkflow(t.app, { config: { key: 'files-async' }, nodes: [readFiles] });
    await createWebhookWorkflow(t.app, {
      sync: true,
      config: { key: 'files-schema', bodySchema: { type: 'object', required: ['id'] } },
      nodes: [readFiles],
    });
    await createWebhookWorkflow(t.app, {
      sync: true,
      config: { key: 'files-signed', verification: { type: 'github', secret: 's3' } },
      nodes: [readFiles],
    });
    await createWebhookWorkflow(t.app, {
      config: { key: 'files-once', idempotencyHeader: 'X-Delivery' },
      nodes: [readFiles],
    });
  });
  afterAll(async () => {
    await t?.destroy();
  });

  it('a sync run reads its uploads; they are gone once it ended', async () => {
    const res = await post('files')
      .field('title', 'report')
      .field('hasOwnProperty', 'kept as data')
      .attach('upload', Buffer.from('hello file'), { filename: 'hello.txt', contentType: 'text/plain' });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ title: 'report', hasOwnProperty: 'kept as data' });
    expect(res.body.files[0]).toMatchObject({ field: 'upload', name: 'hello.txt', type: 'text/plain', size: 10 });
    const [job] = await readFilesJobs();
    expect(job.get('result')).toEqual([Buffer.from('hello file').toString('base64')]);
    expect(onDisk()).toEqual([]);
  });

  it('an async delivery keeps its uploads until its execution ends', async () => {
    const bytes = Buffer.from([0, 1, 2, 255]);
    const res = await post('files-async').set('Content-Type', 'application/octet-stream').send(bytes);
    expect(res.status).toBe(202);
    const workflow = await t.app.db.getRepository('workflows').findOne({ filter: { 'config.key': 'files-async' } });
    await waitForExecutions(t.app, workflow.get('key'), 1);
    const [job] = await readFilesJobs();
    expect(job.get('result')).toEqual([bytes.toString('base64')]);
    await new Promise((r) => setTimeout(r, 100));
    expect(onDisk()).toEqual([]);
  });

  it('refused requests leave no file: schema, signature, parse error, too many files, repeated idempotency key', async () => {
    const file = Buffer.alloc(64 * 1024, 0x61);
    expectError(await post('files-schema').attach('f', file, 'a.bin'), 422, 'SCHEMA_VALIDATION_FAILED');
    expectError(
      await post('files-signed')
        .set('X-Hub-Signature-256', `sha256=${'0'.repeat(64)}`)
        .attach('f', file, 'a.bin'),
      401,
      'SIGNATURE_INVALID',
    );
    let many = t.app.agent().post('/api/webhooks/files');
    for (let i = 0; i < 101; i++) many = many.attach(`f${i}`, Buffer.from('x'), `f${i}.txt`);
    expectError(await many, 400, 'INVALID_BODY');
    const broken = '--B\r\nContent-Disposition: form-data; name="f"; filename="a"\r\n\r\nhello';
    expectError(
      await post('files').set('Content-Type', 'multipart/form-data; boundary=B').send(broken),
      400,
      'INVALID_BODY',
    );
    expect(onDisk()).toEqual([]);

    const first = await post('files-once').set('X-Delivery', 'd-1').attach('f', file, 'a.bin');
    const repeat = await post('files-once').set('X-Delivery', 'd-1').attach('f', file, 'a.bin');
    expect([first.status, repeat.status]).toEqual([202, 202]);
    expect(repeat.body).toEqual(first.body);
    const workflow = await t.app.db.getRepository('workflows').findOne({ filter: { 'config.key': 'files-once' } });
    const executions = await waitForExecutions(t.app, workflow.get('key'), 1);
    expect(executions).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 100));
    expect(onDisk()).toEqual([]);
  });

  it('a good signed multipart next to the forged one is accepted and read', async () => {
    const boundary = 'XyZ';
    const body = `--${boundary}\r\nContent-Disposition: form-data; name="f"; filename="n.txt"\r\nContent-Type: text/plain\r\n\r\nsigned file\r\n--${boundary}--\r\n`;
    const signature = `sha256=${createHmac('sha256', 's3').update(body).digest('hex')}`;
    const res = await post('files-signed')
      .set({ 'Content-Type': `multipart/form-data; boundary=${boundary}`, 'X-Hub-Signature-256': signature })
      .send(body);
    expect(res.status).toBe(200);
    const [job] = await readFilesJobs();
    expect(Buffer.from(job.get('result')[0], 'base64').toString()).toBe('signed file');
    expect(onDisk()).toEqual([]);
  });

  it('folders whose delivery left the log are swept', async () => {
    const orphan = path.join(plugin.uploads.root, 'some-workflow', 'no-such-delivery');
    mkdirSync(orphan, { recursive: true });
    writeFileSync(path.join(orphan, '0-a.txt'), 'left by a process that died');
    expect(onDisk()).toHaveLength(1);
    const removed = await plugin.uploads.sweep(async () => new Set(), 0);
    expect(removed).toBe(1);
    expect(onDisk()).toEqual([]);
  });
});

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
