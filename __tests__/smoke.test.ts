import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app';
import { createWebhookWorkflow, waitForExecutions } from './helpers/workflows';

describe('smoke', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t?.destroy();
  });

  it('sync with output', async () => {
    const wf = await createWebhookWorkflow(t.app, {
      sync: true,
      config: { key: 'hello' },
      nodes: [{ type: 'output', config: { value: { got: '{{$context.data.hello}}' } } }],
    });
    const res = await t.app.agent().post('/api/webhooks/hello').send({ hello: 'world' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ got: 'world' });
    expect(wf.id).toBeTruthy();
  });

  it('async', async () => {
    const wf = await createWebhookWorkflow(t.app, {
      config: { key: 'later' },
      nodes: [{ type: 'output', config: { value: 1 } }],
    });
    const res = await t.app.agent().post('/api/webhooks/later').send({ a: 1 });
    expect(res.status).toBe(202);
    expect(res.body.deliveryId).toBeTruthy();
    const rows = await waitForExecutions(t.app, wf.key, 1);
    expect(rows[0].get('status')).toBe(1);
  });
});
