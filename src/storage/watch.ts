// Keeping an in-memory view in step with the database: reload on NOTIFY from any
// instance (or the CLI), after the LISTEN connection comes back from a cut (what
// was announced meanwhile is lost), and by polling as a safety net. Shared by the key ring
// and the source registry.
import type { Logger } from '../logging/index.js';
import type { Database } from './database.js';

/**
 * Wraps a reload so that calls never overlap. A call made while a reload is in
 * flight cannot share it (that reload may have read the database before the
 * change being announced), so it queues one more reload after it; all calls
 * made meanwhile share that second one.
 */
export function serialised(reload: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  let queued: Promise<void> | undefined;
  const run = (): Promise<void> => {
    if (!running) {
      running = reload().finally(() => {
        running = undefined;
      });
      return running;
    }
    queued ??= running
      .catch(() => {})
      .then(() => {
        queued = undefined;
        return run();
      });
    return queued;
  };
  return run;
}

/** Runs `fn` every `seconds` (not keeping the process alive), logging failures. Returns a stop function. */
export function every(seconds: number, fn: () => Promise<unknown>, logger: Logger, what: string): () => void {
  const t = setInterval(() => {
    fn().catch((err) => logger.error({ err: { message: (err as Error).message } }, `${what} failed`));
  }, seconds * 1000);
  t.unref();
  return () => clearInterval(t);
}

/**
 * Calls `refresh` on every NOTIFY on `channel` and every `pollSeconds`.
 * Returns a function that stops both.
 */
export async function watch(
  db: Database,
  channel: string,
  pollSeconds: number,
  refresh: () => Promise<void>,
  logger: Logger,
  what: string,
): Promise<() => Promise<void>> {
  const unlisten = await db.listen(channel, () => {
    refresh().catch((err) => logger.error({ err: { message: (err as Error).message } }, `${what} failed`));
  });
  const stopPolling = every(pollSeconds, refresh, logger, what);
  return async () => {
    stopPolling();
    await unlisten();
  };
}
