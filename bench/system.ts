// What the machine and its processes are doing, from /proc (Linux): the whole
// machine's busy CPU, the shared servers' processes (Redis, PostgreSQL's own
// background processes), a process's memory, the load average. The bench runs
// on a machine others may use too: these say how much of it was the bench's.
import { cpus } from 'node:os';
import { readdirSync, readFileSync } from 'node:fs';

const read = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

/** The whole machine's CPU so far, every core summed, in milliseconds (from /proc/stat's "cpu" line, in USER_HZ = 100). */
export function machineCpuMs(): { busy: number; total: number } {
  const line = read('/proc/stat')?.split('\n', 1)[0] ?? '';
  // user nice system idle iowait irq softirq steal (guest time is already in user).
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
  const busy = user + nice + system + irq + softirq + steal;
  return { busy: busy * 10, total: (busy + idle + iowait) * 10 };
}

/** Machine CPU used between two machineCpuMs() readings, as a fraction of all cores. */
export function machineBusyShare(before: { busy: number; total: number }, after: { busy: number; total: number }): number {
  const total = after.total - before.total;
  return total > 0 ? (after.busy - before.busy) / total : 0;
}

export const cpuCount = (): number => cpus().length;

/** Processes whose command line matches, e.g. the Redis server. */
export function pidsWhere(match: (cmdline: string, comm: string) => boolean): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = read(`/proc/${entry}/cmdline`)?.replaceAll('\0', ' ').trim() ?? '';
    const comm = read(`/proc/${entry}/comm`)?.trim() ?? '';
    if (cmdline && match(cmdline, comm)) pids.push(Number(entry));
  }
  return pids;
}

export const redisServerPids = (): number[] => pidsWhere((_cmd, comm) => comm === 'redis-server');

/**
 * PostgreSQL's own processes, not a connection's backend: the postmaster, the
 * WAL writer (which flushes every commit), checkpointer, background writer,
 * autovacuum. Shared with whoever else uses the server.
 */
export const postgresServerPids = (): number[] =>
  pidsWhere((cmd, comm) => {
    if (comm !== 'postgres' && !cmd.includes('postgres')) return false;
    if (/\/bin\/postgres\b/.test(cmd)) return true;
    return /^postgres: (?:[\w./-]+: )?(?:checkpointer|background writer|walwriter|autovacuum launcher|autovacuum worker|logical replication launcher|archiver|stats collector)\b/.test(cmd);
  });

export interface Memory {
  /** Resident set size now, MB. */
  rssMb: number;
  /** Peak resident set size since the process started (VmHWM), MB. */
  peakRssMb: number;
}

/** A process's resident memory from /proc/<pid>/status, or undefined once it is gone. */
export function memoryOf(pid: number): Memory | undefined {
  const status = read(`/proc/${pid}/status`);
  if (!status) return undefined;
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024 };
}

/** /proc/loadavg's 1, 5 and 15 minute load averages. */
export function loadAverage(): [number, number, number] {
  const [a = 0, b = 0, c = 0] = (read('/proc/loadavg') ?? '').split(' ').map(Number);
  return [a, b, c];
}
