import { createHmac } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DELIVERIES, SECRET_MASK as MASK } from '../../src/common/constants';
import PluginWebhookTriggerServer from '../../src/server';

import { createTestApp, rootUser, type TestApp } from '../helpers/app';
import { filesUnder } from '../helpers/hostile-requests';
import { expectError } from '../helpers/http';
import { testInstructions } from '../helpers/test-instructions';
import { createWebhookWorkflow, waitForDeliveries, waitForExecutions } from '../helpers/workflows';

// SPEC.md "Secrets, files and records": secrets never read back, uploads, the delivery log.

// ---------------------------------------------------------------------------------------------
// SPEC.md "Secrets, files and records": no API answer, for any role, with any fields, except,
// appends or resource, carries a secret in clear; executions never hold a credential the plugin
// checked; no log carries a secret; the delivery log is written by the plugin alone.
const SECRETS = {
  github: 'gh-secret-current-7f3a',
  githubRotated: 'gh-secret-rotated-91bd',
  password: 'basic-pass-4c2e',
  customToken: 'custom-token-b81d',
  bearer: 'bearer-token-e55a',
};
const ALL = Object.values(SECRETS);

const QUERIES = [
  '',
  'fields=config',
  'fields[]=config&fields[]=id',
  'except[]=type',
  'except[]=type&except[]=title',
  'appends[]=workflow',
  'appends[]=workflows',
  'appends[]=node.workflow',
  'appends[]=nodes.workflow',
  'appends[]=executions.workflow',
  'appends[]=execution.workflow',
  'appends[]=jobs.execution.jobs.node.workflow',
  'appends[]=execution.jobs.node.workflow',
  'appends[]=workflows.executions.jobs.node.workflow',
  'appends[]=workflow.executions.jobs.execution.workflow',
  'appends[]=categories.workflows.executions.workflow',
];

describe('secrets stay secret', () => {
  let t: TestApp;
  const ids: Record<string, number> = {};
  let executionId: string;
  let categoryId: number;
  const logged: string[] = [];
  const agents: Record<string, any> = {};

  const post = (key: string, headers: Record<string, string>, body = '{"n":1}') =>
    t.app
      .agent()
      .post(`/api/webhooks/${key}`)
      .set({ 'Content-Type': 'application/json', ...headers })
      .send(body);

  beforeAll(async () => {
    process.env.LOGGER_LEVEL = 'debug';
    t = await createTestApp({ acl: true });
    // Everything the host's loggers are asked to write, whatever their transports do with it.
    for (const logger of [t.app.requestLogger, t.app.logger] as any[]) {
      for (const level of ['error', 'warn', 'info', 'debug', 'log']) {
        const original = logger[level].bind(logger);
        logger[level] = (...args: unknown[]) => {
          logged.push(JSON.stringify(args, (_k, v) => (typeof v === 'bigint' ? String(v) : v)));
          return original(...args);
        };
      }
    }
    const users = t.app.db.getRepository('users');
    const root = await rootUser(t.app);
    await t.app.db.getRepository('roles').create({ values: { name: 'wf-viewer', snippets: ['ui.workflows'] } });
    const viewer = await users.create({
      values: { email: 'viewer@example.com', password: 'viewer-pass', roles: ['wf-viewer'] },
    });
    const member = await users.create({
      values: { email: 'member2@example.com', password: 'member-pass', roles: ['member'] },
    });
    agents.root = await t.app.agent().login(root);
    agents.viewer = await t.app.agent().login(viewer, 'wf-viewer');
    agents.member = await t.app.agent().login(member);
    agents.anonymous = t.app.agent();

    // Created and edited through the API, as an administrator does: the request logger sees it.
    const create = async (key: string, verification: Record<string, unknown>) => {
      const res = await agents.root.post('/api/workflows:create').send({
        title: key,
        type: 'webhook',
        sync: true,
        config: { key, verification },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      ids[key] = res.body.data.id;
      await agents.root
        .post(`/api/workflows/${ids[key]}/nodes:create`)
        .send({ type: 'output', config: { value: '{{$context.headers}}' } });
      const enabled = await agents.root.post(`/api/workflows:update?filterByTk=${ids[key]}`).send({ enabled: true });
      expect(enabled.status, JSON.stringify(enabled.body)).toBe(200);
    };
    await create('gh', { type: 'github', secret: [SECRETS.github, SECRETS.githubRotated] });
    await create('basic', { type: 'basic', username: 'hook-user', password: SECRETS.password });
    await create('custom', { type: 'token', header: 'X-Custom-Token', token: SECRETS.customToken });
    await create('bearer', { type: 'token', token: SECRETS.bearer });

    const sign = (secret: string, body: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
    expect((await post('gh', { 'X-Hub-Signature-256': sign(SECRETS.githubRotated, '{"n":1}') })).status).toBe(200);
    const basic = Buffer.from(`hook-user:${SECRETS.password}`).toString('base64');
    expect((await post('basic', { Authorization: `Basic ${basic}` })).status).toBe(200);
    expect((await post('custom', { 'X-Custom-Token': SECRETS.customToken })).status).toBe(200);
    expect((await post('bearer', { Authorization: `Bearer ${SECRETS.bearer}` })).status).toBe(200);
    const executions = await waitForExecutions(
      t.app,
      (await t.app.db.getRepository('workflows').findOne({ filterByTk: ids.basic })).get('key'),
      1,
    );
    executionId = String(executions[0].id);

    const category = await t.app.db.getRepository('workflowCategories').create({ values: { title: 'hooks' } });
    categoryId = category.get('id');
    await (t.app.db.getRepository('workflows.categories', ids.gh) as any).add(categoryId);
  });
  afterAll(async () => {
    process.env.LOGGER_LEVEL = 'error';
    await t?.destroy();
  });

  it('no answer carries a secret: every resource, query option and role', async () => {
    const id = ids.gh;
    const resources = [
      'workflows:list',
      `workflows:get?filterByTk=${id}`,
      'executions:list',
      `executions:get?filterByTk=${executionId}`,
      'jobs:list',
      'flow_nodes:list',
      'workflowCategories:list',
      `workflowCategories/${categoryId}/workflows:list`,
      'workflowCategoryRelations:list',
      `workflows/${id}/nodes:list`,
      `workflows/${id}/executions:list`,
      `workflows/${id}/categories:list`,
      `executions/${executionId}/jobs:list`,
      'workflowStats:list',
      'workflowVersionStats:list',
      `${DELIVERIES}:list`,
    ];
    const leaks: string[] = [];
    let answered = 0;
    for (const [role, agent] of Object.entries(agents)) {
      for (const resource of resources) {
        for (const query of QUERIES) {
          const url = `/api/${resource}${query ? (resource.includes('?') ? '&' : '?') + query : ''}`;
          const res = await agent.get(url);
          if (res.status === 200) answered++;
          const text = JSON.stringify(res.body);
          for (const secret of ALL) if (text.includes(secret)) leaks.push(`${role} ${url}: ${secret}`);
          if (text.includes(Buffer.from(`hook-user:${SECRETS.password}`).toString('base64'))) {
            leaks.push(`${role} ${url}: Basic credentials`);
          }
        }
      }
    }
    expect(leaks).toEqual([]);
    // The search read real answers (root reads everything; the viewer reads workflows).
    expect(answered).toBeGreaterThan(resources.length * QUERIES.length * 0.5);
  });

  it('secrets are stored sealed, and the UI still sees that one is saved (the mask)', async () => {
    const stored = await t.app.db.getRepository('workflows').findOne({ filterByTk: ids.gh });
    const secret = stored.get('config').verification.secret;
    expect(secret).toHaveLength(2);
    for (const s of secret) expect(s).toMatch(/^enc:v1:/);
    const plugin = t.app.pm.get(PluginWebhookTriggerServer) as PluginWebhookTriggerServer;
    expect(secret.map((s: string) => plugin.cipher.open(s))).toEqual([SECRETS.github, SECRETS.githubRotated]);
    const got = await agents.root.get(`/api/workflows:get?filterByTk=${ids.gh}&fields=config`);
    expect(got.body.data.config.verification.secret).toEqual(['********', '********']);
  });

  it('the secrets of the new senders (a WeCom token and EncodingAESKey) are sealed, masked, and survive a save with masks', async () => {
    const token = 'wecom-token-sealed-1';
    const encodingAESKey = 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C';
    const res = await agents.root.post('/api/workflows:create').send({
      title: 'wecom',
      type: 'webhook',
      config: { key: 'wecom-sealed', verification: { type: 'wecom', token, encodingAESKey } },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const id = res.body.data.id;
    const stored = (await t.app.db.getRepository('workflows').findOne({ filterByTk: id })).get('config');
    expect(stored.verification.token).toMatch(/^enc:v1:/);
    expect(stored.verification.encodingAESKey).toMatch(/^enc:v1:/);
    const got = await agents.root.get(`/api/workflows:get?filterByTk=${id}`);
    expect(got.body.data.config.verification).toMatchObject({ token: '********', encodingAESKey: '********' });
    expect(JSON.stringify(got.body)).not.toContain(encodingAESKey);
    // The UI sends the masks back with an unrelated change: the stored secrets stay.
    const saved = await agents.root
      .post(`/api/workflows:update?filterByTk=${id}`)
      .send({ enabled: true, config: { ...got.body.data.config, methods: ['POST'] } });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    const after = (await t.app.db.getRepository('workflows').findOne({ filterByTk: id })).get('config');
    const plugin = t.app.pm.get(PluginWebhookTriggerServer) as PluginWebhookTriggerServer;
    expect(plugin.cipher.open(after.verification.encodingAESKey)).toBe(encodingAESKey);
    expect(plugin.cipher.open(after.verification.token)).toBe(token);
  });

  it('executions hold no credential the plugin checked; signature headers stay', async () => {
    const rows = await t.app.db.getRepository('executions').find();
    const text = JSON.stringify(rows.map((r: any) => r.get('context')));
    for (const secret of ALL) expect(text).not.toContain(secret);
    const byKey = async (key: string) => {
      const wf = await t.app.db.getRepository('workflows').findOne({ filterByTk: ids[key] });
      const [execution] = await waitForExecutions(t.app, wf.get('key'), 1);
      return execution.get('context').headers;
    };
    expect((await byKey('basic')).authorization).toBe('[redacted]');
    expect((await byKey('custom'))['x-custom-token']).toBe('[redacted]');
    expect((await byKey('bearer')).authorization).toBe('[redacted]');
    expect((await byKey('gh'))['x-hub-signature-256']).toMatch(/^sha256=/);
  });

  it('no log line carries a secret, the host request logger included', async () => {
    // A save that sends the secrets again, and one the server refuses.
    await agents.root.post(`/api/workflows:update?filterByTk=${ids.custom}`).send({
      config: {
        key: 'custom',
        verification: { type: 'token', header: 'X-Custom-Token', token: SECRETS.customToken },
      },
    });
    await agents.root.post('/api/workflows:create').send({
      type: 'webhook',
      title: 'bad',
      config: { key: 'bad key!', verification: { type: 'basic', username: 'u', password: SECRETS.password } },
    });
    expect(logged.length).toBeGreaterThan(10);
    expect(logged.some((line) => line.includes('workflows') && line.includes('values'))).toBe(true);
    const leaking = logged.filter((line) => ALL.some((s) => line.includes(s)));
    expect(leaking.map((l) => l.slice(0, 300))).toEqual([]);
  });

  it('the delivery log is written by the plugin alone: create, update and destroy refused for every role', async () => {
    const [row] = (await agents.root.get(`/api/${DELIVERIES}:list`)).body.data;
    for (const agent of Object.values(agents)) {
      for (const [action, values] of [
        [`${DELIVERIES}:create`, { key: 'basic', executionId }],
        [`${DELIVERIES}:update?filterByTk=${row.id}`, { executionId }],
        [`${DELIVERIES}:destroy?filterByTk=${row.id}`, {}],
        [`${DELIVERIES}:firstOrCreate`, { values: { key: 'basic', executionId } }],
        [`${DELIVERIES}:updateOrCreate`, { values: { key: 'basic', executionId } }],
      ] as const) {
        const res = await agent.post(`/api/${action}`).send(values);
        expect([401, 403, 405], `${action}: ${res.status}`).toContain(res.status);
      }
    }
    expect((await agents.root.get(`/api/${DELIVERIES}:get?filterByTk=${row.id}`)).status).toBe(200);
    expect(
      await t.app.db.getRepository(DELIVERIES).count({ filter: { executionId, replayOf: null } }),
    ).toBeLessThanOrEqual(1);
  });
});

// ---------------------------------------------------------------------------------------------
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

// ---------------------------------------------------------------------------------------------
const sign = (secret: string, body: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

// SPEC.md: "Every request, accepted or rejected, leaves a delivery record … that an administrator
// can read, filter and replay", and secrets are never sent back; with NocoBase's ACL on.
describe('delivery log and access control', () => {
  let t: TestApp;
  let root: any;
  let member: any;
  const body = JSON.stringify({ action: 'opened', filler: 'x'.repeat(3000) });

  beforeAll(async () => {
    process.env.WEBHOOK_LOG_BODY_BYTES = '1024';
    t = await createTestApp({ acl: true });
    await createWebhookWorkflow(t.app, {
      config: { key: 'logged', verification: { type: 'github', secret: 'top-secret' } },
      nodes: [{ type: 'output', config: { value: '{{$context.data.action}}' } }],
    });
    await createWebhookWorkflow(t.app, {
      sync: true,
      config: { key: 'logged-sync' },
      nodes: [{ type: 'output', config: { value: '{{$context.data.action}}' } }],
    });
    const users = t.app.db.getRepository('users');
    root = await rootUser(t.app);
    member = await users.create({
      values: { email: 'member@example.com', password: 'member-pass', roles: ['member'] },
    });
  });
  afterAll(async () => {
    delete process.env.WEBHOOK_LOG_BODY_BYTES;
    await t?.destroy();
  });

  const send = (headers: Record<string, string>, key = 'logged', payload = body) =>
    t.app
      .agent()
      .post(`/api/webhooks/${key}?source=test`)
      .set({ 'Content-Type': 'application/json', ...headers })
      .send(payload);

  it('records an accepted delivery with redacted headers and a cut body', async () => {
    const res = await send({ 'X-Hub-Signature-256': sign('top-secret', body), Cookie: 'sid=abc', 'X-Trace': 't1' });
    expect(res.status).toBe(202);
    const [row] = await waitForDeliveries(t.app, { id: res.body.deliveryId });
    expect(row).toMatchObject({
      key: 'logged',
      method: 'POST',
      path: '/api/webhooks/logged?source=test',
      ip: '127.0.0.1',
      status: 202,
      errorCode: null,
      bodyTruncated: true,
      bodyBytes: body.length,
    });
    expect(row.body).toHaveLength(1024);
    expect(row.durationMs).toBeGreaterThanOrEqual(0);
    expect(row.headers['x-hub-signature-256']).toBe('[redacted]');
    expect(row.headers.cookie).toBe('[redacted]');
    expect(row.headers['x-trace']).toBe('t1');
    const [execution] = await waitForExecutions(t.app, row.workflowKey, 1);
    expect(String(row.executionId)).toBe(String(execution.id));
  });

  it('records rejected requests with their error code and no execution', async () => {
    expectError(
      await send({ 'X-Hub-Signature-256': sign('guess', body), Authorization: 'Bearer abc' }),
      401,
      'SIGNATURE_INVALID',
    );
    expectError(await send({}, 'no-such-key'), 404, 'NOT_FOUND');
    const [forged] = await waitForDeliveries(t.app, { errorCode: 'SIGNATURE_INVALID' });
    expect(forged).toMatchObject({ status: 401, key: 'logged', executionId: null });
    expect(forged.headers.authorization).toBe('[redacted]');
    const [unknown] = await waitForDeliveries(t.app, { errorCode: 'NOT_FOUND' });
    expect(unknown).toMatchObject({ status: 404, key: 'no-such-key', workflowId: null });
  });

  describe('through the resource API', () => {
    it('a replayed sync delivery can be read as soon as the replay answers (the UI opens it at once)', async () => {
      const agent = await t.app.agent().login(root);
      const first = await send({}, 'logged-sync');
      expect(first.status).toBe(200);
      const [original] = await waitForDeliveries(t.app, { key: 'logged-sync', status: 200 });
      for (let i = 0; i < 3; i++) {
        const replay = await agent.post(`/api/${DELIVERIES}:replay?filterByTk=${original.id}`);
        expect(replay.status).toBe(200);
        expect(replay.body.data.status).toBe(200);
        // No waiting: the row is there when the answer is.
        const copy = await agent.resource(DELIVERIES).get({ filterByTk: replay.body.data.deliveryId });
        expect(copy.body.data).toMatchObject({ replayOf: original.id, status: 200 });
      }
    });

    it('administrators list, filter and replay deliveries', async () => {
      const agent = await t.app.agent().login(root);
      const list = await agent.resource(DELIVERIES).list({ filter: { status: 202 }, sort: ['-createdAt'] });
      expect(list.status).toBe(200);
      expect(list.body.data.length).toBeGreaterThanOrEqual(1);
      expect(list.body.data.every((d: any) => d.status === 202)).toBe(true);

      const original = list.body.data[0];
      const replay = await agent.post(`/api/${DELIVERIES}:replay?filterByTk=${original.id}`);
      expect(replay.status).toBe(200);
      expect(replay.body.data.status).toBe(202);
      const [copy] = await waitForDeliveries(t.app, { replayOf: original.id });
      expect(copy.id).toBe(replay.body.data.deliveryId);
      const executions = await waitForExecutions(t.app, original.workflowKey, 2);
      expect(executions).toHaveLength(2);
      expect(executions.map((e: any) => e.get('output'))).toEqual(['opened', 'opened']);

      const rejected = (await agent.resource(DELIVERIES).list({ filter: { errorCode: 'SIGNATURE_INVALID' } })).body
        .data[0];
      const refused = await agent.post(`/api/${DELIVERIES}:replay?filterByTk=${rejected.id}`);
      expect(refused.status).toBe(400);
    });

    it('nobody else reads deliveries: not anonymous callers, not members', async () => {
      const anonymous = await t.app.agent().get(`/api/${DELIVERIES}:list`);
      expect([401, 403]).toContain(anonymous.status);
      const memberAgent = await t.app.agent().login(member);
      expect([401, 403]).toContain((await memberAgent.get(`/api/${DELIVERIES}:list`)).status);
      expect([401, 403]).toContain((await memberAgent.post(`/api/${DELIVERIES}:replay?filterByTk=x`)).status);
    });
  });

  describe('nothing else opens', () => {
    it('an anonymous caller reaches the webhook URLs and nothing more', async () => {
      const anon = t.app.agent();
      expect((await send({ 'X-Hub-Signature-256': sign('top-secret', body) })).status).toBe(202);
      for (const path of [
        '/api/workflows:list',
        '/api/executions:list',
        '/api/flow_nodes:list',
        `/api/${DELIVERIES}:get?filterByTk=1`,
      ]) {
        expect([401, 403], path).toContain((await anon.get(path)).status);
      }
      expect([401, 403]).toContain((await anon.post('/api/workflows:create').send({ type: 'webhook' })).status);
    });

    it('secrets come back masked, and saving the mask keeps the secret', async () => {
      const agent = await t.app.agent().login(root);
      const listed = await agent.resource('workflows').list({ filter: { type: 'webhook' } });
      const wf = listed.body.data.find((w: any) => w.config.key === 'logged');
      expect(wf.config.verification).toEqual({ type: 'github', secret: MASK });
      expect(JSON.stringify(listed.body)).not.toContain('top-secret');
      const got = await agent.resource('workflows').get({ filterByTk: wf.id });
      expect(JSON.stringify(got.body)).not.toContain('top-secret');
      const executions = await agent.resource('executions').list({ appends: ['workflow'] });
      expect(JSON.stringify(executions.body)).not.toContain('top-secret');

      // A new version edited in the UI sends the mask back: the secret stays as it was.
      const revision = await agent.post(`/api/workflows:revision?filterByTk=${wf.id}&filter[key]=${wf.key}`).send({});
      expect(JSON.stringify(revision.body)).not.toContain('top-secret');
      const update = await agent
        .post(`/api/workflows:update?filterByTk=${revision.body.data.id}`)
        .send({ config: { ...wf.config, verification: { type: 'github', secret: MASK } }, enabled: true });
      expect(update.status).toBe(200);
      expect(JSON.stringify(update.body)).not.toContain('top-secret');
      expect((await send({ 'X-Hub-Signature-256': sign('top-secret', body) })).status).toBe(202);
      // Stored sealed: only this app's key opens it.
      const stored = await t.app.db.getRepository('workflows').findOne({ filterByTk: revision.body.data.id });
      const sealed = stored.get('config').verification.secret;
      expect(sealed).toMatch(/^enc:v1:/);
      const plugin = t.app.pm.get(PluginWebhookTriggerServer) as PluginWebhookTriggerServer;
      expect(plugin.cipher.open(sealed)).toBe('top-secret');
    });

    it('a mask with no stored secret behind it is refused', async () => {
      const agent = await t.app.agent().login(root);
      const res = await agent.post('/api/workflows:create').send({
        type: 'webhook',
        title: 'masked',
        config: { key: 'masked', verification: { type: 'github', secret: MASK } },
      });
      expect(res.status).toBe(400);
    });
  });

  describe('retention', () => {
    it('deletes rows past the age limit and beyond the row limit', async () => {
      const Model = t.app.db.getModel(DELIVERIES);
      const base = {
        key: 'old',
        method: 'POST',
        path: '/x',
        ip: '1.1.1.1',
        headers: {},
        bodyTruncated: false,
        bodyBytes: 0,
      };
      await Model.bulkCreate(
        Array.from({ length: 30 }, (_, i) => ({
          ...base,
          id: `old-${i}`,
          createdAt: new Date(Date.now() - (i < 10 ? 90 : 1) * 86_400_000 - i * 1000),
        })),
      );
      const before = await Model.count();
      const plugin = t.app.pm.get(PluginWebhookTriggerServer) as PluginWebhookTriggerServer;
      const { deleted } = await plugin.upkeep({ maxAgeDays: 30, maxRows: 15 });
      const after = await Model.count();
      expect(deleted).toBe(before - after);
      expect(after).toBe(15);
      expect(await Model.count({ where: { id: 'old-0' } })).toBe(0);
    });
  });
});
