import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DELIVERIES } from '../../src/common/constants';

import { verifyRequest } from '../../src/server/verify';
import { signRequest } from '../../src/server/verify/sign';
import { createTestApp, rootUser, type TestApp } from '../helpers/app';
import { createWebhookWorkflow, waitForDeliveries, waitForExecutions } from '../helpers/workflows';

// Issue 13: "Send a test request" is signed on the server with the stored secret and walks the
// whole route against the version being edited (enabled or not); its row is marked `test`.
describe('each scheme signs what it verifies', () => {
  const raw = Buffer.from('{"hello":"world"}');
  const now = 1_700_000_000;
  const cases: Array<Record<string, unknown>> = [
    { type: 'none' },
    { type: 'basic', username: 'u', password: ['p1', 'p0'] },
    { type: 'token', token: 't' },
    { type: 'token', header: 'X-Gitlab-Token', token: 't' },
    { type: 'hmac', secret: 's', header: 'X-Sig', algorithm: 'sha512', encoding: 'base64', prefix: 'v=' },
    { type: 'github', secret: ['new', 'old'] },
    { type: 'stripe', secret: 'whsec_abc' },
    { type: 'slack', secret: 's' },
    { type: 'shopify', secret: 's' },
    { type: 'standard', secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' },
  ];
  for (const verification of cases) {
    it(`${verification.type}${verification.header ? ` (${verification.header})` : ''}`, () => {
      const { headers } = signRequest(verification as any, raw, now);
      expect(() => verifyRequest(verification as any, headers, raw, now)).not.toThrow();
      // A signature proves one body only (basic and token credentials are not tied to it).
      if (!['none', 'basic', 'token'].includes(String(verification.type))) {
        expect(() => verifyRequest(verification as any, headers, Buffer.from('{"hello":"forged"}'), now)).toThrow();
      }
    });
  }
});

describe('webhookDeliveries:test and replay against a version', () => {
  let t: TestApp;
  let agent: any;
  let live: any;
  let draft: any;

  beforeAll(async () => {
    t = await createTestApp({ acl: true });
    live = await createWebhookWorkflow(t.app, {
      sync: true,
      config: { key: 'gh-test', verification: { type: 'github', secret: 'live-secret' } },
      nodes: [{ type: 'output', config: { value: 'live' } }],
    });
    // A draft version of the same workflow (same key), not enabled, answering differently.
    draft = await t.app.db.getRepository('workflows').create({
      values: {
        title: 'draft',
        type: 'webhook',
        key: live.key,
        current: false,
        sync: true,
        enabled: false,
        config: { key: 'gh-test', verification: { type: 'github', secret: 'draft-secret' } },
      },
    });
    await (draft as any).createNode({ type: 'output', config: { value: '{{$context.data.action}}' } });
    agent = await t.app.agent().login(await rootUser(t.app));
  });
  afterAll(async () => {
    await t?.destroy();
  });

  it('a github-signed test request reaches the disabled draft and is marked test', async () => {
    const res = await agent
      .post(`/api/${DELIVERIES}:test?workflowId=${draft.id}`)
      .send({ method: 'POST', body: JSON.stringify({ action: 'opened' }), headers: { 'X-GitHub-Event': 'push' } });
    expect(res.status).toBe(200);
    const answer = res.body.data;
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toBe('opened');
    const [row] = await waitForDeliveries(t.app, { id: answer.deliveryId });
    expect(row).toMatchObject({ test: true, status: 200, workflowId: draft.id, errorCode: null });
    expect(row.headers['x-hub-signature-256']).toBe('[redacted]');
    expect(row.headers['x-github-event']).toBe('push');
    expect(row.answer).toMatchObject({ status: 200, body: 'opened' });
    const execution = await t.app.db.getRepository('executions').findOne({ filterByTk: row.executionId });
    expect(execution.get('workflowId')).toBe(draft.id);
    // The live version was not touched, and a real request still needs its own secret.
    const forged = await t.app.agent().post('/api/webhooks/gh-test').set('X-Hub-Signature-256', 'sha256=00').send({});
    expect(forged.status).toBe(401);
  });

  it('a test request walks the checks: a schema failure is a 422 with its rules', async () => {
    const strict = await createWebhookWorkflow(t.app, {
      sync: true,
      enabled: false,
      config: {
        key: 'strict-test',
        verification: { type: 'slack', secret: 's' },
        bodySchema: { type: 'object', required: ['id'] },
      },
    });
    const res = await agent.post(`/api/${DELIVERIES}:test?workflowId=${strict.id}`).send({ body: '{}' });
    expect(res.body.data.status).toBe(422);
    expect(JSON.parse(res.body.data.body).error.code).toBe('SCHEMA_VALIDATION_FAILED');
    const [row] = await waitForDeliveries(t.app, { id: res.body.data.deliveryId });
    expect(row).toMatchObject({ test: true, errorCode: 'SCHEMA_VALIDATION_FAILED' });
    // The detail shows the answer that was sent, with the failed rules.
    expect(row.answer.status).toBe(422);
    expect(Array.isArray(row.answer.body.error.details)).toBe(true);
  });

  it('refuses an unknown version and a workflow of another type', async () => {
    expect((await agent.post(`/api/${DELIVERIES}:test?workflowId=999999`).send({})).status).toBe(404);
    expect((await agent.post(`/api/${DELIVERIES}:test`).send({})).status).toBe(400);
  });

  it('is not open to anonymous callers', async () => {
    const res = await t.app.agent().post(`/api/${DELIVERIES}:test?workflowId=${draft.id}`).send({});
    expect([401, 403]).toContain(res.status);
  });

  it('replays a delivery through the version named by workflowId', async () => {
    const body = JSON.stringify({ action: 'closed' });
    const signature = `sha256=${createHmac('sha256', 'live-secret').update(body).digest('hex')}`;
    const first = await t.app
      .agent()
      .post('/api/webhooks/gh-test')
      .set({ 'Content-Type': 'application/json', 'X-Hub-Signature-256': signature })
      .send(body);
    expect(first.status).toBe(200);
    expect(first.body).toBe('live');
    const [original] = await waitForDeliveries(t.app, {
      workflowId: live.id,
      errorCode: null,
      test: false,
      executionId: { $ne: null },
    });
    const replay = await agent.post(`/api/${DELIVERIES}:replay?filterByTk=${original.id}&workflowId=${draft.id}`);
    expect(replay.status).toBe(200);
    expect(replay.body.data).toMatchObject({ status: 200, body: 'closed' });
    const [copy] = await waitForDeliveries(t.app, { replayOf: original.id });
    expect(copy.workflowId).toBe(draft.id);
    const other = await createWebhookWorkflow(t.app, { enabled: false, config: { key: 'other-key' } });
    const refused = await agent.post(`/api/${DELIVERIES}:replay?filterByTk=${original.id}&workflowId=${other.id}`);
    expect(refused.status).toBe(409);
    await waitForExecutions(t.app, live.key, 2);
  });

  it("keeps a delivery as the version's sample: parsed fields, credentials redacted", async () => {
    const body = JSON.stringify({
      action: 'labeled',
      user: { login: 'octo', password: 'hunter2' },
      items: [1, 2, 3, 4, 5],
    });
    const res = await agent
      .post(`/api/${DELIVERIES}:test?workflowId=${draft.id}`)
      .send({ body, query: 'ref=main', headers: { 'X-GitHub-Event': 'issues' } });
    const id = res.body.data.deliveryId;
    const sample = await agent.post(`/api/${DELIVERIES}:sample?filterByTk=${id}&workflowId=${draft.id}`);
    expect(sample.status).toBe(200);
    const stored = (await t.app.db.getRepository('workflows').findOne({ filterByTk: draft.id })).get('config').sample;
    expect(stored.data).toEqual({
      action: 'labeled',
      user: { login: 'octo', password: '[redacted]' },
      items: [1, 2, 3],
    });
    expect(stored.headers['x-github-event']).toBe('issues');
    expect(stored.headers['x-hub-signature-256']).toBe('[redacted]');
    expect(stored.query).toEqual({ ref: 'main' });
    expect(stored.deliveryId).toBe(id);
    const other = await createWebhookWorkflow(t.app, { enabled: false, config: { key: 'sample-other' } });
    expect((await agent.post(`/api/${DELIVERIES}:sample?filterByTk=${id}&workflowId=${other.id}`)).status).toBe(409);
  });
});
