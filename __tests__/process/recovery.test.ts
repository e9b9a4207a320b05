import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ChildApp,
  databaseEnv,
  dropRedisKeys,
  sharedStorage,
  signInAsRoot,
  startChildApp,
} from '../helpers/child-app';
import { type DatabaseOptions, dialect, freshDatabase, postgresClient } from '../helpers/database';

// Issue 9, part 3: an async delivery answered 202 whose execution was running in a process that
// died must still end. The product runs in a child process (scripts/start.ts) with the test-only
// `test-sleep` node, so that a run is reliably "started, not finished" when SIGKILL comes.
const HEARTBEAT_MS = 300;
const LEASE_MS = 1_500;
const recoveryEnv = {
  WEBHOOK_TEST_INSTRUCTIONS: 'on',
  WEBHOOK_RECOVERY_HEARTBEAT_MS: String(HEARTBEAT_MS),
  WEBHOOK_RECOVERY_LEASE_MS: String(LEASE_MS),
};
const STARTED = 0;
const RESOLVED = 1;

type Api = Awaited<ReturnType<typeof signInAsRoot>>;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(limitMs: number, what: string, probe: () => Promise<T | null | undefined | false>) {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value) return { value, ms: Date.now() - started };
    if (Date.now() - started > limitMs) throw new Error(`${what}: not seen in ${limitMs} ms`);
    await sleep(100);
  }
}

async function createWorkflow(api: Api, key: string, nodes: object[]) {
  const created = await api('workflows:create', {
    title: `recovery ${key}`,
    type: 'webhook',
    sync: false,
    config: { key },
  });
  let upstreamId: string | null = null;
  for (const node of nodes) {
    const made: any = await api(`workflows/${created.data.id}/nodes:create`, { ...node, upstreamId });
    upstreamId = made.data.id;
  }
  await api(`workflows:update?filterByTk=${created.data.id}`, { enabled: true });
  return created.data as { id: string; key: string };
}

async function post(origin: string, key: string, body: object): Promise<string> {
  const res = await fetch(`${origin}/api/webhooks/${key}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { deliveryId: string }).deliveryId;
}

const executionsOf = async (api: Api, workflowKey: string): Promise<any[]> =>
  (await api(`executions:list?filter=${encodeURIComponent(JSON.stringify({ key: workflowKey }))}&pageSize=200`)).data;

describe('an execution running in a process killed with SIGKILL is finished after a restart', () => {
  let db: { options: DatabaseOptions; drop: () => Promise<void> };
  let env: Record<string, string>;
  const children: ChildApp[] = [];

  beforeAll(async () => {
    db = await freshDatabase();
    env = { ...databaseEnv(db.options), STORAGE_PATH: sharedStorage(), ...recoveryEnv };
  });
  afterAll(async () => {
    for (const child of children) await child.kill();
    await db?.drop();
  });

  it('every delivery answered 202 ends resolved, with exactly one execution', async () => {
    const first = await startChildApp(env);
    children.push(first);
    const api = await signInAsRoot(first.origin);
    const workflow = await createWorkflow(api, 'recover-one', [
      { type: 'test-sleep', config: { ms: 1_200 } },
      { type: 'output', config: { value: '{{$context.data.n}}' } },
    ]);

    // One process runs one execution at a time: the first is started, the others wait queued.
    const deliveries: string[] = [];
    for (let n = 0; n < 4; n++) deliveries.push(await post(first.origin, 'recover-one', { n }));
    const { value: running } = await until(10_000, 'an execution started', async () =>
      (await executionsOf(api, workflow.key)).find((e) => e.status === STARTED),
    );
    await first.kill('SIGKILL');
    expect(first.process.signalCode).toBe('SIGKILL');

    const second = await startChildApp(env);
    children.push(second);
    const api2 = await signInAsRoot(second.origin);
    const { ms } = await until(30_000, 'every execution resolved', async () => {
      const rows = await executionsOf(api2, workflow.key);
      return rows.length >= deliveries.length && rows.every((e) => e.status !== STARTED && e.status !== null);
    });
    const executions = await executionsOf(api2, workflow.key);
    // One execution per delivery, each resolved, the interrupted one included.
    expect(executions.map((e) => e.eventKey).sort()).toEqual([...deliveries].sort());
    expect(executions.map((e) => e.status)).toEqual(executions.map(() => RESOLVED));
    expect(executions.find((e) => e.id === running.id)?.status).toBe(RESOLVED);
    const outputs = await Promise.all(
      executions.map(async (e) => (await api2(`executions:get?filterByTk=${e.id}`)).data.output),
    );
    expect(outputs.sort()).toEqual([0, 1, 2, 3]);
    console.log(`recovery (${dialect}): ${deliveries.length} deliveries resolved ${ms} ms after the restart`);

    // A later restart finds nothing to recover: still one execution per delivery, none re-run.
    await second.kill('SIGKILL');
    const third = await startChildApp(env);
    children.push(third);
    await sleep(LEASE_MS + 2 * HEARTBEAT_MS);
    const api3 = await signInAsRoot(third.origin);
    const again = await executionsOf(api3, workflow.key);
    expect(again).toHaveLength(deliveries.length);
    expect(again.every((e) => e.status === RESOLVED)).toBe(true);
  }, 120_000);
});

const REDIS_URL = process.env.REDIS_URL;

describe.skipIf(dialect !== 'postgres' || !REDIS_URL)(
  'cluster: the survivor finishes a killed process runs within the lease, never a live one',
  () => {
    const runId = randomBytes(4).toString('hex');
    const prefix = `webhook-recovery-${runId}`;
    let db: { options: DatabaseOptions; drop: () => Promise<void> };
    let sql: (text: string, values?: unknown[]) => Promise<any[]>;
    let closeSql: () => Promise<void> = async () => {};
    const children: ChildApp[] = [];

    beforeAll(async () => {
      db = await freshDatabase();
      ({ sql, close: closeSql } = await postgresClient(db.options));
    });
    afterAll(async () => {
      for (const child of children) await child.kill('SIGKILL').catch(() => undefined);
      await closeSql();
      await db?.drop();
      await dropRedisKeys(REDIS_URL, prefix);
    }, 60_000);

    it('recovers the dead process runs on the live one and leaves the live one alone', async () => {
      const shared = {
        ...databaseEnv(db.options),
        ...recoveryEnv,
        APP_KEY: randomBytes(32).toString('hex'),
        REDIS_URL: REDIS_URL as string,
        REDIS_KEY_PREFIX: prefix,
      };
      const a = await startChildApp({ ...shared, STORAGE_PATH: sharedStorage() });
      children.push(a);
      const api = await signInAsRoot(a.origin);
      await api('collections:create', {
        name: 'recovery_runs',
        fields: [
          { name: 'n', type: 'integer' },
          { name: 'tag', type: 'string' },
        ],
      });
      const b = await startChildApp({ ...shared, STORAGE_PATH: sharedStorage() });
      children.push(b);
      const record = (tag: string) => ({
        type: 'create',
        config: { collection: 'recovery_runs', params: { values: { n: '{{$context.data.n}}', tag } } },
      });
      // B's run outlives A's death by more than the lease: it must run once, never restarted.
      const longRun = await createWorkflow(api, `long-${runId}`, [
        record('long'),
        { type: 'test-sleep', config: { ms: LEASE_MS * 4 } },
        { type: 'output', config: { value: '{{$context.data.n}}' } },
      ]);
      const work = await createWorkflow(api, `work-${runId}`, [
        { type: 'test-sleep', config: { ms: 800 } },
        { type: 'output', config: { value: '{{$context.data.n}}' } },
      ]);
      await until(10_000, 'workflows served on B', async () => {
        const res = await fetch(`${b.origin}/api/webhooks/work-${runId}`);
        return res.status === 405;
      });
      const executions = (key: string) =>
        sql(
          `SELECT id, "eventKey", status, "startedAt", "webhookRunnerId" FROM executions WHERE key = $1 ORDER BY id`,
          [key],
        );

      const long = await post(b.origin, `long-${runId}`, { n: 100 });
      const { value: longStarted } = await until(10_000, 'the long run started on B', async () =>
        (await executions(longRun.key)).find((e) => e.eventKey === long && e.status === STARTED),
      );
      const deliveries: string[] = [];
      for (let n = 0; n < 3; n++) deliveries.push(await post(a.origin, `work-${runId}`, { n }));
      const { value: cut } = await until(10_000, 'a run started on A', async () =>
        (await executions(work.key)).find((e) => e.status === STARTED),
      );
      await a.kill('SIGKILL');
      expect(a.process.signalCode).toBe('SIGKILL');
      expect((await executions(longRun.key))[0].status).toBe(STARTED);

      // The survivor takes A's runs (the started one and the queued ones) within the lease.
      const { ms: takenMs } = await until(LEASE_MS * 4, "A's runs taken by B", async () => {
        const rows = await executions(work.key);
        return rows.every((e) => e.webhookRunnerId !== cut.webhookRunnerId);
      });
      // ... while B's own run, started before and still going, is untouched.
      const longNow = (await executions(longRun.key))[0];
      expect(longNow.status).toBe(STARTED);
      expect(new Date(longNow.startedAt).getTime()).toBe(new Date(longStarted.startedAt).getTime());

      await until(30_000, 'every run resolved', async () => {
        const rows = [...(await executions(work.key)), ...(await executions(longRun.key))];
        return rows.length === 4 && rows.every((e) => e.status === RESOLVED);
      });
      const rows = await executions(work.key);
      expect(rows.map((e) => e.eventKey).sort()).toEqual([...deliveries].sort());
      const longRows = await executions(longRun.key);
      expect(longRows).toHaveLength(1);
      expect(new Date(longRows[0].startedAt).getTime()).toBe(new Date(longStarted.startedAt).getTime());
      // The long run's first node ran once: it was never restarted.
      const runs = await sql(`SELECT count(*)::int AS c FROM recovery_runs WHERE tag = 'long'`);
      expect(runs[0].c).toBe(1);
      console.log(`cluster recovery: A's runs taken by B within ${takenMs} ms of the kill (lease ${LEASE_MS} ms)`);
    }, 150_000);
  },
);
