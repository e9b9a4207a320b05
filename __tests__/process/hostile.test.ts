import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import PluginWebhookTriggerServer from '../../src/server';
import { createTestApp, type TestApp } from '../helpers/app';
import { filesUnder, HOSTILE_TARGETS, sendBadRequests, wrongAnswers } from '../helpers/hostile-requests';
import { createWebhookWorkflow } from '../helpers/workflows';

// Issue: hostile input. Every answer is a 4xx in the JSON error shape; no 5xx, no crash, no
// stalled socket, no execution; the app answers normally afterwards.
describe('hostile input', () => {
  let t: TestApp;
  let port: number;
  let uploads: string;

  beforeAll(async () => {
    process.env.WEBHOOK_BODY_TIMEOUT_MS = '1000';
    t = await createTestApp();
    port = Number(new URL(await t.listen()).port);
    uploads = (t.app.pm.get(PluginWebhookTriggerServer) as PluginWebhookTriggerServer).uploads.root;
    for (const target of HOSTILE_TARGETS) {
      await createWebhookWorkflow(t.app, {
        ...target,
        nodes: target.sync ? [{ type: 'output', config: { value: 'still here' } }] : [],
      });
    }
  });
  afterAll(async () => {
    delete process.env.WEBHOOK_BODY_TIMEOUT_MS;
    await t?.destroy();
  });

  it('answers 1,000+ bad requests with JSON 4xx errors, starts nothing and leaves no file', async () => {
    const before = filesUnder(uploads).length;
    const answers = await sendBadRequests(port);
    expect(answers.length).toBeGreaterThanOrEqual(1000);
    expect(wrongAnswers(answers)).toEqual([]);
    const statuses = new Set(answers.map((a) => a.status));
    for (const s of [400, 401, 403, 404, 405, 408, 413, 415, 422, 431]) expect(statuses, `status ${s}`).toContain(s);

    expect(await t.app.db.getRepository('executions').count()).toBe(0);
    expect(filesUnder(uploads).length).toBe(before);
    // Bodies that are not text were logged too (as base64), not lost with their batch.
    await new Promise((r) => setTimeout(r, 300));
    expect(
      await t.app.db.getRepository('webhookDeliveries').count({ filter: { bodyEncoding: 'base64' } }),
    ).toBeGreaterThan(0);
    expect(({} as any).admin).toBeUndefined();
    const healthy = await fetch(`http://127.0.0.1:${port}/api/webhooks/healthy`, { method: 'POST', body: '{}' });
    expect(healthy.status).toBe(200);
    expect(await healthy.json()).toBe('still here');
  });
});
