import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChildApp, databaseEnv, sharedStorage, signInAsRoot, startChildApp } from '../helpers/child-app';
import { type DatabaseOptions, freshDatabase } from '../helpers/database';
import {
  filesUnder,
  HOSTILE_TARGETS,
  rawExchange,
  request,
  sendBadRequests,
  wrongAnswers,
} from '../helpers/hostile-requests';

// Issue 9: no request can end the process. A crash, an unhandled rejection or a hang is only
// visible against a real process: `npm run start:api` runs as a child, gets every hostile and
// truncated request, and must still answer afterwards, with no file left and nothing started.
describe('hostile requests against a real process', () => {
  let db: { options: DatabaseOptions; drop: () => Promise<void> };
  let child: ChildApp;
  let storage: string;
  let port: number;
  let api: Awaited<ReturnType<typeof signInAsRoot>>;

  const healthy = async () => {
    const res = await fetch(`${child.origin}/api/webhooks/healthy`, { method: 'POST', body: '{}' });
    return { status: res.status, body: await res.json() };
  };
  /** Writes `bytes` on a new connection and reads all the server sends until it closes it. */
  const untilClosed = (bytes: string | Buffer) =>
    new Promise<string>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      let data = '';
      socket.on('data', (chunk) => {
        data += chunk.toString();
      });
      socket.on('close', () => resolve(data));
      socket.write(bytes);
    });
  const alive = () => child.process.exitCode === null && child.process.signalCode === null;

  beforeAll(async () => {
    db = await freshDatabase();
    storage = sharedStorage();
    child = await startChildApp({
      ...databaseEnv(db.options),
      STORAGE_PATH: storage,
      WEBHOOK_BODY_TIMEOUT_MS: '1000',
      WEBHOOK_HEADERS_TIMEOUT_MS: '3000',
    });
    port = Number(new URL(child.origin).port);
    api = await signInAsRoot(child.origin);
    for (const target of [...HOSTILE_TARGETS, { sync: true, config: { key: 'paths', path: '/orders/:id' } }]) {
      const created = await api('workflows:create', { title: target.config.key, type: 'webhook', ...target });
      const id = created.data.id;
      if (target.sync) await api(`workflows/${id}/nodes:create`, { type: 'output', config: { value: 'still here' } });
      await api(`workflows:update?filterByTk=${id}`, { enabled: true });
    }
  });
  afterAll(async () => {
    await child?.kill();
    await db?.drop();
  });

  it('survives the truncated multipart body that used to end it (an unhandled rejection)', async () => {
    const body = '--B\r\nContent-Disposition: form-data; name="f"; filename="a"\r\n\r\nhello';
    const answer = await rawExchange(
      port,
      [request('POST', '/api/webhooks/open', { 'Content-Type': 'multipart/form-data; boundary=B' }, body)],
      'issue 9 request',
    );
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body).error.code).toBe('INVALID_BODY');
    await new Promise((r) => setTimeout(r, 500));
    expect(alive(), child.output()).toBe(true);
    expect(await healthy()).toEqual({ status: 200, body: 'still here' });
  });

  it('a 413 closes the connection instead of keeping a socket with an unread body', async () => {
    const answer = await untilClosed(
      request('POST', '/api/webhooks/strict', { 'Content-Type': 'application/json', 'Content-Length': 5000 }),
    );
    expect(answer).toMatch(/^HTTP\/1\.1 413/);
    expect(answer.toLowerCase()).toContain('connection: close');
    expect(answer).toContain('PAYLOAD_TOO_LARGE');
  });

  it('stalled headers get 408 in the JSON error shape', async () => {
    const answer = await untilClosed('POST /api/webhooks/open HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(answer).toContain('REQUEST_TIMEOUT');
  });

  it('NUL is refused in the sub-path as in the query and the body; the good path is served', async () => {
    const bad = await fetch(`${child.origin}/api/webhooks/paths/orders/a%00b`, { method: 'POST', body: '{}' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error.code).toBe('INVALID_BODY');
    const good = await fetch(`${child.origin}/api/webhooks/paths/orders/a-b`, { method: 'POST', body: '{}' });
    expect(good.status).toBe(200);
  });

  it('answers 1,000+ hostile, truncated and aborted requests and goes on: no 5xx, no file, no execution', async () => {
    const answers = await sendBadRequests(port);
    expect(answers.length).toBeGreaterThanOrEqual(1000);
    expect(wrongAnswers(answers)).toEqual([]);
    await new Promise((r) => setTimeout(r, 500));
    expect(alive(), child.output()).toBe(true);
    expect(child.output()).not.toMatch(/unhandled|uncaught/i);
    expect(await healthy()).toEqual({ status: 200, body: 'still here' });
    expect(filesUnder(path.join(storage, 'uploads'))).toEqual([]);
    // Only the health checks and the good sub-path ran.
    const executions = await api('executions:list?pageSize=1');
    expect(executions.meta.count).toBe(3);
  });
});
