import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import PluginWebhookTriggerServer from '../src/server';
import { DELIVERIES } from '../src/server/deliveries/collection';
import { createTestApp, type TestApp } from './helpers/app';
import { waitForExecutions } from './helpers/workflows';

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
    const rootUser = await users.findOne({ filter: { email: process.env.INIT_ROOT_EMAIL ?? 'admin@nocobase.com' } });
    await t.app.db.getRepository('roles').create({ values: { name: 'wf-viewer', snippets: ['ui.workflows'] } });
    const viewer = await users.create({
      values: { email: 'viewer@example.com', password: 'viewer-pass', roles: ['wf-viewer'] },
    });
    const member = await users.create({
      values: { email: 'member2@example.com', password: 'member-pass', roles: ['member'] },
    });
    agents.root = await t.app.agent().login(rootUser);
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
