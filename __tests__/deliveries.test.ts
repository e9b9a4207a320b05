import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import PluginWebhookTriggerServer from '../src/server';
import { DELIVERIES } from '../src/server/deliveries/collection';
import { sweepDeliveries } from '../src/server/deliveries/retention';
import { MASK } from '../src/server/secrets';
import { createTestApp, type TestApp } from './helpers/app';
import { expectError } from './helpers/http';
import { createWebhookWorkflow, waitForDeliveries, waitForExecutions } from './helpers/workflows';

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
    root = await users.findOne({ filter: { email: process.env.INIT_ROOT_EMAIL ?? 'admin@nocobase.com' } });
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
      const deleted = await sweepDeliveries(t.app.db, { maxAgeDays: 30, maxRows: 15 });
      const after = await Model.count();
      expect(deleted).toBe(before - after);
      expect(after).toBe(15);
      expect(await Model.count({ where: { id: 'old-0' } })).toBe(0);
    });
  });
});
