/**
 * Every `WEBHOOK_*` environment variable, read and checked in one place. An invalid value stops
 * start-up with a message that names the variable (the plugin reads them in `load`), instead of
 * a silent `Number('')` = 0 or `NaN` somewhere down the line (a lane of 0 hangs every sync
 * webhook; a sweep interval of NaN fires every millisecond). README.md's environment-variable
 * table lists the same variables (a test compares the two).
 */

interface IntegerSpec {
  kind: 'integer';
  /** The value when the variable is unset; `null` where it depends on the database (see `meaning`). */
  default: number | null;
  min: number;
  max: number;
  unit: string;
  meaning: string;
}

interface SwitchSpec {
  kind: 'switch';
  default: 'on' | 'off';
  unit: '';
  meaning: string;
}

interface ChoiceSpec {
  kind: 'choice';
  default: string;
  values: readonly string[];
  unit: '';
  meaning: string;
}

interface TextSpec {
  kind: 'text';
  default: '';
  unit: '';
  meaning: string;
}

export type SettingSpec = IntegerSpec | SwitchSpec | ChoiceSpec | TextSpec;

/** Largest delay a Node timer takes (about 24.8 days). */
const MAX_TIMER_MS = 2_147_483_647;

/** The variables, their defaults, ranges and units. Exported for the README check and the runners. */
export const SETTINGS = {
  WEBHOOK_SYNC_CONCURRENCY: {
    kind: 'integer',
    default: null,
    min: 1,
    max: 10_000,
    unit: 'runs',
    meaning: 'sync webhook runs at once per process; more wait their turn',
  },
  WEBHOOK_BODY_TIMEOUT_MS: {
    kind: 'integer',
    default: 15_000,
    min: 1,
    max: MAX_TIMER_MS,
    unit: 'ms',
    meaning: 'a body that has not fully arrived by then gets `408 REQUEST_TIMEOUT`',
  },
  WEBHOOK_LOG_BODY_BYTES: {
    kind: 'integer',
    default: 32 * 1024,
    min: 0,
    // Its base64 form must still fit MySQL/MariaDB's TEXT column (65,535 bytes).
    max: 32 * 1024,
    unit: 'bytes',
    meaning: 'the delivery log keeps this much of each body (0: none; at most 32 KiB, which fits MySQL TEXT as base64)',
  },
  WEBHOOK_LOG_FLUSH_MS: {
    kind: 'integer',
    default: 50,
    min: 0,
    max: 60_000,
    unit: 'ms',
    meaning: 'a batch of delivery-log rows is written this long after its first row',
  },
  WEBHOOK_LOG_REJECTED_PER_SECOND: {
    kind: 'integer',
    default: 200,
    min: 0,
    max: 1_000_000,
    unit: 'rows/s',
    meaning: 'rejected requests logged one by one per second; the rest are counted in one `LOG_SUPPRESSED` row',
  },
  WEBHOOK_DELIVERY_RETENTION_DAYS: {
    kind: 'integer',
    default: 30,
    min: 1,
    max: 36_500,
    unit: 'days',
    meaning: 'delivery-log rows older than this are deleted',
  },
  WEBHOOK_DELIVERY_MAX_ROWS: {
    kind: 'integer',
    default: 100_000,
    min: 1,
    max: 1_000_000_000,
    unit: 'rows',
    meaning: 'the delivery log keeps at most this many rows (the newest)',
  },
  WEBHOOK_DELIVERY_SWEEP_MS: {
    kind: 'integer',
    default: 60_000,
    min: 1000,
    max: MAX_TIMER_MS,
    unit: 'ms',
    meaning: 'how often each process applies the retention',
  },
  WEBHOOK_AUTH_FAILURES_PER_SECOND: {
    kind: 'integer',
    default: 20,
    min: 0,
    max: 1_000_000,
    unit: 'failures/s',
    meaning: 'failed verifications per source address and second answered at once (0: no budget)',
  },
  WEBHOOK_AUTH_FAILURE_DELAY_MS: {
    kind: 'integer',
    default: 1000,
    min: 0,
    max: 60_000,
    unit: 'ms',
    meaning: 'how long a failure past that budget waits for its `401` (0: no budget)',
  },
  WEBHOOK_AUTH_FAILURES_HELD: {
    kind: 'integer',
    default: 10_000,
    min: 0,
    max: 1_000_000,
    unit: 'answers',
    meaning: 'answers held at once; past it they go out at once with `Connection: close`',
  },
  WEBHOOK_SQLITE_TUNING: {
    kind: 'switch',
    default: 'on',
    unit: '',
    meaning:
      'SQLite only: `off` leaves Sequelize and SQLite as NocoBase sets them (no IMMEDIATE, WAL, busy timeout or turns)',
  },
  WEBHOOK_ENGINE_LOG_TUNING: {
    kind: 'switch',
    default: 'on',
    unit: '',
    meaning:
      "`off` leaves the workflow engine's loggers as NocoBase creates them (winston's default `json()` serialises every message, at every level, before any transport checks it)",
  },
  WEBHOOK_SQLITE_BUSY_TIMEOUT_MS: {
    kind: 'integer',
    default: 30_000,
    min: 1,
    max: MAX_TIMER_MS,
    unit: 'ms',
    meaning: 'SQLite only: how long a connection waits for the lock, and a transaction for its turn',
  },
  WEBHOOK_MAX_JSON_KEYS: {
    kind: 'integer',
    default: 10_000,
    min: 1,
    max: 10_000_000,
    unit: 'keys',
    meaning: 'a JSON body with more object keys gets `413`, before it is parsed',
  },
  WEBHOOK_MAX_JSON_ARRAY_ITEMS: {
    kind: 'integer',
    default: 10_000,
    min: 1,
    max: 10_000_000,
    unit: 'items',
    meaning: 'a JSON body with more array items, all its arrays together, gets `413`, before it is parsed',
  },
  WEBHOOK_JSON_WORKER_BYTES: {
    kind: 'integer',
    default: 64 * 1024,
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    unit: 'bytes',
    meaning: 'JSON bodies from this size up are parsed in a worker thread, off the event loop',
  },
  WEBHOOK_JSON_WORKERS: {
    kind: 'integer',
    default: 1,
    min: 0,
    max: 64,
    unit: 'threads',
    meaning:
      'worker threads that parse large JSON bodies, started when first needed (0: parse every body in the request thread)',
  },
  WEBHOOK_JSON_WORKER_TIMEOUT_MS: {
    kind: 'integer',
    default: 10_000,
    min: 1,
    max: MAX_TIMER_MS,
    unit: 'ms',
    meaning: 'a worker that has not parsed a body by then is replaced, and that request answered `503`',
  },
  WEBHOOK_UPLOADS_MAX_BYTES: {
    kind: 'integer',
    default: 1024 ** 3,
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    unit: 'bytes',
    meaning: 'uploads kept for all webhooks together (per process count); past it `503` with `Retry-After`',
  },
  WEBHOOK_UPLOADS_MAX_BYTES_PER_WEBHOOK: {
    kind: 'integer',
    default: 256 * 1024 ** 2,
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    unit: 'bytes',
    meaning: 'uploads kept for one webhook workflow; past it `503` with `Retry-After`',
  },
  WEBHOOK_MAX_BACKLOG_BYTES: {
    kind: 'integer',
    default: 32 * 1024 ** 2,
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    unit: 'bytes',
    meaning:
      'bodies of async deliveries queued by this process and not yet run; past it `429` with `Retry-After`, before the body is read (0: no cap)',
  },
  WEBHOOK_BACKLOG_WAIT_MS: {
    kind: 'integer',
    default: 1_000,
    min: 0,
    max: 60_000,
    unit: 'ms',
    meaning:
      'an async delivery that finds the backlog full waits this long, its body unread, for room before its `429` (0: `429` at once)',
  },
  WEBHOOK_SECRET_KEY: {
    kind: 'text',
    default: '',
    unit: '',
    meaning:
      'key material that seals verification secrets at rest (empty: `APP_KEY`, else a key file in the storage folder); every process needs the same',
  },
  WEBHOOK_RECOVERY_HEARTBEAT_MS: {
    kind: 'integer',
    default: 10_000,
    min: 100,
    max: MAX_TIMER_MS,
    unit: 'ms',
    meaning: 'each process proves it is alive this often, and looks for the runs of dead processes',
  },
  WEBHOOK_RECOVERY_LEASE_MS: {
    kind: 'integer',
    default: 0,
    min: 0,
    max: MAX_TIMER_MS,
    unit: 'ms',
    meaning: 'a process silent this long is dead and its runs are taken over (0: three heartbeats; at least two)',
  },
  WEBHOOK_RECOVERY_SINGLE_PROCESS: {
    kind: 'switch',
    default: 'off',
    unit: '',
    meaning:
      '`on`: one process uses the database, so runs it did not start are recovered at once on start (always so on SQLite)',
  },
  WEBHOOK_MOUNT: {
    kind: 'choice',
    default: 'gateway',
    values: ['gateway', 'app'],
    unit: '',
    meaning:
      "`gateway`: in the full server (`nocobase start`) `/api/webhooks/*` of the main app is answered from a Gateway request handler, before the Gateway's per-request work; `app`: only from the head of the app's Koa chain (where it is always mounted too)",
  },
  WEBHOOK_HEADERS_TIMEOUT_MS: {
    kind: 'integer',
    default: 20_000,
    min: 1000,
    max: MAX_TIMER_MS,
    unit: 'ms',
    meaning: '`npm run start:api` only: request headers that have not arrived by then get `408` (checked every 2 s)',
  },
  WEBHOOK_TEST_INSTRUCTIONS: {
    kind: 'switch',
    default: 'off',
    unit: '',
    meaning: '`npm run start:api` only, for the tests: `on` adds the test-only workflow nodes',
  },
  WEBHOOK_DEMO: {
    kind: 'switch',
    default: 'on',
    unit: '',
    meaning: '`npm run start:api` only: `off` skips the demo workflow',
  },
  WEBHOOK_STATS_MS: {
    kind: 'integer',
    default: 0,
    min: 0,
    max: MAX_TIMER_MS,
    unit: 'ms',
    meaning: '`npm run start:api` only: print a `STATS {...}` line of process figures this often (0: never)',
  },
} as const satisfies Record<string, SettingSpec>;

export type SettingName = keyof typeof SETTINGS;

type ValueOf<N extends SettingName> = (typeof SETTINGS)[N] extends SwitchSpec
  ? 'on' | 'off'
  : (typeof SETTINGS)[N] extends { kind: 'choice'; values: readonly (infer V extends string)[] }
    ? V
    : (typeof SETTINGS)[N] extends TextSpec
      ? string
      : number;

/** The settings in force, with defaults applied (`WEBHOOK_SYNC_CONCURRENCY` already resolved). */
export type WebhookSettings = { [N in SettingName]: ValueOf<N> };

/** An invalid `WEBHOOK_*` value: start-up stops with this message. */
export class SettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid webhook plugin settings: ${problems.join('; ')}`);
    this.name = 'SettingsError';
  }
}

function describeRange(spec: IntegerSpec): string {
  return `an integer from ${spec.min} to ${spec.max}${spec.unit ? ` (${spec.unit})` : ''}`;
}

/** Checks one raw value. Returns the value, or a message naming the variable. */
function parse(name: SettingName, raw: string | undefined, fallback: number | string | null): number | string | Error {
  const spec: SettingSpec = SETTINGS[name];
  if (raw === undefined) return fallback as number | string;
  if (spec.kind === 'text') return raw;
  const text = raw.trim();
  if (spec.kind === 'switch') {
    if (text === 'on' || text === 'off') return text;
    return new Error(`${name} must be "on" or "off", got ${JSON.stringify(raw)}`);
  }
  if (spec.kind === 'choice') {
    if (spec.values.includes(text)) return text;
    return new Error(
      `${name} must be one of ${spec.values.map((v) => `"${v}"`).join(', ')}, got ${JSON.stringify(raw)}`,
    );
  }
  const value = /^[+-]?\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < spec.min || value > spec.max) {
    return new Error(`${name} must be ${describeRange(spec)}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/**
 * Reads every `WEBHOOK_*` variable of `env`. Throws a SettingsError naming each invalid one.
 * `dialect` picks the default of WEBHOOK_SYNC_CONCURRENCY (1 on SQLite, 4 elsewhere).
 */
export function readSettings(env: NodeJS.ProcessEnv = process.env, dialect = 'sqlite'): WebhookSettings {
  const problems: string[] = [];
  const settings: Record<string, number | string> = {};
  for (const name of Object.keys(SETTINGS) as SettingName[]) {
    const fallback = name === 'WEBHOOK_SYNC_CONCURRENCY' ? (dialect === 'sqlite' ? 1 : 4) : SETTINGS[name].default;
    const value = parse(name, env[name], fallback);
    if (value instanceof Error) problems.push(value.message);
    else settings[name] = value;
  }
  if (problems.length) throw new SettingsError(problems);
  return settings as WebhookSettings;
}

/**
 * One variable, with a default of the caller's own (the soak runs with a small delivery log):
 * the same checks as `readSettings`, for the runners that read a WEBHOOK_ variable themselves.
 */
export function readSetting<N extends SettingName>(
  name: N,
  fallback: ValueOf<N>,
  env: NodeJS.ProcessEnv = process.env,
): ValueOf<N> {
  const value = parse(name, env[name], fallback);
  if (value instanceof Error) throw new SettingsError([value.message]);
  return value as ValueOf<N>;
}

/** The default of a variable as README.md's table shows it. */
export function defaultText(name: SettingName): string {
  const spec: SettingSpec = SETTINGS[name];
  if (name === 'WEBHOOK_SYNC_CONCURRENCY') return '1 on SQLite, 4 elsewhere';
  return spec.kind === 'text' ? '(empty)' : String(spec.default);
}

/** The allowed values as README.md's table shows them. */
export function rangeText(name: SettingName): string {
  const spec: SettingSpec = SETTINGS[name];
  if (spec.kind === 'text') return 'any text';
  if (spec.kind === 'choice') return spec.values.map((v) => `\`${v}\``).join(', ');
  return spec.kind === 'switch' ? '`on`, `off`' : `${spec.min} to ${spec.max}`;
}
