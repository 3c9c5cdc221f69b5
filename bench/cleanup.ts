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
