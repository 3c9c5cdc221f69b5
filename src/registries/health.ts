// Health of organisation registries, as for sources (sources/health.ts): each
// instance fetches every enabled registry's authorization-server metadata on a
// schedule and records the result in the database, for operators (`registries
// list`) and alerts. A lookup still asks a failing registry: its timeout bounds the wait.
import type { Logger } from '../logging/index.js';
import { metadataUrls } from './client.js';
import type { OrganisationRegistry, RegistryCatalogue } from './index.js';

const sameIssuer = (a: string, b: string) => new URL(a).href.replace(/\/$/, '') === new URL(b).href.replace(/\/$/, '');

/**
 * One probe: the issuer's metadata (RFC 8414, else OpenID Connect Discovery)
 * answers in time, names this issuer and a token endpoint. Null when it does,
 * otherwise what went wrong.
 */
export async function probeRegistry(registry: Pick<OrganisationRegistry, 'issuer' | 'timeoutMs'>): Promise<string | null> {
  const signal = AbortSignal.timeout(registry.timeoutMs);
  const problems: string[] = [];
  for (const url of metadataUrls(registry.issuer)) {
    try {
      const res = await fetch(url, { signal, headers: { accept: 'application/json' }, redirect: 'manual' });
      if (!res.ok) {
        await res.body?.cancel();
        problems.push(`${url.pathname} answered HTTP ${res.status}`);
        continue;
      }
      const body = (await res.json()) as { issuer?: unknown; token_endpoint?: unknown };
      if (typeof body.issuer !== 'string' || !sameIssuer(body.issuer, registry.issuer)) return `metadata names issuer ${JSON.stringify(body.issuer)}, not ${registry.issuer}`;
      return typeof body.token_endpoint === 'string' ? null : 'metadata names no token_endpoint';
    } catch (err) {
      const e = err as Error & { cause?: Error };
      if (signal.aborted || e.name === 'TimeoutError') return `no answer within ${registry.timeoutMs} ms`;
      return `${e.message}${e.cause ? `: ${e.cause.message}` : ''}`;
    }
  }
  return problems.join('; ');
}

/** Probes every enabled registry, records the results, then reloads once. */
export async function checkRegistriesHealth(catalogue: RegistryCatalogue, logger: Logger): Promise<void> {
  await Promise.all(
    catalogue
      .list()
      .filter((r) => r.enabled)
      .map(async (r) => {
        const problem = await probeRegistry(r);
        if ((problem === null) !== (r.health.status === 'ok')) {
          logger[problem ? 'warn' : 'info']({ registry: r.id, problem }, problem ? 'organisation registry failing' : 'organisation registry recovered');
        }
        await catalogue.recordHealth(r.id, problem, { reload: false });
      }),
  );
  await catalogue.refresh();
}

/** Runs checkRegistriesHealth every `seconds`; returns a function that stops it. */
export function monitorRegistriesHealth(catalogue: RegistryCatalogue, logger: Logger, seconds: number): () => void {
  let running = false;
  const t = setInterval(() => {
    if (running) return;
    running = true;
    checkRegistriesHealth(catalogue, logger)
      .catch((err) => logger.error({ err: { message: (err as Error).message } }, 'registry health check failed'))
      .finally(() => (running = false));
  }, seconds * 1000);
  t.unref();
  return () => clearInterval(t);
}
