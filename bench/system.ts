import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's CPU counters (USER_HZ; 100 on Linux). */
const HZ = 100;

/** Resident set size of a process in MB (VmRSS), or NaN when it is gone. */
export function rssMb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** CPU seconds (user + system) a process used so far, or 0 when it is gone. */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): utime is field 14, stime field 15.
    return (Number(fields[11]) + Number(fields[12])) / HZ;
  } catch {
    return 0;
  }
}

/** CPU seconds all cores spent busy (not idle, not waiting for I/O) since boot. */
export function systemBusySeconds(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = v;
    return (user + nice + system + irq + softirq + (steal ?? 0)) / HZ;
  } catch {
    return 0;
  }
}

/**
 * Measures how many cores processes other than the bench's own kept busy during a window: the
 * machine is shared, so every figure is printed with the foreign load it was taken under.
 */
export class ForeignLoad {
  private startWall = 0;
  private startBusy = 0;
  private startOwn = 0;

  constructor(private readonly ownPids: () => number[]) {}

  private own(): number {
    const self = process.cpuUsage();
    let seconds = (self.user + self.system) / 1e6;
    for (const pid of this.ownPids()) seconds += processCpuSeconds(pid);
    return seconds;
  }

  start(): void {
    this.startWall = performance.now();
    this.startBusy = systemBusySeconds();
    this.startOwn = this.own();
  }

  /** Average cores used by others since start(), and by the bench's own processes. */
  stop(): { foreign: number; own: number } {
    const wall = (performance.now() - this.startWall) / 1000;
    if (wall <= 0) return { foreign: Number.NaN, own: Number.NaN };
    const busy = systemBusySeconds() - this.startBusy;
    const own = this.own() - this.startOwn;
    return { foreign: Math.max(0, (busy - own) / wall), own: own / wall };
  }
}
