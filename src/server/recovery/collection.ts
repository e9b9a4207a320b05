import type { CollectionOptions } from '@nocobase/database';

export const RUNNERS = 'webhookRunners';
/** Column added to the engine's `executions`: the process (runner) that started or queued the run. */
export const RUNNER_FIELD = 'webhookRunnerId';

/** One row per live application process: its id and its last heartbeat. */
export const runnersCollection: CollectionOptions = {
  name: RUNNERS,
  dumpRules: { group: 'log' },
  migrationRules: ['schema-only'],
  shared: true,
  autoGenId: false,
  timestamps: false,
  fields: [
    { type: 'string', name: 'id', primaryKey: true },
    { type: 'date', name: 'startedAt' },
    { type: 'date', name: 'heartbeatAt' },
  ],
} as CollectionOptions;

export const executionsRunnerField = { type: 'string', name: RUNNER_FIELD } as const;
