import type { WebhookSettings } from '../settings';

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

/** The recovery settings from the WEBHOOK_RECOVERY_* variables (read and checked in settings.ts). */
export function recoverySettings(settings: WebhookSettings, dialect: string): RecoverySettings {
  const heartbeatMs = settings.WEBHOOK_RECOVERY_HEARTBEAT_MS;
  const lease = settings.WEBHOOK_RECOVERY_LEASE_MS;
  return {
    heartbeatMs,
    // At least two heartbeats: one late write must not make a live process look dead.
    leaseMs: Math.max(lease === 0 ? 3 * heartbeatMs : lease, 2 * heartbeatMs),
    singleProcess: dialect === 'sqlite' || settings.WEBHOOK_RECOVERY_SINGLE_PROCESS === 'on',
  };
}
