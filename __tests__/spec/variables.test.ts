import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app';
import { echoContextNode, expectError, rawRequest } from '../helpers/http';
import { createWebhookWorkflow } from '../helpers/workflows';

// SPEC.md "Workflow variables": the URL, methods and bodies of every media type as `$context`.

// ---------------------------------------------------------------------------------------------
// SPEC.md: the URL, methods, bodies, maxBodyBytes, bodySchema and the workflow variables.
describe('/api/webhooks/:key', () => {
  let t: TestApp;
  const post = (key: string) => t.app.agent().post(`/api/webhooks/${key}`);

  beforeAll(async () => {
    t = await createTestApp();
    await createWebhookWorkflow(t.app, { sync: true, config: { key: 'echo' }, nodes: [echoContextNode] });
    await createWebhookWorkflow(t.app, {
      sync: true,
      config: { key: 'any-method', methods: ['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE', 'POST'] },
      nodes: [echoContextNode],
    });
    await createWebhookWorkflow(t.app, {
      sync: true,
      config: { key: 'orders', path: '/orders/:id/items/:item' },
      nodes: [echoContextNode],
    });
    await createWebhookWorkflow(t.app, {
      sync: true,
      config: { key: 'small', maxBodyBytes: 16 },
      nodes: [echoContextNode],
    });
    await createWebhookWorkflow(t.app, {
      sync: true,
      config: {
        key: 'schema',
        bodySchema: {
          type: 'object',
          required: ['id'],
          properties: { id: { type: 'integer' }, email: { type: 'string', format: 'email' } },
        },
      },
      nodes: [echoContextNode],
    });
    await createWebhookWorkflow(t.app, {
      sync: true,
      config: {
        key: 'schema07',
        bodySchema: { $schema: 'http://json-schema.org/draft-07/schema#', type: 'array', items: { type: 'string' } },
      },
      nodes: [echoContextNode],
    });
  });
  afterAll(async () => {
    await t?.destroy();
  });

  describe('key', () => {
    it('an enabled key answers from its workflow', async () => {
      const res = await post('echo').send({ a: 1 });
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({ a: 1 });
    });
    it('an unknown key is 404 NOT_FOUND and starts nothing', async () => {
      const before = await t.app.db.getRepository('executions').count();
      expectError(await post('nope').send({ a: 1 }), 404, 'NOT_FOUND');
      expectError(await t.app.agent().get('/api/webhooks/'), 404, 'NOT_FOUND');
      expect(await t.app.db.getRepository('executions').count()).toBe(before);
    });
    it('leaves every other path of the app untouched', async () => {
      const list = await t.app.agent().get('/api/workflows:list');
      expect(list.status).toBe(200);
      expect(Array.isArray(list.body.data)).toBe(true);
      const near = await t.app.agent().post('/api/webhooksecho').send({});
      expect(near.body?.error?.code).toBeUndefined();
    });
  });

  describe('path', () => {
    it('named parts of the sub-path become $context.params', async () => {
      const res = await post('orders/orders/42/items/a%20b').send({});
      expect(res.status).toBe(200);
      expect(res.body.params).toEqual({ id: '42', item: 'a b' });
    });
    it('a sub-path that does not match the pattern is 404', async () => {
      expectError(await post('orders/orders/42').send({}), 404, 'NOT_FOUND');
    });
    it('a webhook without a path pattern refuses sub-paths', async () => {
      expectError(await post('echo/extra').send({}), 404, 'NOT_FOUND');
    });
  });

  describe('methods', () => {
    it('POST is the default; other methods get 405 with Allow', async () => {
      const res = await t.app.agent().get('/api/webhooks/echo');
      expectError(res, 405, 'METHOD_NOT_ALLOWED');
      expect(res.headers.allow).toBe('POST');
      expectError(await t.app.agent().put('/api/webhooks/echo').send({}), 405, 'METHOD_NOT_ALLOWED');
    });
    it('configured methods are accepted and $context.method tells which', async () => {
      for (const method of ['get', 'put', 'patch', 'delete'] as const) {
        const res = await t.app.agent()[method]('/api/webhooks/any-method?x=1&y=2&y=3');
        expect(res.status).toBe(200);
        expect(res.body.method).toBe(method.toUpperCase());
        expect(res.body.query).toEqual({ x: '1', y: ['2', '3'] });
      }
      const head = await t.app.agent().head('/api/webhooks/any-method');
      expect(head.status).toBe(200);
    });
  });

  describe('bodies', () => {
    it('JSON', async () => {
      const res = await post('echo').set('Content-Type', 'application/json; charset=utf-8').send('{"n":[1,2],"s":"é"}');
      expect(res.body.data).toEqual({ n: [1, 2], s: 'é' });
    });
    it('JSON with a vendor type (application/vnd.api+json)', async () => {
      const res = await post('echo').set('Content-Type', 'application/vnd.api+json').send('{"ok":true}');
      expect(res.body.data).toEqual({ ok: true });
    });
    it('unparsable JSON is 400 INVALID_BODY', async () => {
      expectError(await post('echo').set('Content-Type', 'application/json').send('{"a":'), 400, 'INVALID_BODY');
    });
    it('invalid UTF-8 is 400 INVALID_BODY', async () => {
      const bad = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]);
      const origin = await t.listen();
      const headers = { 'Content-Type': 'application/json' };
      expectError(await rawRequest(origin, '/api/webhooks/echo', { headers, body: bad }), 400, 'INVALID_BODY');
    });
    it('NUL characters (which no database stores as text) are 400 INVALID_BODY', async () => {
      expectError(
        await post('echo').set('Content-Type', 'application/json').send('{"a":"x\\u0000y"}'),
        400,
        'INVALID_BODY',
      );
      expectError(await post('echo').type('form').send('a=%00'), 400, 'INVALID_BODY');
    });
    it('__proto__ and constructor keys are dropped', async () => {
      const res = await post('echo')
        .set('Content-Type', 'application/json')
        .send('{"a":1,"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}');
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({ a: 1 });
      expect(({} as any).polluted).toBeUndefined();
    });
    it('deeply nested JSON is 400 INVALID_BODY', async () => {
      const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
      expectError(await post('any-method').set('Content-Type', 'application/json').send(deep), 400, 'INVALID_BODY');
    });
    it('urlencoded form fields', async () => {
      const res = await post('echo').type('form').send('name=Ann&tags=a&tags=b&nested[x]=1');
      expect(res.body.data).toEqual({ name: 'Ann', tags: ['a', 'b'], nested: { x: '1' } });
    });
    it('multipart fields and files', async () => {
      const res = await post('echo')
        .field('title', 'report')
        .attach('upload', Buffer.from('hello file'), { filename: 'hello.txt', contentType: 'text/plain' });
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({ title: 'report' });
      expect(res.body.files).toHaveLength(1);
      const [file] = res.body.files;
      expect(file).toMatchObject({ field: 'upload', name: 'hello.txt', type: 'text/plain', size: 10 });
      expect(file).toMatchObject({ filename: 'hello.txt', mimeType: 'text/plain' });
      // Kept while the run lasts (see uploads.test.ts), removed when it ended.
      expect(existsSync(file.path)).toBe(false);
    });
    it('a multipart body without its boundary is 400', async () => {
      expectError(
        await post('echo').set('Content-Type', 'multipart/form-data; boundary=xyz').send('garbage without parts'),
        400,
        'INVALID_BODY',
      );
    });
    it('text/plain and XML arrive as text', async () => {
      expect((await post('echo').set('Content-Type', 'text/plain').send('just text')).body.data).toBe('just text');
      const xml = '<?xml version="1.0"?><order id="1"/>';
      expect((await post('echo').set('Content-Type', 'application/xml').send(xml)).body.data).toBe(xml);
      expect((await post('echo').set('Content-Type', 'text/xml').send(xml)).body.data).toBe(xml);
    });
    it('application/octet-stream is stored as a file', async () => {
      const bytes = Buffer.from([0, 1, 2, 3, 255]);
      const res = await post('echo').set('Content-Type', 'application/octet-stream').send(bytes);
      expect(res.status).toBe(200);
      expect(res.body.data).toBeNull();
      expect(res.body.files[0]).toMatchObject({ field: 'body', size: 5 });
      expect(existsSync(res.body.files[0].path)).toBe(false);
    });
    it('an empty body gives null data', async () => {
      const res = await post('echo');
      expect(res.status).toBe(200);
      expect(res.body.data).toBeNull();
    });
    it('without Content-Type: JSON when it parses, else text', async () => {
      const asJson = await post('echo').set('Content-Type', '').send(Buffer.from('{"k":"v"}'));
      expect(asJson.body.data).toEqual({ k: 'v' });
      const asText = await post('echo').set('Content-Type', '').send(Buffer.from('k=v plain'));
      expect(asText.body.data).toBe('k=v plain');
    });
    it('an unsupported media type is 415', async () => {
      expectError(
        await post('echo')
          .set('Content-Type', 'image/png')
          .send(Buffer.from([1, 2])),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      );
    });
    it('maxBodyBytes: larger bodies are 413, declared or streamed', async () => {
      expectError(await post('small').send({ text: 'more than sixteen bytes' }), 413, 'PAYLOAD_TOO_LARGE');
      const ok = await post('small').send({ a: 1 });
      expect(ok.status).toBe(200);
    });
    it('the default limit is 1 MiB', async () => {
      const big = JSON.stringify({ s: 'x'.repeat(1024 * 1024) });
      expectError(await post('echo').set('Content-Type', 'application/json').send(big), 413, 'PAYLOAD_TOO_LARGE');
      const fits = JSON.stringify({ s: 'x'.repeat(1000 * 1000) });
      expect((await post('echo').set('Content-Type', 'application/json').send(fits)).status).toBe(200);
    });
  });

  describe('bodySchema', () => {
    it('a body that fails the schema is 422 with the failed rules, and starts nothing', async () => {
      const before = await t.app.db.getRepository('executions').count();
      const res = await post('schema').send({ id: 'x', email: 'nope' });
      expectError(res, 422, 'SCHEMA_VALIDATION_FAILED');
      const rules = res.body.error.details.map((d: any) => d.rule).sort();
      expect(rules).toEqual(['format', 'type']);
      expect(await t.app.db.getRepository('executions').count()).toBe(before);
    });
    it('a body that passes runs the workflow', async () => {
      const res = await post('schema').send({ id: 7, email: 'a@example.com' });
      expect(res.status).toBe(200);
      expect(res.body.data.id).toBe(7);
    });
    it('draft-07 schemas work too', async () => {
      expect((await post('schema07').send(['a', 'b'])).status).toBe(200);
      expectError(await post('schema07').send([1]), 422, 'SCHEMA_VALIDATION_FAILED');
    });
  });

  describe('variables', () => {
    it('headers are lower-case, ip is the socket address', async () => {
      const res = await post('echo').set('X-Custom-Header', 'Value').send({});
      expect(res.body.headers['x-custom-header']).toBe('Value');
      expect(res.body.ip).toBe('127.0.0.1');
      expect(res.body.params).toEqual({});
      expect(res.body.files).toEqual([]);
    });
  });
});
