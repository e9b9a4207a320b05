import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app';
import { expectError } from './helpers/http';
import { testInstructions } from './helpers/test-instructions';
import { createWebhookWorkflow, waitForDeliveries, waitForExecutions } from './helpers/workflows';

// SPEC.md "Answers: more modes": the response node's `continue`, `onTimeout: "accept"`, the
// statusUrl of every 202, and the trigger's `filter`.
describe('answers: more modes', () => {
  let t: TestApp;
  let origin: string;
  const post = (key: string) => t.app.agent().post(`/api/webhooks/${key}`);
  const keyOf = async (configKey: string) =>
    (await t.app.db.getRepository('workflows').findOne({ filter: { 'config.key': configKey } })).get('key');
  /** GETs a status URL (absolute, on this app's origin) through the test agent. */
  const status = (url: string) => t.app.agent().get(new URL(url).pathname);
  const until = async <T>(read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const value = await read();
      if (ok(value) || Date.now() > end) return value;
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  beforeAll(async () => {
    t = await createTestApp({ plugins: [testInstructions] });
    origin = await t.listen();
    await createWebhookWorkflow(t.app, {
      sync: true,
      config: { key: 'early' },
      nodes: [
        {
          type: 'webhook-response',
          config: { continue: true, status: 201, body: { accepted: '{{$context.data.n}}' } },
        },
        { type: 'test-sleep', config: { ms: 400 } },
        { type: 'output', config: { value: 'ran after the answer' } },
      ],
    });
    await createWebhookWorkflow(t.app, {
      sync: true,
      config: { key: 'slow-accept', timeoutMs: 200, onTimeout: 'accept' },
      nodes: [
        { type: 'test-sleep', config: { ms: 800 } },
        { type: 'webhook-response', config: { status: 200, body: { done: true } } },
      ],
    });
    await createWebhookWorkflow(t.app, {
      sync: true,
      config: { key: 'slow-error', timeoutMs: 200 },
      nodes: [{ type: 'test-sleep', config: { ms: 800 } }],
    });
    await createWebhookWorkflow(t.app, {
      config: { key: 'queued' },
      nodes: [{ type: 'output', config: { value: 1 } }],
    });
    await createWebhookWorkflow(t.app, {
      config: {
        key: 'pushes',
        filter: {
          $and: [{ 'headers.x-github-event': { $eq: 'push' } }, { 'data.ref': { $startsWith: 'refs/heads/' } }],
        },
      },
      nodes: [{ type: 'output', config: { value: '{{$context.data.ref}}' } }],
    });
  });
  afterAll(async () => {
    await t?.destroy();
  });

  describe('the Webhook response node with continue', () => {
    it('answers at once, and the nodes after it run', async () => {
      const started = Date.now();
      const res = await post('early').send({ n: 7 });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({ accepted: 7 });
      expect(Date.now() - started).toBeLessThan(5000);
      const [execution] = await waitForExecutions(t.app, await keyOf('early'), 1);
      expect(execution.get('status')).toBe(1);
      expect(execution.get('output')).toBe('ran after the answer');
      const [row] = await waitForDeliveries(t.app, { key: 'early', status: 201 });
      expect(row.status).toBe(201);
      expect(String(row.executionId)).toBe(String(execution.get('id')));
    });
  });

  describe('onTimeout', () => {
    it('"accept": 202 with a status URL; the run goes on and the URL tells how it ended', async () => {
      const res = await post('slow-accept').send({});
      expect(res.status).toBe(202);
      const { deliveryId, statusUrl } = res.body;
      expect(typeof deliveryId).toBe('string');
      expect(res.headers.location).toBe(statusUrl);
      expect(statusUrl, statusUrl).toMatch(/^https?:\/\//);
      expect(new URL(statusUrl).pathname).toMatch(/^\/api\/webhooks\/~status\/[A-Za-z0-9_-]{24}$/);
      const first = await status(statusUrl);
      expect(first.status).toBe(200);
      expect(first.body.deliveryId).toBe(deliveryId);
      expect(['queued', 'running']).toContain(first.body.status);
      const done = await until(
        () => status(statusUrl),
        (r) => r.body.status === 'succeeded' && r.body.response !== null,
      );
      expect(done.body).toMatchObject({
        deliveryId,
        status: 'succeeded',
        response: { status: 200, body: { done: true } },
      });
      expect(done.body.executionId).toBeTruthy();
    });

    it('"error" (the default): 504 TIMEOUT', async () => {
      expectError(await post('slow-error').send({}), 504, 'TIMEOUT');
    });

    it('an unknown onTimeout is refused when saved', async () => {
      const agent = t.app.agent();
      const res = await t.app
        .agent()
        .post('/api/workflows:create')
        .send({ type: 'webhook', title: 'bad', config: { key: 'bad-timeout', onTimeout: 'later' } });
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(JSON.stringify(res.body)).toContain('onTimeout');
      expect(agent).toBeTruthy();
    });
  });

  describe('statusUrl of an async 202', () => {
    it('is in the receipt and in Location; it follows the run; a wrong token is 404', async () => {
      const res = await post('queued').send({});
      expect(res.status).toBe(202);
      expect(Object.keys(res.body).sort()).toEqual(['deliveryId', 'statusUrl']);
      expect(res.headers.location).toBe(res.body.statusUrl);
      expect(res.body.statusUrl.startsWith(origin) || res.body.statusUrl.startsWith('http://127.0.0.1')).toBe(true);
      const done = await until(
        () => status(res.body.statusUrl),
        (r) => r.body.status === 'succeeded',
      );
      expect(done.body).toMatchObject({ deliveryId: res.body.deliveryId, status: 'succeeded', response: null });
      const token = new URL(res.body.statusUrl).pathname.split('/').pop() as string;
      expect(token.length * 6).toBeGreaterThanOrEqual(128);
      expectError(await status(res.body.statusUrl.replace(token, `${token.slice(0, -1)}x`)), 404, 'NOT_FOUND');
      expectError(await t.app.agent().get('/api/webhooks/~status/short'), 404, 'NOT_FOUND');
      expectError(await t.app.agent().post(new URL(res.body.statusUrl).pathname), 405, 'METHOD_NOT_ALLOWED');
      // The token itself is not in the log: only its hash.
      const [row] = await waitForDeliveries(t.app, { id: res.body.deliveryId });
      expect(JSON.stringify(row)).not.toContain(token);
      expect(row.statusTokenHash).toMatch(/^[0-9a-f]{64}$/);
    });
  });

  describe('filter', () => {
    it('a request that passes starts the workflow; one that does not gets 200 filtered, FILTERED, no execution', async () => {
      const push = await post('pushes').set('X-GitHub-Event', 'push').send({ ref: 'refs/heads/main' });
      expect(push.status).toBe(202);
      const issue = await post('pushes').set('X-GitHub-Event', 'issues').send({ ref: 'refs/heads/main' });
      expect(issue.status).toBe(200);
      expect(issue.body).toEqual({ deliveryId: issue.body.deliveryId, filtered: true });
      const tag = await post('pushes').set('X-GitHub-Event', 'push').send({ ref: 'refs/tags/v1' });
      expect(tag.body.filtered).toBe(true);
      const [row] = await waitForDeliveries(t.app, { id: issue.body.deliveryId });
      expect(row).toMatchObject({ status: 200, errorCode: 'FILTERED', executionId: null });
      const executions = await waitForExecutions(t.app, await keyOf('pushes'), 1);
      await new Promise((r) => setTimeout(r, 300));
      expect(await t.app.db.getRepository('executions').count({ filter: { key: await keyOf('pushes') } })).toBe(1);
      expect(executions[0].get('output')).toBe('refs/heads/main');
    });

    it('a filter with an unknown operator is refused when saved', async () => {
      const res = await t.app
        .agent()
        .post('/api/workflows:create')
        .send({ type: 'webhook', title: 'bad', config: { key: 'bad-filter', filter: { 'data.a': { $regex: '.*' } } } });
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body)).toContain('unknown operator $regex');
    });
  });
});
