import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChildApp, databaseEnv, sharedStorage, signInAsRoot, startChildApp } from '../helpers/child-app';
import { type DatabaseOptions, freshDatabase } from '../helpers/database';

// SPEC.md async: "sent only after the delivery is stored so that a crash right after the 202
// loses nothing". A real app in a child process is killed with SIGKILL right after it answered
// 202; a new process on the same database runs each delivery exactly once.
describe('async deliveries survive SIGKILL', () => {
  let db: { options: DatabaseOptions; drop: () => Promise<void> };
  let env: Record<string, string>;
  const children: ChildApp[] = [];

  beforeAll(async () => {
    db = await freshDatabase();
    env = { ...databaseEnv(db.options), STORAGE_PATH: sharedStorage() };
  });
  afterAll(async () => {
    for (const child of children) await child.kill();
    await db?.drop();
  });

  it('each delivery answered 202 runs exactly once after a restart', async () => {
    // The first process accepts webhooks but runs no executions (NocoBase's WORKER_MODE for a
    // process that only serves HTTP), so that every delivery is still waiting when it is killed.
    const first = await startChildApp({ ...env, WORKER_MODE: '!' });
    children.push(first);
    const api = await signInAsRoot(first.origin);
    const created = await api('workflows:create', {
      title: 'crash test',
      type: 'webhook',
      sync: false,
      config: { key: 'crash' },
    });
    const workflowId = created.data.id;
    await api(`workflows/${workflowId}/nodes:create`, { type: 'output', config: { value: '{{$context.data.n}}' } });
    await api(`workflows:update?filterByTk=${workflowId}`, { enabled: true });

    const deliveries: string[] = [];
    for (let n = 0; n < 5; n++) {
      const res = await fetch(`${first.origin}/api/webhooks/crash`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ n }),
      });
      expect(res.status).toBe(202);
      deliveries.push(((await res.json()) as any).deliveryId);
    }
    await first.kill('SIGKILL');
    expect(first.process.signalCode).toBe('SIGKILL');

    const second = await startChildApp(env);
    children.push(second);
    const api2 = await signInAsRoot(second.origin);
    let executions: any[] = [];
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const list = await api2(
        `executions:list?filter=${encodeURIComponent(JSON.stringify({ key: created.data.key }))}&pageSize=100`,
      );
      executions = list.data;
      if (executions.length >= 5 && executions.every((e) => e.status === 1)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(executions.map((e) => e.eventKey).sort()).toEqual([...deliveries].sort());
    expect(executions.every((e) => e.status === 1)).toBe(true);
    const outputs = await Promise.all(
      executions.map(async (e) => (await api2(`executions:get?filterByTk=${e.id}`)).data.output),
    );
    expect(outputs.sort()).toEqual([0, 1, 2, 3, 4]);

    // A later restart finds nothing left to run: still exactly one execution per delivery.
    await second.kill('SIGKILL');
    const third = await startChildApp(env);
    children.push(third);
    await new Promise((r) => setTimeout(r, 1500));
    const api3 = await signInAsRoot(third.origin);
    const again = await api3(
      `executions:list?filter=${encodeURIComponent(JSON.stringify({ key: created.data.key }))}&pageSize=100`,
    );
    expect(again.data).toHaveLength(5);
    // Three app starts on two shared cores: more than the default minute.
  }, 180_000);
});
