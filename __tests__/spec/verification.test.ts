import { sign } from '@octokit/webhooks-methods';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app';
import { expectError, rawRequest } from '../helpers/http';
import { createWebhookWorkflow } from '../helpers/workflows';

// SPEC.md `verification`: every scheme through the real route, signed with the providers' SDKs.

// ---------------------------------------------------------------------------------------------
// SPEC.md `verification` through the real route: the exact bytes received are verified, and a
// rejected request starts nothing.
describe('verification on /api/webhooks/:key', () => {
  let t: TestApp;
  let origin: string;
  const count = () => t.app.db.getRepository('executions').count();
  const payload = JSON.stringify({ action: 'opened', number: 1, note: 'bytes  with  spaces ✓' });
  const standardSecret = `whsec_${Buffer.from('standard-webhooks-secret-0123456').toString('base64')}`;

  beforeAll(async () => {
    t = await createTestApp();
    origin = await t.listen();
    const output = [{ type: 'output', config: { value: '{{$context.data.number}}' } }];
    await createWebhookWorkflow(t.app, {
      sync: true,
      config: { key: 'gh', verification: { type: 'github', secret: ['old-secret', 'gh-secret'] } },
      nodes: output,
    });
    await createWebhookWorkflow(t.app, {
      sync: true,
      config: { key: 'basic', verification: { type: 'basic', username: 'hook', password: 's3cret' } },
      nodes: output,
    });
    await createWebhookWorkflow(t.app, {
      sync: true,
      config: { key: 'stripe', verification: { type: 'stripe', secret: 'whsec_stripe' } },
      nodes: output,
    });
    await createWebhookWorkflow(t.app, {
      sync: true,
      config: { key: 'std', verification: { type: 'standard', secret: standardSecret } },
      nodes: output,
    });
    await createWebhookWorkflow(t.app, {
      config: { key: 'gh-async', verification: { type: 'github', secret: 'gh-secret' } },
      nodes: output,
    });
  });
  afterAll(async () => {
    await t?.destroy();
  });

  const send = (key: string, headers: Record<string, string>, body = payload) =>
    rawRequest(origin, `/api/webhooks/${key}`, { headers: { 'Content-Type': 'application/json', ...headers }, body });

  it('github: a request signed by @octokit/webhooks-methods runs; a forged one is 401 and starts nothing', async () => {
    const good = await send('gh', { 'X-Hub-Signature-256': await sign('gh-secret', payload) });
    expect(good.status).toBe(200);
    expect(good.body).toBe(1);
    const before = await count();
    expectError(await send('gh', { 'X-Hub-Signature-256': await sign('wrong', payload) }), 401, 'SIGNATURE_INVALID');
    expectError(await send('gh', {}), 401, 'SIGNATURE_INVALID');
    const signed = await sign('gh-secret', payload);
    expectError(
      await send('gh', { 'X-Hub-Signature-256': signed }, payload.replace('1', '2')),
      401,
      'SIGNATURE_INVALID',
    );
    expectError(
      await send('gh-async', { 'X-Hub-Signature-256': await sign('wrong', payload) }),
      401,
      'SIGNATURE_INVALID',
    );
    expect(await count()).toBe(before);
    const accepted = await send('gh-async', { 'X-Hub-Signature-256': signed });
    expect(accepted.status).toBe(202);
  });

  it('basic: right credentials run; wrong ones are 401 UNAUTHORIZED with a Basic challenge', async () => {
    const auth = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
    expect((await send('basic', { Authorization: auth('hook', 's3cret') })).status).toBe(200);
    const bad = await send('basic', { Authorization: auth('hook', 'guess') });
    expectError(bad, 401, 'UNAUTHORIZED');
    expect(bad.headers['www-authenticate']).toMatch(/^Basic/);
    expectError(await send('basic', {}), 401, 'UNAUTHORIZED');
  });

  it("stripe: stripe's own test header passes; an old timestamp is TIMESTAMP_OUT_OF_TOLERANCE", async () => {
    const header = (timestamp: number) =>
      Stripe.webhooks.generateTestHeaderString({ payload, secret: 'whsec_stripe', timestamp });
    const now = Math.floor(Date.now() / 1000);
    expect((await send('stripe', { 'Stripe-Signature': header(now) })).status).toBe(200);
    expectError(await send('stripe', { 'Stripe-Signature': header(now - 3600) }), 401, 'TIMESTAMP_OUT_OF_TOLERANCE');
    expectError(await send('stripe', { 'Stripe-Signature': header(now + 3600) }), 401, 'TIMESTAMP_OUT_OF_TOLERANCE');
  });

  it('standard: a Standard Webhooks signature passes; a replayed one with a new body fails', async () => {
    const signer = new StandardWebhook(standardSecret);
    const id = 'msg_2b7';
    const at = new Date();
    const headers = {
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': signer.sign(id, at, payload),
    };
    expect((await send('std', headers)).status).toBe(200);
    expectError(await send('std', headers, payload.replace('opened', 'closed')), 401, 'SIGNATURE_INVALID');
  });
});
