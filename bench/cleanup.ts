import { constants } from 'node:os';

// Undo steps for what a run set up, run in reverse order exactly once, whether
// the run succeeded, failed or was interrupted.
export class Cleanup {
  readonly #steps: { what: string; undo: () => Promise<void> }[] = [];
  #running: Promise<void> | undefined;

  add(what: string, undo: () => Promise<void>): void {
    this.#steps.push({ what, undo });
  }

  run(): Promise<void> {
    this.#running ??= (async () => {
      for (const { what, undo } of this.#steps.reverse()) {
        try {
          await undo();
        } catch (err) {
          // Keep going: the database must be dropped even if a server failed to stop.
          console.error(`cleanup: could not ${what}: ${(err as Error).message}`);
        }
      }
    })();
    return this.#running;
  }
}

/**
 * Runs a bench command's main with a Cleanup that runs when it ends, fails or is
 * interrupted (SIGINT, SIGTERM), so that no server or database is left behind.
 */
export function runWithCleanup(main: (cleanup: Cleanup) => Promise<void>): void {
  const cleanup = new Cleanup();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: cleaning up`);
      void cleanup.run().finally(() => process.exit(128 + constants.signals[signal]));
    });
  }
  main(cleanup)
    .catch((err: unknown) => {
      console.error(`bench failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    })
    .finally(() => cleanup.run());
}
