// The orchestrator's handle on one server under test running in its own process
// (targets/main.ts): start it, call it, read its pid, stop it.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import type { IpcCall, IpcReply, Role } from './ipc.js';
import { profileArgs } from './profiling.js';

const CALL_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;

export class TargetProcess {
  #next = 1;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(
    readonly role: Role,
    private readonly child: ChildProcess,
  ) {
    child.on('message', (reply: IpcReply) => {
      const p = this.#pending.get(reply.id);
      if (!p) return;
      this.#pending.delete(reply.id);
      if (reply.ok) p.resolve(reply.result);
      else p.reject(new Error(`${role}: ${reply.error}`));
    });
    child.once('exit', (code, signal) => {
      for (const p of this.#pending.values()) p.reject(new Error(`${role} exited (${signal ?? `code ${code}`})`));
      this.#pending.clear();
    });
  }

  /** Forks the role's process and starts its server; resolves to what its start returned. */
  static async start<T>(role: Role, params: unknown, env: NodeJS.ProcessEnv = process.env): Promise<{ proc: TargetProcess; started: T }> {
    const child = fork(fileURLToPath(new URL('./targets/main.js', import.meta.url)), [role], {
      stdio: 'inherit',
      // Every server as nixa's container runs (Dockerfile): two glibc arenas, not one per thread.
      env: { MALLOC_ARENA_MAX: '2', ...env },
      execArgv: [...process.execArgv, ...profileArgs(role, env)],
    });
    const proc = new TargetProcess(role, child);
    try {
      return { proc, started: await proc.call<T>('start', params) };
    } catch (err) {
      await proc.stop();
      throw err;
    }
  }

  get pid(): number {
    return this.child.pid!;
  }

  call<T>(method: string, params?: unknown): Promise<T> {
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) return reject(new Error(`${this.role} is not running`));
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${this.role}: ${method} did not answer within ${CALL_TIMEOUT_MS / 1000} s`));
      }, CALL_TIMEOUT_MS);
      this.#pending.set(id, {
        resolve: (v) => (clearTimeout(timer), resolve(v as T)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      this.child.send({ id, method, params } satisfies IpcCall);
    });
  }

  /** Asks the process to close its server and exit; kills it if it does not in time. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.call('close').catch(() => {});
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }
}
