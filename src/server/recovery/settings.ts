/** How often a process proves it is alive, and how long its silence means it died. */
export interface RecoverySettings {
  /** A process writes its heartbeat (and looks for dead processes' runs) this often. */
  heartbeatMs: number;
  /** A process whose heartbeat is older than this is dead; its runs are taken over. */
  leaseMs: number;
  /**
   * Only one process uses the database (SQLite always): every run not started by this process
   * belongs to a dead one, and is recovered at once on start instead of after the lease.
   */
  singleProcess: boolean;
}

const positive = (value: string | undefined, fallback: number) => {
  const n = Number(value);
  return value && Number.isFinite(n) && n > 0 ? n : fallback;
};

/** The settings from WEBHOOK_RECOVERY_* environment variables (the one place that reads them). */
export function recoverySettingsFromEnv(dialect: string, env: NodeJS.ProcessEnv = process.env): RecoverySettings {
  const heartbeatMs = positive(env.WEBHOOK_RECOVERY_HEARTBEAT_MS, 10_000);
  const single = env.WEBHOOK_RECOVERY_SINGLE_PROCESS;
  return {
    heartbeatMs,
    // At least two heartbeats: one late write must not make a live process look dead.
    leaseMs: Math.max(positive(env.WEBHOOK_RECOVERY_LEASE_MS, 3 * heartbeatMs), 2 * heartbeatMs),
    singleProcess: single ? ['1', 'true', 'on', 'yes'].includes(single.toLowerCase()) : dialect === 'sqlite',
  };
}
