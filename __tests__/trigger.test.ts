import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app';
import { expectError } from './helpers/http';

// SPEC.md `key` and `methods` rows, and the trigger's life through the normal workflow APIs.
describe('webhook trigger configuration and lifecycle', () => {
  let t: TestApp;
  const api = () => t.app.agent();
  const hook = (key: string) => api().post(`/api/webhooks/${key}`).send({ x: 1 });

  const createWorkflow = async (values: Record<string, unknown>) =>
    api()
      .post('/api/workflows:create')
      .send({ title: 'wf', type: 'webhook', sync: true, ...values });
  const addOutput = async (workflowId: number, value: unknown) => {
    const res = await api()
      .post(`/api/workflows/${workflowId}/nodes:create`)
      .send({ type: 'output', config: { value } });
    expect(res.status).toBe(200);
  };

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t?.destroy();
  });

  describe('validation', () => {
    it.each([
      [{ key: 'has space' }, /key/i],
      [{ key: 'x'.repeat(129) }, /key/i],
      [{ key: 'ok', methods: ['FETCH'] }, /methods/i],
      [{ key: 'ok', methods: [] }, /methods/i],
      [{ key: 'ok', maxBodyBytes: -1 }, /maxBodyBytes/],
      [{ key: 'ok', timeoutMs: 'soon' }, /timeoutMs/],
      [{ key: 'ok', verification: { type: 'magic' } }, /verification/i],
      [{ key: 'ok', path: '/a/:' }, /path/i],
      [{ key: 'ok', bodySchema: { type: 'nonsense' } }, /schema/i],
      [{ key: 'ok', ipAllowlist: ['10.0.0.300'] }, /ipAllowlist/],
    ])('refuses %j with a clear message', async (config, message) => {
      const res = await createWorkflow({ config });
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body.errors)).toMatch(message);
    });

    it('accepts a full valid configuration', async () => {
      const res = await createWorkflow({
        config: {
          key: 'valid_Key-1',
          path: '/orders/:id',
          methods: ['post', 'PUT'],
          maxBodyBytes: 2048,
          timeoutMs: 1000,
          bodySchema: { type: 'object' },
          ipAllowlist: ['10.0.0.0/8', '::1'],
          response: { status: 200, body: { ok: true } },
        },
      });
      expect(res.status).toBe(200);
    });

    it('generates a random key when none is given', async () => {
      const res = await createWorkflow({ config: {} });
      expect(res.status).toBe(200);
      const workflow = await t.app.db.getRepository('workflows').findOne({ filterByTk: res.body.data.id });
      expect(workflow.get('config').key).toMatch(/^[A-Za-z0-9_-]{16}$/);
    });

    it('refuses to enable a second workflow with a key already served', async () => {
      const first = await createWorkflow({ config: { key: 'taken' }, enabled: true });
      expect(first.status).toBe(200);
      const second = await createWorkflow({ config: { key: 'taken' } });
      expect(second.status).toBe(200);
      const enable = await api()
        .post(`/api/workflows:update?filterByTk=${second.body.data.id}`)
        .send({ enabled: true });
      expect(enable.status).toBe(400);
      expect(JSON.stringify(enable.body)).toMatch(/already used/);
      const direct = await createWorkflow({ config: { key: 'taken' }, enabled: true });
      expect(direct.status).toBe(400);
    });
  });

  describe('key index through enable, disable, update, delete and versions', () => {
    it('follows the workflow from creation to deletion', async () => {
      const created = await createWorkflow({ config: { key: 'life' } });
      const id = created.body.data.id;
      await addOutput(id, 'v1');
      expectError(await hook('life'), 404, 'NOT_FOUND');

      await api().post(`/api/workflows:update?filterByTk=${id}`).send({ enabled: true });
      // A key change of an enabled, never executed workflow moves its URL at once.
      const renamed = await api()
        .post(`/api/workflows:update?filterByTk=${id}`)
        .send({ config: { key: 'life-renamed' } });
      expect(renamed.status).toBe(200);
      expectError(await hook('life'), 404, 'NOT_FOUND');
      const on = await hook('life-renamed');
      expect(on.status).toBe(200);
      expect(on.body).toBe('v1');

      await api().post(`/api/workflows:update?filterByTk=${id}`).send({ enabled: false });
      expectError(await hook('life-renamed'), 404, 'NOT_FOUND');

      await api().post(`/api/workflows:update?filterByTk=${id}`).send({ enabled: true });
      expect((await hook('life-renamed')).status).toBe(200);

      await api().post(`/api/workflows:destroy?filterByTk=${id}`);
      expectError(await hook('life-renamed'), 404, 'NOT_FOUND');
    });

    it('only the enabled version of a workflow answers', async () => {
      const created = await createWorkflow({ config: { key: 'versions' }, enabled: true });
      const v1 = created.body.data;
      await addOutput(v1.id, 'from v1');
      expect((await hook('versions')).body).toBe('from v1');

      const revision = await api().post(`/api/workflows:revision?filterByTk=${v1.id}&filter[key]=${v1.key}`).send({});
      expect(revision.status).toBe(200);
      const v2 = revision.body.data;
      expect(v2.config.key).toBe('versions');
      const nodes = await t.app.db.getRepository('flow_nodes').find({ filter: { workflowId: v2.id } });
      await nodes[0].update({ config: { value: 'from v2' } });

      // v2 is not enabled yet: v1 still answers.
      expect((await hook('versions')).body).toBe('from v1');
      const enable = await api().post(`/api/workflows:update?filterByTk=${v2.id}`).send({ enabled: true });
      expect(enable.status).toBe(200);
      expect((await hook('versions')).body).toBe('from v2');
      const stillV1 = await t.app.db.getRepository('workflows').findOne({ filterByTk: v1.id });
      expect(stillV1.get('enabled')).toBe(false);
    });

    it('a duplicated workflow (not a version) gets a new key', async () => {
      const created = await createWorkflow({ config: { key: 'original' }, enabled: true });
      const copy = await api().post(`/api/workflows:revision?filterByTk=${created.body.data.id}`).send({});
      expect(copy.status).toBe(200);
      expect(copy.body.data.config.key).not.toBe('original');
      expect(copy.body.data.config.key).toMatch(/^[A-Za-z0-9_-]+$/);
    });
  });
});
