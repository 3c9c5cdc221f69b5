// Health of identity sources: each instance fetches every enabled source's
// discovery document on a schedule and records the result in the database, so
// that the chooser shows a failing source as unavailable before a citizen picks it.
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

/** Runs checkAll every `seconds`; returns a function that stops it. */
export function monitorHealth(registry: SourceRegistry, logger: Logger, seconds: number): () => void {
  let running = false;
  const t = setInterval(() => {
    if (running) return;
    running = true;
    checkAll(registry, logger)
      .catch((err) => logger.error({ err: { message: (err as Error).message } }, 'source health check failed'))
      .finally(() => (running = false));
  }, seconds * 1000);
  t.unref();
  return () => clearInterval(t);
}
