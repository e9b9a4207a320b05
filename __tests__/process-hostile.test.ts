import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChildApp, databaseEnv, sharedStorage, signInAsRoot, startChildApp } from './helpers/child-app';
import { type DatabaseOptions, freshDatabase } from './helpers/database';
import {
  filesUnder,
  HOSTILE_TARGETS,
  rawExchange,
  request,
  sendBadRequests,
  wrongAnswers,
} from './helpers/hostile-requests';

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
  const alive = () => child.process.exitCode === null && child.process.signalCode === null;

  beforeAll(async () => {
    db = await freshDatabase();
    storage = sharedStorage();
    child = await startChildApp({ ...databaseEnv(db.options), STORAGE_PATH: storage, WEBHOOK_BODY_TIMEOUT_MS: '1000' });
    port = Number(new URL(child.origin).port);
    api = await signInAsRoot(child.origin);
    for (const target of HOSTILE_TARGETS) {
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

  it('answers 1,000+ hostile, truncated and aborted requests and goes on: no 5xx, no file, no execution', async () => {
    const answers = await sendBadRequests(port);
    expect(answers.length).toBeGreaterThanOrEqual(1000);
    expect(wrongAnswers(answers)).toEqual([]);
    await new Promise((r) => setTimeout(r, 500));
    expect(alive(), child.output()).toBe(true);
    expect(child.output()).not.toMatch(/unhandled|uncaught/i);
    expect(await healthy()).toEqual({ status: 200, body: 'still here' });
    expect(filesUnder(path.join(storage, 'uploads'))).toEqual([]);
    // Only the health checks ran.
    const executions = await api('executions:list?pageSize=1');
    expect(executions.meta.count).toBe(2);
  });
});
