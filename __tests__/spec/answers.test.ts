import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import PluginWebhookTriggerServer from '../../src/server';
import { createTestApp, type TestApp } from '../helpers/app';
import { expectError } from '../helpers/http';
import { testInstructions } from '../helpers/test-instructions';
import { createWebhookWorkflow, type NodeSpec, waitForDeliveries, waitForExecutions } from '../helpers/workflows';

// SPEC.md "The response" and "Answers: more modes": sync, async, the error table (one describe
// per row), the response node's `continue`, `onTimeout`, the status URL and the filter.

// ---------------------------------------------------------------------------------------------
// SPEC.md "The response", sync: the Webhook response node, the Output node, the receipt,
// WORKFLOW_FAILED and TIMEOUT.
describe('sync webhooks', () => {
  let t: TestApp;
  const post = (key: string) => t.app.agent().post(`/api/webhooks/${key}`);

  beforeAll(async () => {
    t = await createTestApp({ plugins: [testInstructions] });
  });
  afterAll(async () => {
    await t?.destroy();
  });

  describe('Webhook response node', () => {
    it('sets status, headers and body from workflow variables, and ends the run', async () => {
      const wf = await createWebhookWorkflow(t.app, {
        sync: true,
        config: { key: 'respond' },
        nodes: [
          {
            type: 'webhook-response',
            config: {
              status: 201,
              headers: { 'X-Order': '{{$context.data.order}}', 'Content-Type': 'application/json' },
              body: { received: '{{$context.data.order}}', via: '{{$context.method}}' },
            },
          },
          { type: 'output', config: { value: 'never reached' } },
        ],
      });
      const res = await post('respond').send({ order: 'A-17' });
      expect(res.status).toBe(201);
      expect(res.headers['x-order']).toBe('A-17');
      expect(res.body).toEqual({ received: 'A-17', via: 'POST' });
      const [execution] = await waitForExecutions(t.app, wf.key, 1);
      expect(execution.get('status')).toBe(1);
      expect(execution.get('output')).toBeFalsy();
      const jobs = await t.app.db.getRepository('jobs').find({ filter: { executionId: execution.id } });
      expect(jobs).toHaveLength(1);
    });

    it('a text body with its own Content-Type is sent as is', async () => {
      await createWebhookWorkflow(t.app, {
        sync: true,
        config: { key: 'respond-text' },
        nodes: [
          {
            type: 'webhook-response',
            config: { status: 200, headers: { 'Content-Type': 'text/plain' }, body: 'challenge={{$context.query.c}}' },
          },
        ],
      });
      const res = await post('respond-text?c=xyz').send({});
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/text\/plain/);
      expect(res.text).toBe('challenge=xyz');
    });

    it('a response node wins over a later failure', async () => {
      await createWebhookWorkflow(t.app, {
        sync: true,
        config: { key: 'respond-then-fail' },
        nodes: [
          { type: 'webhook-response', config: { status: 409, body: { error: 'duplicate' } } },
          { type: 'end', config: { endStatus: -1 } },
        ],
      });
      const res = await post('respond-then-fail').send({});
      expect(res.status).toBe(409);
      expect(res.body).toEqual({ error: 'duplicate' });
    });

    it('refuses an invalid status in its configuration', async () => {
      const wf = await createWebhookWorkflow(t.app, { sync: true, config: { key: 'bad-node' } });
      const res = await t.app
        .agent()
        .post(`/api/workflows/${wf.id}/nodes:create`)
        .send({ type: 'webhook-response', config: { status: 99 } });
      expect(res.status).toBe(400);
    });
  });

  describe('without a response node', () => {
    it('answers 200 with the Output node value as JSON', async () => {
      await createWebhookWorkflow(t.app, {
        sync: true,
        config: { key: 'out' },
        nodes: [{ type: 'output', config: { value: { sum: '{{$context.data.a}}' } } }],
      });
      const res = await post('out').send({ a: 3 });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ sum: 3 });
    });

    it('answers 200 with the execution receipt when nothing sets an output', async () => {
      const wf = await createWebhookWorkflow(t.app, { sync: true, config: { key: 'receipt' }, nodes: [] });
      const res = await post('receipt').send({});
      expect(res.status).toBe(200);
      const [execution] = await waitForExecutions(t.app, wf.key, 1);
      expect(res.body).toEqual({ executionId: String(execution.id), status: 'resolved' });
    });

    it('answers with the configured response when the workflow sets none', async () => {
      await createWebhookWorkflow(t.app, {
        sync: true,
        config: { key: 'configured', response: { status: 200, headers: { 'X-Handled': 'yes' }, body: { ok: true } } },
      });
      const res = await post('configured').send({});
      expect(res.status).toBe(200);
      expect(res.headers['x-handled']).toBe('yes');
      expect(res.body).toEqual({ ok: true });
    });

    it('a failed run is 500 WORKFLOW_FAILED', async () => {
      await createWebhookWorkflow(t.app, {
        sync: true,
        config: { key: 'fails' },
        nodes: [{ type: 'end', config: { endStatus: -1 } }],
      });
      const res = await post('fails').send({});
      expectError(res, 500, 'WORKFLOW_FAILED');
    });
  });

  describe('timeoutMs', () => {
    it('a longer run is 504 TIMEOUT while the execution goes on and finishes', async () => {
      const wf = await createWebhookWorkflow(t.app, {
        sync: true,
        config: { key: 'slow', timeoutMs: 200 },
        nodes: [
          { type: 'test-sleep', config: { ms: 1200 } },
          { type: 'output', config: { value: 'late' } },
        ],
      });
      const started = Date.now();
      const res = await post('slow').send({});
      expectError(res, 504, 'TIMEOUT');
      expect(Date.now() - started).toBeLessThan(1100);
      const [execution] = await waitForExecutions(t.app, wf.key, 1);
      expect(execution.get('status')).toBe(1);
      expect(execution.get('output')).toBe('late');
    });

    it('a run within the timeout answers normally', async () => {
      await createWebhookWorkflow(t.app, {
        sync: true,
        config: { key: 'quick', timeoutMs: 5000 },
        nodes: [
          { type: 'test-sleep', config: { ms: 50 } },
          { type: 'output', config: { value: 'in time' } },
        ],
      });
      const res = await post('quick').send({});
      expect(res.status).toBe(200);
      expect(res.body).toBe('in time');
    });
  });

  describe('delivery log of sync runs', () => {
    it('is written once, with its answer, for a run that ends soon', async () => {
      await createWebhookWorkflow(t.app, {
        sync: true,
        config: { key: 'logged-once' },
        nodes: [{ type: 'output', config: { value: 'quick' } }],
      });
      const res = await post('logged-once').send({});
      expect(res.status).toBe(200);
      await waitForDeliveries(t.app, { key: 'logged-once' });
      await new Promise((r) => setTimeout(r, 200));
      const rows = await waitForDeliveries(t.app, { key: 'logged-once' });
      expect(rows).toHaveLength(1);
      expect(rows[0].status).toBe(200);
      expect(rows[0].executionId).toBeTruthy();
    });

    it('an unexpected failure of the engine answers 503 UNAVAILABLE and is logged once', async () => {
      await createWebhookWorkflow(t.app, {
        sync: true,
        config: { key: 'engine-broken' },
        nodes: [{ type: 'output', config: { value: 'never' } }],
      });
      const trigger = t.engine.trigger;
      t.engine.trigger = (async () => {
        throw new Error('the engine broke');
      }) as typeof trigger;
      let res: any;
      try {
        res = await post('engine-broken').send({});
      } finally {
        t.engine.trigger = trigger;
      }
      expectError(res, 503, 'UNAVAILABLE');
      expect(JSON.stringify(res.body)).not.toContain('the engine broke');
      await waitForDeliveries(t.app, { key: 'engine-broken' });
      await new Promise((r) => setTimeout(r, 200));
      const rows = await waitForDeliveries(t.app, { key: 'engine-broken' });
      expect(rows).toHaveLength(1);
      expect(rows[0].status).toBe(503);
      expect(rows[0].errorCode).toBe('UNAVAILABLE');
    });

    it('a run past 250 ms has it written while it runs, so a crash mid-run leaves it, marked CUT_OFF', async () => {
      await createWebhookWorkflow(t.app, {
        sync: true,
        config: { key: 'logged-sync', timeoutMs: 5000 },
        nodes: [
          { type: 'test-sleep', config: { ms: 800 } },
          { type: 'output', config: { value: 'done' } },
        ],
      });
      const pending = post('logged-sync')
        .send({})
        .then((r) => r);
      const Deliveries = t.app.db.getRepository('webhookDeliveries');
      let during: any = null;
      for (let i = 0; i < 40 && !during; i++) {
        await new Promise((r) => setTimeout(r, 25));
        during = await Deliveries.findOne({ filter: { key: 'logged-sync' } });
      }
      expect(during?.get('status')).toBeNull();
      const res = await pending;
      expect(res.status).toBe(200);
      await new Promise((r) => setTimeout(r, 200));
      const after = await Deliveries.findOne({ filterByTk: during.get('id') });
      expect(after.get('status')).toBe(200);
      expect(after.get('executionId')).toBeTruthy();

      // A row whose process died keeps status null; once past its time it is marked CUT_OFF.
      await Deliveries.create({
        values: {
          id: 'cut',
          key: 'logged-sync',
          method: 'POST',
          path: '/',
          ip: '::1',
          headers: {},
          expectedBy: new Date(Date.now() - 1000),
        },
      });
      const plugin = t.app.pm.get(PluginWebhookTriggerServer) as PluginWebhookTriggerServer;
      expect((await plugin.upkeep()).cutOff).toBe(1);
      const cut = await Deliveries.findOne({ filterByTk: 'cut' });
      expect(cut.get('errorCode')).toBe('CUT_OFF');
      expect(cut.get('status')).toBeNull();
      expect((await plugin.upkeep()).cutOff).toBe(0);
    });
  });

  describe('concurrency', () => {
    it('concurrent sync webhooks all succeed, each with its own execution', async () => {
      const wf = await createWebhookWorkflow(t.app, {
        sync: true,
        config: { key: 'busy' },
        nodes: [{ type: 'output', config: { value: '{{$context.data.n}}' } }],
      });
      const origin = await t.listen();
      const results = await Promise.all(
        Array.from({ length: 24 }, (_, n) =>
          fetch(`${origin}/api/webhooks/busy`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ n }),
          }).then(async (r) => [r.status, await r.json()] as const),
        ),
      );
      expect(results.map(([status]) => status)).toEqual(Array(24).fill(200));
      expect(results.map(([, body]) => body)).toEqual(Array.from({ length: 24 }, (_, n) => n));
      const executions = await waitForExecutions(t.app, wf.key, 24);
      expect(executions).toHaveLength(24);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// SPEC.md "The response", async: 202 with a delivery id, sent only once stored; the
// execution follows in the background.
describe('async webhooks', () => {
  let t: TestApp;
  const post = (key: string) => t.app.agent().post(`/api/webhooks/${key}`);
  const executionsOf = (key: string) => t.app.db.getRepository('executions').find({ filter: { key } });

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t?.destroy();
  });

  it('answers 202 with a delivery id that is already stored as a queued execution', async () => {
    const wf = await createWebhookWorkflow(t.app, {
      config: { key: 'inbox' },
      nodes: [{ type: 'output', config: { value: { got: '{{$context.data.item}}', ip: '{{$context.ip}}' } } }],
    });
    const res = await post('inbox').send({ item: 'book' });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({
      deliveryId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      statusUrl: expect.stringMatching(/^http:\/\/.+\/api\/webhooks\/~status\/[A-Za-z0-9_-]{24}$/),
    });
    // Stored before the answer: the row exists the moment the 202 is read.
    const stored = await t.app.db.getRepository('executions').findOne({ filter: { eventKey: res.body.deliveryId } });
    expect(stored).toBeTruthy();
    expect(stored.get('context').data).toEqual({ item: 'book' });

    const [execution] = await waitForExecutions(t.app, wf.key, 1);
    expect(execution.get('eventKey')).toBe(res.body.deliveryId);
    expect(execution.get('status')).toBe(1);
    expect(execution.get('output')).toEqual({ got: 'book', ip: '127.0.0.1' });
  });

  it('answers with the configured response instead of the receipt', async () => {
    await createWebhookWorkflow(t.app, {
      config: { key: 'custom-ack', response: { status: 200, headers: { 'X-Ack': '1' }, body: 'thanks' } },
    });
    const res = await post('custom-ack').send({});
    expect(res.status).toBe(200);
    expect(res.headers['x-ack']).toBe('1');
    expect(res.text).toBe('thanks');
  });

  it('a burst of concurrent deliveries becomes exactly one execution each', async () => {
    const wf = await createWebhookWorkflow(t.app, {
      config: { key: 'burst' },
      nodes: [{ type: 'output', config: { value: '{{$context.data.n}}' } }],
    });
    const origin = await t.listen();
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, n) =>
        fetch(`${origin}/api/webhooks/burst`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ n }),
        }).then(async (r) => ({ status: r.status, body: (await r.json()) as any })),
      ),
    );
    expect(answers.every((a) => a.status === 202)).toBe(true);
    const ids = answers.map((a) => a.body.deliveryId);
    expect(new Set(ids).size).toBe(60);
    const executions = await waitForExecutions(t.app, wf.key, 60, 60_000);
    expect(executions).toHaveLength(60);
    expect(new Set(executions.map((e: any) => e.get('eventKey')))).toEqual(new Set(ids));
    expect(executions.every((e: any) => e.get('status') === 1)).toBe(true);
    expect(executions.map((e: any) => e.get('output')).sort((a: number, b: number) => a - b)).toEqual(
      Array.from({ length: 60 }, (_, n) => n),
    );
  });

  it('counts async executions in the workflow stats like the engine does', async () => {
    const wf = await createWebhookWorkflow(t.app, { config: { key: 'counted' } });
    await post('counted').send({});
    await post('counted').send({});
    await waitForExecutions(t.app, wf.key, 2);
    const stats = await t.app.db.getRepository('workflowStats').findOne({ filter: { key: wf.key } });
    expect(stats.get('executed')).toBe(2);
  });

  it('a rejected request stores nothing and starts nothing', async () => {
    await createWebhookWorkflow(t.app, { config: { key: 'picky', maxBodyBytes: 10 } });
    expectError(await post('picky').send({ long: 'more than ten bytes' }), 413, 'PAYLOAD_TOO_LARGE');
    expectError(await post('picky').set('Content-Type', 'application/json').send('{"a'), 400, 'INVALID_BODY');
    expectError(await t.app.agent().get('/api/webhooks/picky'), 405, 'METHOD_NOT_ALLOWED');
    expect(await executionsOf('picky')).toHaveLength(0);
  });
});

// ---------------------------------------------------------------------------------------------
// SPEC.md "The response": errors are JSON `{"error": {"code", "message"}}`, one describe per row
// of the error table. Each case is sent next to the good request that passes the same webhook;
// a rejected request starts no execution and leaves a delivery record with its code.
describe('SPEC.md error codes', () => {
  let t: TestApp;
  const post = (key: string) => t.app.agent().post(`/api/webhooks/${key}`);
  const executions = () => t.app.db.getRepository('executions').count();
  const sign = (secret: string, body: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  const slackSign = (secret: string, ts: number, body: string) =>
    `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`;

  /** The bad request is refused with its code, starts nothing, and is logged; the good one passes. */
  async function refusedNextToGood(
    key: string,
    bad: () => Promise<any>,
    good: () => Promise<any>,
    status: number,
    code: string,
  ) {
    const before = await executions();
    const res = await bad();
    expectError(res, status, code);
    expect(await executions()).toBe(before);
    const [row] = await waitForDeliveries(t.app, { key, errorCode: code });
    expect(row).toMatchObject({ status, errorCode: code, executionId: null });
    const ok = await good();
    expect(ok.status, JSON.stringify(ok.body)).toBeLessThan(300);
  }

  beforeAll(async () => {
    t = await createTestApp({ plugins: [testInstructions] });
    const output: NodeSpec[] = [{ type: 'output', config: { value: 'ok' } }];
    const w = (key: string, config: Record<string, unknown> = {}, nodes: NodeSpec[] = output) =>
      createWebhookWorkflow(t.app, { sync: true, config: { key, ...config }, nodes });
    await w('e-body');
    await w('e-basic', { verification: { type: 'basic', username: 'u', password: 'p' } });
    await w('e-github', { verification: { type: 'github', secret: 's' } });
    await w('e-slack', { verification: { type: 'slack', secret: 's' } });
    await w('e-ip', { ipAllowlist: ['10.0.0.0/8'], trustedProxies: ['127.0.0.1', '::1', '::ffff:127.0.0.1'] });
    await w('e-method', { methods: ['PUT'] });
    await w('e-size', { maxBodyBytes: 64 });
    await w('e-schema', { bodySchema: { type: 'object', required: ['id'] } });
    await w('e-rate', { rateLimit: { requests: 1, perSeconds: 60 } });
    await w('e-fails', {}, [{ type: 'end', config: { endStatus: -1 } }]);
    await w('e-slow', { timeoutMs: 100 }, [{ type: 'test-sleep', config: { ms: 400 } }]);
    await w('e-quick', { timeoutMs: 5000 });
  });
  afterAll(async () => {
    await t?.destroy();
  });

  describe('400 INVALID_BODY (unparsable for its content type)', () => {
    it('refused next to a good body', () =>
      refusedNextToGood(
        'e-body',
        () => post('e-body').set('Content-Type', 'application/json').send('{"a":'),
        () => post('e-body').set('Content-Type', 'application/json').send('{"a":1}'),
        400,
        'INVALID_BODY',
      ));
  });

  describe('401 UNAUTHORIZED (basic, token)', () => {
    it('refused next to the right credentials', () =>
      refusedNextToGood(
        'e-basic',
        () => post('e-basic').auth('u', 'wrong').send({}),
        () => post('e-basic').auth('u', 'p').send({}),
        401,
        'UNAUTHORIZED',
      ));
  });

  describe('401 SIGNATURE_INVALID', () => {
    it('refused next to a good signature', () =>
      refusedNextToGood(
        'e-github',
        () =>
          post('e-github')
            .set({ 'Content-Type': 'application/json', 'X-Hub-Signature-256': sign('x', '{}') })
            .send('{}'),
        () =>
          post('e-github')
            .set({ 'Content-Type': 'application/json', 'X-Hub-Signature-256': sign('s', '{}') })
            .send('{}'),
        401,
        'SIGNATURE_INVALID',
      ));
  });

  describe('401 TIMESTAMP_OUT_OF_TOLERANCE', () => {
    it('refused next to a fresh timestamp', () => {
      const body = '{"type":"event_callback"}';
      const old = Math.floor(Date.now() / 1000) - 3600;
      const now = Math.floor(Date.now() / 1000);
      const slack = (ts: number) =>
        post('e-slack')
          .set({
            'Content-Type': 'application/json',
            'X-Slack-Request-Timestamp': String(ts),
            'X-Slack-Signature': slackSign('s', ts, body),
          })
          .send(body);
      return refusedNextToGood(
        'e-slack',
        () => slack(old),
        () => slack(now),
        401,
        'TIMESTAMP_OUT_OF_TOLERANCE',
      );
    });
  });

  describe('403 IP_FORBIDDEN', () => {
    it('refused next to an allowed address', () =>
      refusedNextToGood(
        'e-ip',
        () => post('e-ip').set('X-Forwarded-For', '192.168.1.5').send({}),
        () => post('e-ip').set('X-Forwarded-For', '10.1.2.3').send({}),
        403,
        'IP_FORBIDDEN',
      ));
  });

  describe('404 NOT_FOUND (no enabled webhook workflow has this key)', () => {
    it('refused next to an enabled key', async () => {
      expectError(await post('e-no-such-key').send({}), 404, 'NOT_FOUND');
      const [row] = await waitForDeliveries(t.app, { key: 'e-no-such-key' });
      expect(row).toMatchObject({ status: 404, errorCode: 'NOT_FOUND', workflowId: null });
      expect((await post('e-body').send({})).status).toBe(200);
    });
  });

  describe('405 METHOD_NOT_ALLOWED', () => {
    it('refused with Allow, next to an allowed method', async () => {
      const res = await post('e-method').send({});
      expect(res.headers.allow).toBe('PUT');
      await refusedNextToGood(
        'e-method',
        () => post('e-method').send({}),
        () => t.app.agent().put('/api/webhooks/e-method').send({}),
        405,
        'METHOD_NOT_ALLOWED',
      );
    });
  });

  describe('413 PAYLOAD_TOO_LARGE', () => {
    it('refused next to a body within the limit', () =>
      refusedNextToGood(
        'e-size',
        () => post('e-size').send({ text: 'x'.repeat(100) }),
        () => post('e-size').send({ text: 'x' }),
        413,
        'PAYLOAD_TOO_LARGE',
      ));
  });

  describe('415 UNSUPPORTED_MEDIA_TYPE', () => {
    it('refused next to a supported type', () =>
      refusedNextToGood(
        'e-body',
        () => post('e-body').set('Content-Type', 'application/x-unknown').send('x'),
        () => post('e-body').set('Content-Type', 'text/plain').send('x'),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ));
  });

  describe('422 SCHEMA_VALIDATION_FAILED (with details)', () => {
    it('refused with the failed rules, next to a valid body', async () => {
      const res = await post('e-schema').send({ name: 'no id' });
      expect(Array.isArray(res.body.error.details)).toBe(true);
      expect(res.body.error.details.length).toBeGreaterThan(0);
      await refusedNextToGood(
        'e-schema',
        () => post('e-schema').send({}),
        () => post('e-schema').send({ id: 1 }),
        422,
        'SCHEMA_VALIDATION_FAILED',
      );
    });
  });

  describe('429 RATE_LIMITED', () => {
    it('refused with Retry-After once the window is used', async () => {
      expect((await post('e-rate').send({})).status).toBe(200);
      const res = await post('e-rate').send({});
      expectError(res, 429, 'RATE_LIMITED');
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    });
  });

  describe('500 WORKFLOW_FAILED', () => {
    it('a failed run, next to a run that succeeds', async () => {
      expectError(await post('e-fails').send({}), 500, 'WORKFLOW_FAILED');
      expect((await post('e-body').send({})).status).toBe(200);
    });
  });

  describe('504 TIMEOUT', () => {
    it('a run past timeoutMs, next to one within it', async () => {
      expectError(await post('e-slow').send({}), 504, 'TIMEOUT');
      expect((await post('e-quick').send({})).status).toBe(200);
    });
  });
});

// ---------------------------------------------------------------------------------------------
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
