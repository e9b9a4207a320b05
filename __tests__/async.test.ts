import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app';
import { expectError } from './helpers/http';
import { createWebhookWorkflow, waitForExecutions } from './helpers/workflows';

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
    // SPEC.md, "Answers: more modes": every 202 carries a statusUrl.
    expect(res.body).toEqual({
      deliveryId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      statusUrl: expect.stringMatching(/\/api\/webhooks\/~status\/[A-Za-z0-9_-]{24}$/),
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
