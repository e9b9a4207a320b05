import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app';
import { expectError } from './helpers/http';
import { testInstructions } from './helpers/test-instructions';
import { createWebhookWorkflow, type NodeSpec, waitForDeliveries } from './helpers/workflows';

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
