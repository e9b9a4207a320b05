import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markCutOff } from '../src/server/deliveries/retention';
import { createTestApp, type TestApp } from './helpers/app';
import { expectError } from './helpers/http';
import { testInstructions } from './helpers/test-instructions';
import { createWebhookWorkflow, waitForDeliveries, waitForExecutions } from './helpers/workflows';

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
      expect(await markCutOff(t.app.db)).toBe(1);
      const cut = await Deliveries.findOne({ filterByTk: 'cut' });
      expect(cut.get('errorCode')).toBe('CUT_OFF');
      expect(cut.get('status')).toBeNull();
      expect(await markCutOff(t.app.db)).toBe(0);
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
