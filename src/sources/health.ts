// Health of identity sources: each instance fetches every enabled source's
// discovery document on a schedule and records the result in the database, so
// that the chooser shows a failing source as unavailable before a citizen picks it.
// A failing source is probed again every few seconds (recheckFailing), so that it is
// offered again soon after it recovers, not a whole period later.
import type { Logger } from '../logging/index.js';
import type { Source, SourceRegistry } from './index.js';

/** One probe: the discovery document answers in time and names an issuer. */
export async function probe(source: Pick<Source, 'discoveryUrl' | 'timeoutMs'>): Promise<string | null> {
  try {
    const res = await fetch(source.discoveryUrl, { signal: AbortSignal.timeout(source.timeoutMs), headers: { accept: 'application/json' } });
    if (!res.ok) return `discovery answered HTTP ${res.status}`;
    const body = (await res.json()) as { issuer?: unknown };
    return typeof body.issuer === 'string' ? null : 'discovery document has no issuer';
  } catch (err) {
    const e = err as Error & { cause?: Error };
    return e.name === 'TimeoutError' ? `no answer within ${source.timeoutMs} ms` : `${e.message}${e.cause ? `: ${e.cause.message}` : ''}`;
  }
}

/** Probes every enabled source, records the results, then reloads once. */
export async function checkAll(registry: SourceRegistry, logger: Logger): Promise<void> {
  await Promise.all(
    registry
      .list()
      .filter((s) => s.enabled)
      .map(async (s) => {
        const problem = await probe(s);
        if ((problem === null) !== (s.health.status === 'ok')) {
          logger[problem ? 'warn' : 'info']({ source: s.id, problem }, problem ? 'identity source failing' : 'identity source recovered');
        }
        await registry.recordHealth(s.id, problem === null, problem, { reload: false });
      }),
  );
  await registry.refresh();
}

/** How soon a failing source is probed again. */
export const RECHECK_FAILING_SECONDS = 5;

/**
 * Probes again the enabled sources marked failing whose last check is at least
 * `minAgeSeconds` old, and records those that answer: the chooser offers them again.
 * Returns the ids of the sources that recovered.
 */
export async function recheckFailing(registry: SourceRegistry, logger: Logger, minAgeSeconds = RECHECK_FAILING_SECONDS, now = Date.now()): Promise<string[]> {
  const due = registry
    .list()
    .filter((s) => s.enabled && s.health.status === 'failing' && (!s.health.checkedAt || now - Date.parse(s.health.checkedAt) >= minAgeSeconds * 1000));
  const recovered: string[] = [];
  await Promise.all(
    due.map(async (s) => {
      const problem = await probe(s);
      if (problem !== null) return;
      logger.info({ source: s.id }, 'identity source recovered');
      await registry.recordHealth(s.id, true, null, { reload: false });
      recovered.push(s.id);
    }),
  );
  if (recovered.length) await registry.refresh();
  return recovered;
}

/**
 * Runs checkAll every `seconds`, and recheckFailing every `recheckSeconds` (when
 * shorter) for sources marked failing at least half that long ago; returns a
 * function that stops both.
 */
export function monitorHealth(registry: SourceRegistry, logger: Logger, seconds: number, recheckSeconds = RECHECK_FAILING_SECONDS): () => void {
  let running = false;
  const run = (what: () => Promise<unknown>) => {
    if (running) return;
    running = true;
    what()
      .catch((err) => logger.error({ err: { message: (err as Error).message } }, 'source health check failed'))
      .finally(() => (running = false));
  };
  const t = setInterval(() => run(() => checkAll(registry, logger)), seconds * 1000);
  const fast = recheckSeconds < seconds ? setInterval(() => run(() => recheckFailing(registry, logger, recheckSeconds / 2)), recheckSeconds * 1000) : undefined;
  t.unref();
  fast?.unref();
  return () => {
    clearInterval(t);
    if (fast) clearInterval(fast);
  };
}
