import { sign } from '@octokit/webhooks-methods';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PluginWebhookTriggerServer } from '../../src/server';
import { createTestApp, type TestApp } from '../helpers/app';
import { echoContextNode, expectError } from '../helpers/http';
import { testInstructions } from '../helpers/test-instructions';
import { createWebhookWorkflow, waitForExecutions } from '../helpers/workflows';

// SPEC.md "Trigger configuration": key, methods, path, ipAllowlist and trustedProxies, rateLimit, cors,
// idempotencyHeader, maxBodyBytes, timeoutMs, the validation of a saved config, and the limits
// every webhook shares (the failed-authentication budget, the async backlog).

// ---------------------------------------------------------------------------------------------
// SPEC.md `key` and `methods` rows, and the trigger's life through the normal workflow APIs.
describe('webhook trigger configuration and lifecycle', () => {
  let t: TestApp;
  const api = () => t.app.agent();
  const hook = (key: string) => api().post(`/api/webhooks/${key}`).send({ x: 1 });

  const createWorkflow = async (values: Record<string, unknown>) =>
    api()
      .post('/api/workflows:create')
      .send({ title: 'wf', type: 'webhook', sync: true, ...values });
  const addOutput = async (workflowId: number, value: unknown) => {
    const res = await api()
      .post(`/api/workflows/${workflowId}/nodes:create`)
      .send({ type: 'output', config: { value } });
    expect(res.status).toBe(200);
  };

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t?.destroy();
  });

  describe('validation', () => {
    it.each([
      [{ key: 'has space' }, /key/i],
      [{ key: 'x'.repeat(129) }, /key/i],
      [{ key: 'ok', methods: ['FETCH'] }, /methods/i],
      [{ key: 'ok', methods: [] }, /methods/i],
      [{ key: 'ok', maxBodyBytes: -1 }, /maxBodyBytes/],
      [{ key: 'ok', timeoutMs: 'soon' }, /timeoutMs/],
      [{ key: 'ok', verification: { type: 'magic' } }, /verification/i],
      [{ key: 'ok', path: '/a/:' }, /path/i],
      [{ key: 'ok', bodySchema: { type: 'nonsense' } }, /schema/i],
      [{ key: 'ok', ipAllowlist: ['10.0.0.300'] }, /ipAllowlist/],
    ])('refuses %j with a clear message', async (config, message) => {
      const res = await createWorkflow({ config });
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body.errors)).toMatch(message);
    });

    it('accepts a full valid configuration', async () => {
      const res = await createWorkflow({
        config: {
          key: 'valid_Key-1',
          path: '/orders/:id',
          methods: ['post', 'PUT'],
          maxBodyBytes: 2048,
          timeoutMs: 1000,
          bodySchema: { type: 'object' },
          ipAllowlist: ['10.0.0.0/8', '::1'],
          response: { status: 200, body: { ok: true } },
        },
      });
      expect(res.status).toBe(200);
    });

    it('generates a random key when none is given', async () => {
      const res = await createWorkflow({ config: {} });
      expect(res.status).toBe(200);
      const workflow = await t.app.db.getRepository('workflows').findOne({ filterByTk: res.body.data.id });
      expect(workflow.get('config').key).toMatch(/^[A-Za-z0-9_-]{16}$/);
    });

    it('refuses to enable a second workflow with a key already served', async () => {
      const first = await createWorkflow({ config: { key: 'taken' }, enabled: true });
      expect(first.status).toBe(200);
      const second = await createWorkflow({ config: { key: 'taken' } });
      expect(second.status).toBe(200);
      const enable = await api()
        .post(`/api/workflows:update?filterByTk=${second.body.data.id}`)
        .send({ enabled: true });
      expect(enable.status).toBe(400);
      expect(JSON.stringify(enable.body)).toMatch(/already used/);
      const direct = await createWorkflow({ config: { key: 'taken' }, enabled: true });
      expect(direct.status).toBe(400);
    });
  });

  describe('key index through enable, disable, update, delete and versions', () => {
    it('follows the workflow from creation to deletion', async () => {
      const created = await createWorkflow({ config: { key: 'life' } });
      const id = created.body.data.id;
      await addOutput(id, 'v1');
      expectError(await hook('life'), 404, 'NOT_FOUND');

      await api().post(`/api/workflows:update?filterByTk=${id}`).send({ enabled: true });
      // A key change of an enabled, never executed workflow moves its URL at once.
      const renamed = await api()
        .post(`/api/workflows:update?filterByTk=${id}`)
        .send({ config: { key: 'life-renamed' } });
      expect(renamed.status).toBe(200);
      expectError(await hook('life'), 404, 'NOT_FOUND');
      const on = await hook('life-renamed');
      expect(on.status).toBe(200);
      expect(on.body).toBe('v1');

      await api().post(`/api/workflows:update?filterByTk=${id}`).send({ enabled: false });
      expectError(await hook('life-renamed'), 404, 'NOT_FOUND');

      await api().post(`/api/workflows:update?filterByTk=${id}`).send({ enabled: true });
      expect((await hook('life-renamed')).status).toBe(200);

      await api().post(`/api/workflows:destroy?filterByTk=${id}`);
      expectError(await hook('life-renamed'), 404, 'NOT_FOUND');
    });

    it('only the enabled version of a workflow answers', async () => {
      const created = await createWorkflow({ config: { key: 'versions' }, enabled: true });
      const v1 = created.body.data;
      await addOutput(v1.id, 'from v1');
      expect((await hook('versions')).body).toBe('from v1');

      const revision = await api().post(`/api/workflows:revision?filterByTk=${v1.id}&filter[key]=${v1.key}`).send({});
      expect(revision.status).toBe(200);
      const v2 = revision.body.data;
      expect(v2.config.key).toBe('versions');
      const nodes = await t.app.db.getRepository('flow_nodes').find({ filter: { workflowId: v2.id } });
      await nodes[0].update({ config: { value: 'from v2' } });

      // v2 is not enabled yet: v1 still answers.
      expect((await hook('versions')).body).toBe('from v1');
      const enable = await api().post(`/api/workflows:update?filterByTk=${v2.id}`).send({ enabled: true });
      expect(enable.status).toBe(200);
      expect((await hook('versions')).body).toBe('from v2');
      const stillV1 = await t.app.db.getRepository('workflows').findOne({ filterByTk: v1.id });
      expect(stillV1.get('enabled')).toBe(false);
    });

    it('a duplicated workflow (not a version) gets a new key', async () => {
      const created = await createWorkflow({ config: { key: 'original' }, enabled: true });
      const copy = await api().post(`/api/workflows:revision?filterByTk=${created.body.data.id}`).send({});
      expect(copy.status).toBe(200);
      expect(copy.body.data.config.key).not.toBe('original');
      expect(copy.body.data.config.key).toMatch(/^[A-Za-z0-9_-]+$/);
    });
  });
});

// ---------------------------------------------------------------------------------------------
/**
 * Each checked field of `workflow.config`, a valid value next to an invalid one, through the
 * real API: `workflows:create` and `workflows:update` answer 400 with the shared check's message
 * (src/common/checks.ts, the admin form's validators run the same functions).
 */
const CASES: Array<[field: string, valid: unknown, invalid: unknown, message: string | RegExp]> = [
  ['key', 'ok_Key-1', 'has space', 'key: 1 to 128 letters, digits, "_" or "-"'],
  ['methods', ['post', 'PUT'], ['FETCH'], 'methods: Choose one or more of GET, HEAD, POST, PUT, PATCH, DELETE'],
  ['timeoutMs', 1000, 0, 'timeoutMs: Must be a whole number greater than 0, got 0'],
  ['timeoutMs', 30_000, -1, 'timeoutMs: Must be a whole number greater than 0, got -1'],
  [
    'timeoutMs',
    2_147_483_647,
    2_147_483_648,
    'timeoutMs: Must be at most 2147483647 ms (about 24 days), got 2147483648',
  ],
  ['maxBodyBytes', 2048, 0, 'maxBodyBytes: Must be a whole number greater than 0, got 0'],
  ['maxBodyBytes', 1, 1.5, 'maxBodyBytes: Must be a whole number greater than 0, got 1.5'],
  [
    'cors',
    { origins: ['https://forms.example.com', '*'] },
    { origins: ['https://forms.example.com', 'https://shop.example.com/'] },
    'cors: "https://shop.example.com/" is not an origin as browsers send it: use "https://shop.example.com"',
  ],
  [
    'cors',
    { origins: ['http://localhost:3000'] },
    { origins: ['shop.example.com'] },
    'cors: "shop.example.com" is not an origin such as https://example.com (or * for any)',
  ],
  [
    'ipAllowlist',
    ['10.0.0.0/8', '::1'],
    ['10.0.0.0/8', '10.0.0.300'],
    'ipAllowlist: Not an IP address or CIDR range: 10.0.0.300',
  ],
  ['trustedProxies', ['127.0.0.1'], ['proxy.local'], 'trustedProxies: Not an IP address or CIDR range: proxy.local'],
  ['idempotencyHeader', 'X-GitHub-Delivery', 'X Delivery', 'idempotencyHeader: Not a header name'],
  [
    'rateLimit',
    { requests: 10, perSeconds: 60 },
    { requests: 10, perSeconds: 0 },
    'rateLimit: Enter the number of requests and of seconds, each a whole number greater than 0',
  ],
  ['response', { status: 200, body: { ok: true } }, { status: 99 }, /response: The status must be .* got 99/],
];

describe('workflow.config is checked with useful messages (shared with the admin form)', () => {
  let t: TestApp;
  const api = () => t.app.agent();
  let n = 0;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t?.destroy();
  });

  const errorText = (body: any) => JSON.stringify(body?.errors ?? body);
  const matches = (body: any, message: string | RegExp) =>
    typeof message === 'string'
      ? expect(errorText(body)).toContain(JSON.stringify(message).slice(1, -1))
      : expect(errorText(body)).toMatch(message);

  it.each(CASES)('%s: %j is accepted, %j is refused (create and update)', async (field, valid, invalid, message) => {
    const key = `cfg-${++n}`;
    const base = field === 'key' ? {} : { key };
    const created = await api()
      .post('/api/workflows:create')
      .send({ title: `wf ${n}`, type: 'webhook', sync: true, config: { ...base, [field]: valid } });
    expect(created.status, errorText(created.body)).toBe(200);
    const id = created.body.data.id;

    const refused = await api()
      .post('/api/workflows:create')
      .send({ title: `bad ${n}`, type: 'webhook', sync: true, config: { ...base, [field]: invalid } });
    expect(refused.status).toBe(400);
    matches(refused.body, message);

    const config = { ...created.body.data.config, [field]: invalid };
    const updated = await api().post(`/api/workflows:update?filterByTk=${id}`).send({ config });
    expect(updated.status).toBe(400);
    matches(updated.body, message);
  });
});

// ---------------------------------------------------------------------------------------------
// SPEC.md `ipAllowlist` and `trustedProxies`.
describe('IP lists', () => {
  describe('on the route', () => {
    let t: TestApp;
    const post = (key: string) => t.app.agent().post(`/api/webhooks/${key}`);
    beforeAll(async () => {
      t = await createTestApp();
      await createWebhookWorkflow(t.app, {
        sync: true,
        config: { key: 'only-lan', ipAllowlist: ['192.168.0.0/16'] },
        nodes: [echoContextNode],
      });
      await createWebhookWorkflow(t.app, {
        sync: true,
        config: { key: 'local', ipAllowlist: ['127.0.0.1', '::1'] },
        nodes: [echoContextNode],
      });
      await createWebhookWorkflow(t.app, {
        sync: true,
        config: { key: 'behind-proxy', trustedProxies: ['127.0.0.1'], ipAllowlist: ['203.0.113.0/24'] },
        nodes: [echoContextNode],
      });
    });
    afterAll(async () => {
      await t?.destroy();
    });

    it('an address outside the allow-list is 403 IP_FORBIDDEN and starts nothing', async () => {
      expectError(await post('only-lan').send({}), 403, 'IP_FORBIDDEN');
      // A spoofed X-Forwarded-For from an untrusted peer changes nothing.
      expectError(await post('only-lan').set('X-Forwarded-For', '192.168.1.1').send({}), 403, 'IP_FORBIDDEN');
      expect(await t.app.db.getRepository('executions').count()).toBe(0);
    });
    it('an address in the allow-list passes', async () => {
      const res = await post('local').send({});
      expect(res.status).toBe(200);
      expect(res.body.ip).toBe('127.0.0.1');
    });
    it('behind a trusted proxy the forwarded client address counts', async () => {
      const res = await post('behind-proxy').set('X-Forwarded-For', '203.0.113.50').send({});
      expect(res.status).toBe(200);
      expect(res.body.ip).toBe('203.0.113.50');
      expectError(await post('behind-proxy').set('X-Forwarded-For', '198.51.100.1').send({}), 403, 'IP_FORBIDDEN');
      expectError(await post('behind-proxy').send({}), 403, 'IP_FORBIDDEN');
    });
  });
});

// ---------------------------------------------------------------------------------------------
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
    // Windows are fixed (aligned to the clock): a day-long one keeps the four requests in one.
    it('over the limit is 429 RATE_LIMITED with Retry-After, and starts nothing', async () => {
      const wf = await createWebhookWorkflow(t.app, {
        sync: true,
        config: { key: 'limited', rateLimit: { requests: 3, perSeconds: 86_400 } },
      });
      for (let i = 0; i < 3; i++) expect((await post('limited').send({})).status).toBe(200);
      const over = await post('limited').send({});
      expectError(over, 429, 'RATE_LIMITED');
      const retryAfter = Number(over.headers['retry-after']);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(86_400);
      expect(await t.app.db.getRepository('executions').count({ filter: { key: wf.key } })).toBe(3);
    });
    it('counts each webhook on its own', async () => {
      await createWebhookWorkflow(t.app, {
        sync: true,
        config: { key: 'other', rateLimit: { requests: 1, perSeconds: 86_400 } },
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
    let budget: PluginWebhookTriggerServer['authFailures'];
    let shipped: ReturnType<PluginWebhookTriggerServer['authFailures']['settings']>;
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

// ---------------------------------------------------------------------------------------------
// WEBHOOK_MAX_BACKLOG_BYTES: bodies of async deliveries queued and not yet run (issue 10), and
// WEBHOOK_BACKLOG_WAIT_MS: how long a delivery that finds it full waits for room.
describe('async backlog cap', () => {
  let b: TestApp;
  const body = JSON.stringify({ pad: 'x'.repeat(990) });
  const postTo = (key: string) =>
    b.app.agent().post(`/api/webhooks/${key}`).set('Content-Type', 'application/json').send(body);
  const executions = (key: string) =>
    b.app.db.getRepository('executions').find({ filter: { key }, sort: ['createdAt'] }) as Promise<any[]>;

  beforeAll(async () => {
    // Room for one queued delivery (an empty backlog always takes one).
    process.env.WEBHOOK_MAX_BACKLOG_BYTES = String(body.length);
    process.env.WEBHOOK_BACKLOG_WAIT_MS = '1500';
    b = await createTestApp({ plugins: [testInstructions] });
  });
  afterAll(async () => {
    delete process.env.WEBHOOK_MAX_BACKLOG_BYTES;
    delete process.env.WEBHOOK_BACKLOG_WAIT_MS;
    await b?.destroy();
  });

  it('past the cap a delivery waits for room; none comes: 429 with Retry-After, nothing starts; sync ones pass', async () => {
    const slow = await createWebhookWorkflow(b.app, {
      config: { key: 'slow' },
      nodes: [{ type: 'test-sleep', config: { ms: 3000 } }],
    });
    await createWebhookWorkflow(b.app, { sync: true, config: { key: 'quick' } });
    expect((await postTo('slow')).status).toBe(202);
    const over = await postTo('slow');
    expectError(over, 429, 'RATE_LIMITED');
    expect(Number(over.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // The first run was still going when the wait ended.
    expect((await executions(slow.key)).map((e) => e.status)).toEqual([0]);
    // Sync deliveries are not queued: the cap does not apply to them.
    expect((await postTo('quick')).status).toBe(200);
    await waitForExecutions(b.app, slow.key, 1, 30_000);
    expect(await executions(slow.key)).toHaveLength(1);
    const refused = await b.app.db
      .getRepository('webhookDeliveries')
      .find({ filter: { workflowKey: slow.key, errorCode: 'RATE_LIMITED' } });
    expect(refused.map((r: any) => [r.status, r.executionId])).toEqual([[429, null]]);
  });

  it('a delivery that waits is taken once the run ahead of it ends, and runs', async () => {
    const brief = await createWebhookWorkflow(b.app, {
      config: { key: 'brief' },
      nodes: [{ type: 'test-sleep', config: { ms: 200 } }],
    });
    expect((await postTo('brief')).status).toBe(202);
    const second = await postTo('brief');
    expect(second.status).toBe(202);
    await waitForExecutions(b.app, brief.key, 2, 30_000);
    const [first, taken] = await executions(brief.key);
    expect([first.status, taken.status]).toEqual([1, 1]);
    // Taken only once the first run had ended (its bytes left the backlog).
    expect(new Date(taken.createdAt).getTime()).toBeGreaterThanOrEqual(new Date(first.updatedAt).getTime());
  });

  // Last: it stops the app.
  it('a delivery waiting when the app stops gets its 429 and starts nothing; the app stops', async () => {
    const held = await createWebhookWorkflow(b.app, {
      config: { key: 'held' },
      nodes: [{ type: 'test-sleep', config: { ms: 3000 } }],
    });
    expect((await postTo('held')).status).toBe(202);
    const waiting = postTo('held').then((res) => res);
    // Let it reach the backlog and wait there, then stop the app.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const stopping = b.app.stop();
    // NocoBase's workflow engine stops first, and waits for its running run (3 s), longer than
    // the wait (1.5 s): the waiter is told to retry, as when no room comes. (A waiter still there
    // when the plugin stops gets 503 at once: unit/backlog.test.ts, close.)
    const res = await waiting;
    expectError(res, 429, 'RATE_LIMITED');
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // The database is still open while the engine drains.
    const executions = await b.app.db.getRepository('executions').count({ filter: { key: held.key } });
    expect(executions).toBe(1);
    await stopping;
  });
});
