/**
 * The two ways the bench serves the plugin, behind one interface so every scenario runs on both:
 *
 * - `full`: the full NocoBase application as users run it (`nocobase-v1 start`, bench/full-app.ts),
 *   driven over HTTP only (the API as root, and the bench-only probe plugin for the engine alone,
 *   floors, backlog purge and profiles);
 * - `light`: the light runner (`app.callback()` on a bare `http.createServer`, bench/server.ts),
 *   driven over its IPC pipe.
 */
import type { FullApp } from './full-app';
import type { CreatedWorkflow, EngineRunResult, ExecStats, Rpc, WorkflowSpec } from './protocol';

export type TargetId = 'full' | 'light';

export interface Floor {
  /** Row name, the same in both columns where the floor means the same. */
  name: string;
  url: string;
  /** The same measurement stands for this row too (light runner: the route's place is the Koa chain's head). */
  alsoAs?: string;
}

export interface Target {
  id: TargetId;
  title: string;
  origin: string;
  /** The app's node process (RSS, other-load accounting). */
  pid: number;
  dialect: string;
  created: Record<string, CreatedWorkflow>;
  setup(specs: WorkflowSpec[]): Promise<Record<string, CreatedWorkflow>>;
  engineSync(args: {
    workflow: CreatedWorkflow;
    concurrency: number;
    durationMs: number;
    maxRuns: number;
    graceMs: number;
  }): Promise<EngineRunResult>;
  /** Hands `count` async events to the engine at once (returns before they run); full app only. */
  engineAsyncStart?(workflow: CreatedWorkflow, count: number): Promise<void>;
  execStats(workflowId: string): Promise<ExecStats>;
  verifyIds(workflowId: string, ids: string[]): Promise<{ ids: number; found: number; unique: number }>;
  purge(workflowId?: string): Promise<{ deleted: number; idle: boolean }>;
  /** After a run: the app has answered what it was given and its engine is idle. */
  settle(): Promise<void>;
  authBudget(on: boolean): Promise<{ perSecond: number; delayMs: number }>;
  profileStart(): Promise<void>;
  profileStop(file: string): Promise<void>;
  middlewareOrder(): Promise<{ order: string[]; natural?: string[] | null }>;
  floors: Floor[];
  /** Light runner only: the IPC channel for its own extra scenarios (routing). */
  rpc?: Rpc;
}

/** Full app: a Gateway request handler, where the route is served; light runner: first in the Koa chain. */
export const FLOOR_POSITION = "floor: no-op 204 at the webhook route's place";
/** First in the app's Koa chain: in the full app, behind the Gateway's and the supervisor's per-request work. */
export const FLOOR_KOA = "floor: no-op 204 first in the app's Koa chain";
/** Light runner only: plain node:http in the app process, before app.callback(). */
export const FLOOR_RAW = 'floor: no-op 204 from node:http, before NocoBase';

export function lightTarget(rpc: Rpc, origin: string, pid: number, dialect: string, hasPositionFloor: boolean): Target {
  return {
    id: 'light',
    title: 'light runner',
    origin,
    pid,
    dialect,
    rpc,
    created: {},
    setup: (specs) => rpc.call('setup', specs),
    engineSync: ({ workflow, ...rest }) =>
      rpc.call('engineSync', { webhookKey: workflow.webhookKey, ...rest }, rest.durationMs + rest.graceMs + 60_000),
    execStats: (workflowId) => rpc.call('execStats', { workflowId }),
    verifyIds: async (workflowId, ids) => {
      const { writeFileSync, rmSync } = await import('node:fs');
      const os = await import('node:os');
      const path = await import('node:path');
      const file = path.join(os.tmpdir(), `webhook-bench-ids-${process.pid}-${Date.now()}.txt`);
      writeFileSync(file, ids.join('\n'));
      try {
        return await rpc.call('verifyIds', { workflowId, file });
      } finally {
        rmSync(file, { force: true });
      }
    },
    purge: (workflowId) => rpc.call('purge', { workflowId, timeoutMs: 120_000 }, 150_000),
    settle: async () => {
      const { quiet, active } = await rpc.call<{ quiet: boolean; active: number }>(
        'quiesce',
        { timeoutMs: 60_000 },
        70_000,
      );
      if (!quiet)
        console.warn(`  (the light runner was still busy 60 s after the run: ${active} request(s) in flight)`);
      await new Promise((r) => setTimeout(r, 200));
    },
    authBudget: (on) => rpc.call('authBudget', { on }),
    profileStart: () => rpc.call('profileStart'),
    profileStop: (file) => rpc.call('profileStop', { file }),
    middlewareOrder: () => rpc.call('middlewareOrder'),
    floors: [
      { name: FLOOR_RAW, url: `${origin}/bench-noop/raw` },
      ...(hasPositionFloor
        ? [{ name: FLOOR_POSITION, url: `${origin}/api/bench-noop/position`, alsoAs: FLOOR_KOA }]
        : []),
    ],
  };
}

export function fullTarget(full: FullApp, dialect: string): Target {
  return {
    id: 'full',
    title: 'full app',
    origin: full.origin,
    pid: full.pid,
    dialect,
    created: {},
    setup: async (specs) => {
      const out: Record<string, CreatedWorkflow> = {};
      for (const spec of specs) out[spec.name] = await full.createWorkflow(spec);
      return out;
    },
    engineSync: ({ workflow, ...rest }) => full.engineSync({ workflowId: workflow.id, ...rest }),
    engineAsyncStart: async (workflow, count) => {
      await full.action('webhookBench:engineAsync', { workflowId: workflow.id, count }, 600_000);
    },
    execStats: (workflowId) => full.execStats(workflowId),
    verifyIds: (workflowId, ids) => full.verifyIds(workflowId, ids),
    purge: (workflowId) => full.action('webhookBench:purge', { workflowId, timeoutMs: 120_000 }, 150_000),
    settle: async () => {
      // Requests a load generator left in flight finish within a sync run's time. (The engine is
      // not waited for here: an async run's backlog keeps it busy until the purge.)
      await new Promise((r) => setTimeout(r, 500));
      await full.action('webhookBench:idle', { timeoutMs: 2_000 }, 10_000);
    },
    authBudget: (on) => full.action('webhookBench:authBudget', { on }),
    profileStart: () => full.action('webhookBench:profileStart', {}),
    profileStop: (file) => full.action('webhookBench:profileStop', { file }),
    middlewareOrder: () => full.action('webhookBench:middlewareOrder'),
    floors: [
      { name: FLOOR_POSITION, url: `${full.origin}/api/bench-noop/gateway` },
      { name: FLOOR_KOA, url: `${full.origin}/api/bench-noop/position` },
    ],
  };
}
