import { sign } from '@octokit/webhooks-methods';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthFailureBudget } from '../src/server/http/auth-failure-budget';
import { PluginWebhookTriggerServer } from '../src/server/plugin';
import { createTestApp, type TestApp } from './helpers/app';
import { expectError } from './helpers/http';
import { createWebhookWorkflow, waitForExecutions } from './helpers/workflows';

// SPEC.md `rateLimit`, `cors` and `idempotencyHeader`; the budget for failed authentication.
describe('rate limit, CORS, idempotency and the failed-authentication budget', () => {
  let t: TestApp;
  let origin: string;
  const post = (key: string) => t.app.agent().post(`/api/webhooks/${key}`);

  beforeAll(async () => {
    t = await createTestApp();
    origin = await t.listen();
  });
  afterAll(async () => {
    await t?.destroy();
  });

  describe('rateLimit', () => {
    it('over the limit is 429 RATE_LIMITED with Retry-After, and starts nothing', async () => {
      const wf = await createWebhookWorkflow(t.app, {
        sync: true,
        config: { key: 'limited', rateLimit: { requests: 3, perSeconds: 60 } },
      });
      for (let i = 0; i < 3; i++) expect((await post('limited').send({})).status).toBe(200);
      const over = await post('limited').send({});
      expectError(over, 429, 'RATE_LIMITED');
      const retryAfter = Number(over.headers['retry-after']);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(await t.app.db.getRepository('executions').count({ filter: { key: wf.key } })).toBe(3);
    });
    it('counts each webhook on its own', async () => {
      await createWebhookWorkflow(t.app, {
        sync: true,
        config: { key: 'other', rateLimit: { requests: 1, perSeconds: 60 } },
      });
      expect((await post('other').send({})).status).toBe(200);
      expectError(await post('other').send({}), 429, 'RATE_LIMITED');
    });
    it('refuses a malformed limit', async () => {
      const res = await t.app
        .agent()
        .post('/api/workflows:create')
        .send({ type: 'webhook', title: 'x', config: { key: 'bad-limit', rateLimit: { requests: 0, perSeconds: 1 } } });
      expect(res.status).toBe(400);
    });
  });

  describe('cors', () => {
    beforeAll(async () => {
      await createWebhookWorkflow(t.app, {
        sync: true,
        config: { key: 'browser', methods: ['POST', 'PUT'], cors: { origins: ['https://forms.example.com'] } },
        nodes: [{ type: 'output', config: { value: 'ok' } }],
      });
    });
    it('answers a preflight from a listed origin', async () => {
      const res = await fetch(`${origin}/api/webhooks/browser`, {
        method: 'OPTIONS',
        headers: {
          Origin: 'https://forms.example.com',
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'content-type,x-form-id',
        },
      });
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe('https://forms.example.com');
      expect(res.headers.get('access-control-allow-methods')).toBe('POST, PUT');
      expect(res.headers.get('access-control-allow-headers')).toBe('content-type,x-form-id');
    });
    it('adds the origin to a listed caller and nothing for others', async () => {
      const listed = await post('browser').set('Origin', 'https://forms.example.com').send({});
      expect(listed.status).toBe(200);
      expect(listed.headers['access-control-allow-origin']).toBe('https://forms.example.com');
      const other = await post('browser').set('Origin', 'https://evil.example').send({});
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
      const preflight = await fetch(`${origin}/api/webhooks/browser`, {
        method: 'OPTIONS',
        headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' },
      });
      expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
      expect(preflight.headers.get('access-control-allow-methods')).toBeNull();
    });
    it('a webhook without cors sends no CORS headers', async () => {
      await createWebhookWorkflow(t.app, { sync: true, config: { key: 'no-cors' } });
      const res = await post('no-cors').set('Origin', 'https://forms.example.com').send({});
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    });
  });

  describe('idempotencyHeader', () => {
    it('20 identical async requests at once: one execution, the same answer for all', async () => {
      const wf = await createWebhookWorkflow(t.app, {
        config: { key: 'idem-async', idempotencyHeader: 'X-GitHub-Delivery' },
        nodes: [{ type: 'output', config: { value: '{{$context.data.n}}' } }],
      });
      const send = (delivery: string, n: number) =>
        fetch(`${origin}/api/webhooks/idem-async`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'X-GitHub-Delivery': delivery },
          body: JSON.stringify({ n }),
        }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
      const answers = await Promise.all(Array.from({ length: 20 }, (_, n) => send('gh-1', n)));
      expect(answers.map((a) => a.status)).toEqual(Array(20).fill(202));
      expect(new Set(answers.map((a) => a.body.deliveryId)).size).toBe(1);
      // A later repeat gets the first answer too; another delivery id is a new execution.
      const later = await send('gh-1', 99);
      expect(later).toEqual(answers[0]);
      const fresh = await send('gh-2', 100);
      expect(fresh.body.deliveryId).not.toBe(answers[0].body.deliveryId);
      const executions = await waitForExecutions(t.app, wf.key, 2);
      await new Promise((r) => setTimeout(r, 300));
      expect(await t.app.db.getRepository('executions').count({ filter: { key: wf.key } })).toBe(2);
      const outputs = executions.map((e: any) => e.get('output'));
      expect(outputs).toContain(100);
      expect(outputs.filter((o: number) => o < 20)).toHaveLength(1);
    });

    it('20 identical sync requests at once: one execution, the first answer for all', async () => {
      const wf = await createWebhookWorkflow(t.app, {
        sync: true,
        config: { key: 'idem-sync', idempotencyHeader: 'Idempotency-Key' },
        nodes: [{ type: 'webhook-response', config: { status: 201, body: { n: '{{$context.data.n}}' } } }],
      });
      const send = (n: number) =>
        fetch(`${origin}/api/webhooks/idem-sync`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'Idempotency-Key': 'order-7' },
          body: JSON.stringify({ n }),
        }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
      const answers = await Promise.all(Array.from({ length: 20 }, (_, n) => send(n)));
      expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
      expect(answers[0].status).toBe(201);
      const later = await send(42);
      expect(later).toEqual(answers[0]);
      await new Promise((r) => setTimeout(r, 300));
      expect(await t.app.db.getRepository('executions').count({ filter: { key: wf.key } })).toBe(1);
    });

    it('requests without the header are not deduplicated', async () => {
      const wf = await createWebhookWorkflow(t.app, {
        sync: true,
        config: { key: 'idem-none', idempotencyHeader: 'Idempotency-Key' },
      });
      await post('idem-none').send({});
      await post('idem-none').send({});
      expect(await t.app.db.getRepository('executions').count({ filter: { key: wf.key } })).toBe(2);
    });
  });

  describe('failed-authentication budget', () => {
    const HOLD_MS = 2500;
    let budget: AuthFailureBudget;
    let shipped: ReturnType<AuthFailureBudget['settings']>;
    beforeAll(async () => {
      budget = (t.app.pm.get(PluginWebhookTriggerServer) as PluginWebhookTriggerServer).authFailures;
      shipped = budget.settings();
      budget.configure({ perSecond: 3, delayMs: HOLD_MS });
      await createWebhookWorkflow(t.app, {
        sync: true,
        config: { key: 'guarded', verification: { type: 'github', secret: 'guarded-secret' } },
        nodes: [{ type: 'output', config: { value: 'ok' } }],
      });
    });
    afterAll(() => budget.configure(shipped));

    it('holds 401s past the per-source budget; a valid request from the same source is answered meanwhile', async () => {
      const body = JSON.stringify({ action: 'opened' });
      const send = (signature: string) =>
        fetch(`${origin}/api/webhooks/guarded`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'X-Hub-Signature-256': signature },
          body,
        });
      const finished: string[] = [];
      const started = Date.now();
      const forged = Array.from({ length: 10 }, (_, i) =>
        send(`sha256=${'0'.repeat(64)}`).then(async (res) => {
          finished.push(`forged ${i}`);
          return { status: res.status, json: (await res.json()) as any, ms: Date.now() - started };
        }),
      );
      // Once the forged ones are in, a valid request: never held, answered before the held 401s.
      await new Promise((r) => setTimeout(r, 300));
      const valid = await send(await sign('guarded-secret', body));
      finished.push('valid');
      expect(valid.status).toBe(200);
      expect(await valid.json()).toBe('ok');
      const answers = await Promise.all(forged);
      for (const a of answers) {
        expect(a.status).toBe(401);
        expect(a.json.error.code).toBe('SIGNATURE_INVALID');
      }
      // At most 3 a second go out at once (6 if the ten straddle a second); the rest were held.
      const held = answers.filter((a) => a.ms >= HOLD_MS);
      expect(held.length).toBeGreaterThanOrEqual(4);
      expect(finished.indexOf('valid')).toBeLessThan(finished.length - held.length);
    });
  });
});
