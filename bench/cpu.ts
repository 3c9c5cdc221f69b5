// CPU time per process, from /proc/<pid>/stat (utime + stime: every thread of
// the process, user and kernel), for the servers under test and nixa's
// PostgreSQL backends. Linux only; the bench runs the servers and PostgreSQL on
// this machine.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Clock ticks per second, the unit of utime and stime (100 nearly everywhere). */
const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU milliseconds a process has used so far, or undefined once it is gone (or unreadable). */
export function cpuMs(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces: split after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
  const ticks = Number(fields[11]) + Number(fields[12]);
  return Number.isFinite(ticks) ? (ticks * 1000) / TICKS_PER_SECOND : undefined;
}

/** Where a group's processes are found: fixed pids, or looked up (PostgreSQL backends come and go). */
export type PidSource = () => Promise<number[]> | number[];

const SAMPLE_MS = 250;

/**
 * CPU used by groups of processes between start() and stop(). Processes are
 * sampled every 250 ms as well, so that a backend that exits in between (an
 * idle pool connection closing) still counts up to its last sample, and one
 * that starts in between counts from its first.
 */
export class CpuMeter<G extends string> {
  readonly #first = new Map<G, Map<number, number>>();
  readonly #last = new Map<G, Map<number, number>>();
  #timer: NodeJS.Timeout | undefined;
  #sampling: Promise<void> = Promise.resolve();
  /** Set once the first sample is taken: processes seen later started later. */
  #started = false;

  constructor(private readonly groups: Record<G, PidSource>) {}

  async #sample(): Promise<void> {
    for (const group of Object.keys(this.groups) as G[]) {
      const first = this.#first.get(group) ?? new Map<number, number>();
      const last = this.#last.get(group) ?? new Map<number, number>();
      this.#first.set(group, first);
      this.#last.set(group, last);
      for (const pid of await this.groups[group]()) {
        const ms = cpuMs(pid);
        if (ms === undefined) continue;
        // A process first seen after start counts from zero: it started meanwhile.
        if (!first.has(pid)) first.set(pid, this.#started ? 0 : ms);
        last.set(pid, ms);
      }
    }
  }

  async start(): Promise<void> {
    await this.#sample();
    this.#started = true;
    this.#timer = setInterval(() => {
      this.#sampling = this.#sampling.then(() => this.#sample()).catch(() => {});
    }, SAMPLE_MS);
  }

  /** CPU milliseconds per group since start(). */
  async stop(): Promise<Record<G, number>> {
    clearInterval(this.#timer);
    await this.#sampling;
    await this.#sample();
    const used = {} as Record<G, number>;
    for (const group of Object.keys(this.groups) as G[]) {
      const first = this.#first.get(group)!;
      let total = 0;
      for (const [pid, ms] of this.#last.get(group)!) total += ms - (first.get(pid) ?? 0);
      used[group] = total;
    }
    return used;
  }
}
