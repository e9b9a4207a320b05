import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app';
import { expectError } from './helpers/http';
import { testInstructions } from './helpers/test-instructions';
import { createWebhookWorkflow, waitForExecutions } from './helpers/workflows';

// WEBHOOK_MAX_BACKLOG_BYTES: bodies of async deliveries queued and not yet run (issue 10).
describe('async backlog cap', () => {
  let b: TestApp;
  const body = JSON.stringify({ pad: 'x'.repeat(990) });
  const postTo = (key: string) =>
    b.app.agent().post(`/api/webhooks/${key}`).set('Content-Type', 'application/json').send(body);

  beforeAll(async () => {
    process.env.WEBHOOK_MAX_BACKLOG_BYTES = String(3 * body.length);
    b = await createTestApp({ plugins: [testInstructions] });
  });
  afterAll(async () => {
    delete process.env.WEBHOOK_MAX_BACKLOG_BYTES;
    await b?.destroy();
  });

  it('past the cap an async delivery is 429 with Retry-After and starts nothing; sync ones pass; it drains', async () => {
    const slow = await createWebhookWorkflow(b.app, {
      config: { key: 'slow' },
      nodes: [{ type: 'test-sleep', config: { ms: 1000 } }],
    });
    await createWebhookWorkflow(b.app, { sync: true, config: { key: 'quick' } });
    for (let i = 0; i < 3; i++) expect((await postTo('slow')).status).toBe(202);
    const over = await postTo('slow');
    expectError(over, 429, 'RATE_LIMITED');
    expect(Number(over.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // Sync deliveries are not queued: the cap does not apply to them.
    expect((await postTo('quick')).status).toBe(200);
    // The three queued runs end, their bytes leave the backlog, and deliveries are taken again.
    await waitForExecutions(b.app, slow.key, 3, 30_000);
    expect((await postTo('slow')).status).toBe(202);
    await waitForExecutions(b.app, slow.key, 4, 30_000);
    expect(await b.app.db.getRepository('executions').count({ filter: { key: slow.key } })).toBe(4);
    const refused = await b.app.db
      .getRepository('webhookDeliveries')
      .find({ filter: { workflowKey: slow.key, errorCode: 'RATE_LIMITED' } });
    expect(refused.map((r: any) => [r.status, r.executionId])).toEqual([[429, null]]);
  });
});
