import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app';
import { createWebhookWorkflow } from './helpers/workflows';

interface Answer {
  status: number;
  contentType: string;
  body: string;
  case: string;
}

const SOCKET_DEADLINE_MS = 6000;

/** Sends exact bytes over a socket (optionally in slow pieces) and reads one HTTP answer. */
function rawExchange(port: number, pieces: Buffer[], label: string, pauseMs = 0): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    const deadline = setTimeout(() => {
      socket.destroy();
      reject(new Error(`${label}: no answer within ${SOCKET_DEADLINE_MS} ms (stalled socket)`));
    }, SOCKET_DEADLINE_MS);
    const finish = () => {
      clearTimeout(deadline);
      const text = data.toString('latin1');
      const match = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (!match) {
        reject(new Error(`${label}: connection closed without an HTTP answer`));
        return;
      }
      const [head, ...rest] = text.split('\r\n\r\n');
      const contentType = /content-type: ([^\r\n]+)/i.exec(head)?.[1] ?? '';
      resolve({ status: Number(match[1]), contentType, body: rest.join('\r\n\r\n'), case: label });
    };
    socket.on('data', (chunk) => {
      data = Buffer.concat([data, chunk]);
      const text = data.toString('latin1');
      const length = /content-length: (\d+)/i.exec(text);
      const headEnd = text.indexOf('\r\n\r\n');
      if (length && headEnd >= 0 && data.length >= headEnd + 4 + Number(length[1])) {
        socket.destroy();
        finish();
      }
    });
    socket.on('close', () => {
      if (data.length) finish();
    });
    socket.on('error', () => undefined);
    socket.on('connect', async () => {
      for (const piece of pieces) {
        if (socket.destroyed) return;
        socket.write(piece);
        if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs));
      }
    });
  });
}

function request(method: string, path: string, headers: Record<string, string | number>, body: Buffer | string = '') {
  const payload = Buffer.isBuffer(body) ? body : Buffer.from(body);
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close'];
  const hasLength = Object.keys(headers).some((h) => h.toLowerCase() === 'content-length');
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  if (!hasLength && !('Transfer-Encoding' in headers)) lines.push(`Content-Length: ${payload.length}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`), payload]);
}

const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

/** At least 1,000 bad requests of many kinds, each with a label. */
function* badRequests(): Generator<{ label: string; pieces: Buffer[]; pauseMs?: number }> {
  const json = { 'Content-Type': 'application/json' };
  const valid = JSON.stringify({ order: 1, items: [1, 2, 3], note: 'fine' });
  for (let i = 0; i < 120; i++) {
    const cut = valid.slice(0, 1 + (i % (valid.length - 1)));
    yield { label: `truncated json ${i}`, pieces: [request('POST', '/api/webhooks/strict', json, cut)] };
    yield {
      label: `forged signature ${i}`,
      pieces: [
        request(
          'POST',
          '/api/webhooks/signed',
          { ...json, 'X-Hub-Signature-256': `sha256=${randomBytes(32).toString('hex')}` },
          valid,
        ),
      ],
    };
    yield {
      label: `random bytes ${i}`,
      pieces: [request('POST', '/api/webhooks/strict', json, randomBytes(1 + (i % 300)))],
    };
    yield {
      label: `spoofed xff ${i}`,
      pieces: [
        request('POST', '/api/webhooks/lan-only', { ...json, 'X-Forwarded-For': `192.168.0.${i % 255}` }, valid),
      ],
    };
    yield {
      label: `proto keys ${i}`,
      pieces: [
        request(
          'POST',
          '/api/webhooks/strict',
          json,
          `{"__proto__":{"admin":${i}},"constructor":{"prototype":{"x":1}},"a":{"__proto__":[]}}`,
        ),
      ],
    };
  }
  for (let i = 0; i < 60; i++) {
    yield { label: `deep json ${i}`, pieces: [request('POST', '/api/webhooks/strict', json, nested(65 + i * 50))] };
    yield {
      label: `invalid utf-8 ${i}`,
      pieces: [
        request(
          'POST',
          '/api/webhooks/strict',
          json,
          Buffer.concat([Buffer.from('{"a":"'), randomBytes(4).fill(0xff, 0, 1), Buffer.from('"}')]),
        ),
      ],
    };
    yield {
      label: `unsupported type ${i}`,
      pieces: [request('POST', '/api/webhooks/strict', { 'Content-Type': `application/x-thing-${i}` }, 'x')],
    };
    yield {
      label: `wrong method ${i}`,
      pieces: [request(['PUT', 'PATCH', 'DELETE', 'GET'][i % 4], '/api/webhooks/strict', json, '{}')],
    };
    yield {
      label: `nul in json ${i}`,
      pieces: [request('POST', '/api/webhooks/strict', json, `{"k${i}":"a\\u0000b"}`)],
    };
    yield {
      label: `nul in text ${i}`,
      pieces: [request('POST', '/api/webhooks/strict', { 'Content-Type': 'text/plain' }, `a\u0000${i}`)],
    };
    yield { label: `unknown key ${i}`, pieces: [request('POST', `/api/webhooks/nope-${i}`, json, valid)] };
    yield {
      label: `oversized ${i}`,
      pieces: [request('POST', '/api/webhooks/strict', json, Buffer.alloc(2048 + i, 0x61))],
    };
    yield {
      label: `oversized chunked ${i}`,
      pieces: [
        request(
          'POST',
          '/api/webhooks/strict',
          { ...json, 'Transfer-Encoding': 'chunked' },
          `1000\r\n${'a'.repeat(4096)}\r\n0\r\n\r\n`,
        ),
      ],
    };
    yield {
      label: `bad content-length ${i}`,
      pieces: [
        request(
          'POST',
          '/api/webhooks/strict',
          { ...json, 'Content-Length': ['abc', '-1', '1e3', '12, 13'][i % 4] },
          '{}',
        ),
      ],
    };
  }
  for (let i = 0; i < 10; i++) {
    yield {
      label: `too many parts ${i}`,
      pieces: [
        request(
          'POST',
          '/api/webhooks/strict-multipart',
          { 'Content-Type': 'multipart/form-data; boundary=XX' },
          `${'--XX\r\nContent-Disposition: form-data; name="f"\r\n\r\nv\r\n'.repeat(1100)}--XX--\r\n`,
        ),
      ],
    };
    yield {
      label: `broken multipart ${i}`,
      pieces: [
        request(
          'POST',
          '/api/webhooks/strict-multipart',
          { 'Content-Type': 'multipart/form-data; boundary=XX' },
          '--XX\r\nContent-Disposition: form-data; name="f"\r\n\r\nno end',
        ),
      ],
    };
    yield {
      label: `huge headers ${i}`,
      pieces: [request('POST', '/api/webhooks/strict', { ...json, 'X-Big': 'h'.repeat(20_000 + i) }, '{}')],
    };
    yield {
      label: `short body ${i}`,
      pieces: [request('POST', '/api/webhooks/strict', { ...json, 'Content-Length': 500 }, '{"a":1}')],
    };
    yield {
      label: `slow body ${i}`,
      pieces: [
        request('POST', '/api/webhooks/strict', { ...json, 'Content-Length': 20 }, '{"a"'),
        Buffer.from(':'),
        Buffer.from('1'),
      ],
      pauseMs: 400,
    };
  }
}

// Issue: hostile input. Every answer is a 4xx in the JSON error shape; no 5xx, no crash, no
// stalled socket, no execution; the app answers normally afterwards.
describe('hostile input', () => {
  let t: TestApp;
  let port: number;

  beforeAll(async () => {
    process.env.WEBHOOK_BODY_TIMEOUT_MS = '1000';
    t = await createTestApp();
    port = Number(new URL(await t.listen()).port);
    const never = { not: {} };
    await createWebhookWorkflow(t.app, {
      sync: true,
      config: { key: 'strict', maxBodyBytes: 2048, bodySchema: never },
    });
    await createWebhookWorkflow(t.app, { config: { key: 'strict-multipart', bodySchema: never } });
    await createWebhookWorkflow(t.app, {
      sync: true,
      config: { key: 'signed', verification: { type: 'github', secret: 's' } },
    });
    await createWebhookWorkflow(t.app, { config: { key: 'lan-only', ipAllowlist: ['192.168.0.0/16'] } });
    await createWebhookWorkflow(t.app, {
      sync: true,
      config: { key: 'healthy' },
      nodes: [{ type: 'output', config: { value: 'still here' } }],
    });
  });
  afterAll(async () => {
    delete process.env.WEBHOOK_BODY_TIMEOUT_MS;
    await t?.destroy();
  });

  it('answers 1,000+ bad requests with JSON 4xx errors and starts nothing', async () => {
    const cases = [...badRequests()];
    expect(cases.length).toBeGreaterThanOrEqual(1000);
    const answers: Answer[] = [];
    const queue = [...cases];
    const worker = async () => {
      for (let c = queue.shift(); c; c = queue.shift())
        answers.push(await rawExchange(port, c.pieces, c.label, c.pauseMs));
    };
    await Promise.all(Array.from({ length: 16 }, worker));

    const wrong = answers.filter((a) => {
      if (a.status < 400 || a.status > 499 || !a.contentType.includes('application/json')) return true;
      try {
        const { error } = JSON.parse(a.body);
        return typeof error?.code !== 'string' || typeof error?.message !== 'string';
      } catch {
        return true;
      }
    });
    expect(wrong.map((a) => `${a.case}: ${a.status} ${a.body.slice(0, 120)}`)).toEqual([]);
    const statuses = new Set(answers.map((a) => a.status));
    for (const s of [400, 401, 403, 404, 405, 408, 413, 415, 422, 431]) expect(statuses, `status ${s}`).toContain(s);

    expect(await t.app.db.getRepository('executions').count()).toBe(0);
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
