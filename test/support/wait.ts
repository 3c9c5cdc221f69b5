// Bounded waiting for things that happen in the background (a key ring reloading
// on NOTIFY, a second instance catching up). Never a bare sleep: poll until the
// condition holds, and fail with a clear message at the deadline.

export class WaitTimeoutError extends Error {}

/**
 * Calls `fn` until it returns a truthy value (which is then returned), retrying
 * when it returns something falsy or throws. After `timeoutMs` it throws, carrying
 * the last error (so an `expect` inside `fn` reports what was last seen).
 */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  timeoutMs = 5_000,
  what = 'condition',
  intervalMs = 25,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value as NonNullable<T>;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const detail = lastError instanceof Error ? `: ${lastError.message}` : lastError !== undefined ? `: ${String(lastError)}` : ' (still false)';
      throw new WaitTimeoutError(`waited ${timeoutMs} ms for ${what}${detail}`, { cause: lastError });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
