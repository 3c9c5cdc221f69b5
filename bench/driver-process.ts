// The orchestrator's handle on the load driver process (driver/main.ts).
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import type { DriverReply, Job, Measurement } from './protocol.js';

/** How long past its own limit a job may run before the driver is presumed stuck. */
const GRACE_MS = 30_000;
/** Upper bound for a job limited by count rather than time. */
const COUNT_JOB_TIMEOUT_MS = 120_000;

export class DriverProcess {
  readonly #child: ChildProcess;

  constructor() {
    this.#child = fork(fileURLToPath(new URL('./driver/main.js', import.meta.url)), { stdio: 'inherit' });
  }

  /** The driver's process id, to count its CPU. */
  get pid(): number {
    return this.#child.pid!;
  }

  /** Runs one job; rejects if it fails, the driver dies, or it overruns its limit. */
  run(job: Job): Promise<Measurement> {
    const child = this.#child;
    const timeoutMs = 'seconds' in job.limit ? job.limit.seconds * 1000 + GRACE_MS : COUNT_JOB_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      const onMessage = (reply: DriverReply) => {
        done();
        if (reply.ok) resolve(reply.measurement);
        else reject(new Error(`${job.scenario} on ${job.target.name}: ${reply.error}`));
      };
      const onExit = (code: number | null, signal: string | null) => {
        done();
        reject(new Error(`the load driver exited (${signal ?? `code ${code}`}) during ${job.scenario} on ${job.target.name}`));
      };
      const timer = setTimeout(() => {
        done();
        this.stop();
        reject(new Error(`${job.scenario} on ${job.target.name} did not finish within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send(job);
    });
  }

  stop(): void {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill();
  }
}
