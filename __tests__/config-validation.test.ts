import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app';

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
