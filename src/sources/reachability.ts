// Whether a source answers now, asked when a citizen picks it: the scheduled health
// check (health.ts) may be up to its period late, and a citizen sent to a source
// that is down meets the source's own error page with no way back. One cheap probe
// (the discovery document, a short timeout) per source is shared by every pick
// within a few seconds, so a crowd does not hammer a source that is struggling.
import type { Logger } from '../logging/index.js';
import { probe as probeDiscovery } from './health.js';

/** How long one probe's answer stands for every pick of the same source. */
export const PICK_PROBE_TTL_MS = 5_000;
/** A citizen waits at most this long for the answer before being told to choose another. */
export const PICK_PROBE_TIMEOUT_MS = 2_000;

interface Probed {
  id: string;
  discoveryUrl: string;
  timeoutMs: number;
}

export interface ReachabilityOptions {
  ttlMs?: number;
  timeoutMs?: number;
  now?: () => number;
  probe?: (s: Pick<Probed, 'discoveryUrl' | 'timeoutMs'>) => Promise<string | null>;
  /** Told once per failed probe (not once per pick): health.ts records it for every instance. */
  onFailure: (id: string, problem: string) => Promise<void>;
}

export class Reachability {
  #recent = new Map<string, { until: number; problem: Promise<string | null> }>();
  readonly #ttlMs: number;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  readonly #probe: NonNullable<ReachabilityOptions['probe']>;

  constructor(
    private readonly opts: ReachabilityOptions,
    private readonly logger: Logger,
  ) {
    this.#ttlMs = opts.ttlMs ?? PICK_PROBE_TTL_MS;
    this.#timeoutMs = opts.timeoutMs ?? PICK_PROBE_TIMEOUT_MS;
    this.#now = opts.now ?? Date.now;
    this.#probe = opts.probe ?? probeDiscovery;
  }

  /** null when the source answers; otherwise what went wrong (for operators, never shown to citizens). */
  check(source: Probed): Promise<string | null> {
    const now = this.#now();
    const recent = this.#recent.get(source.id);
    if (recent && recent.until > now) return recent.problem;
    const problem = this.#run(source);
    this.#recent.set(source.id, { until: now + this.#ttlMs, problem });
    return problem;
  }

  /** Forgets a source's last answer (it changed, or health says it recovered). */
  forget(id: string): void {
    this.#recent.delete(id);
  }

  async #run(source: Probed): Promise<string | null> {
    const problem = await this.#probe({ discoveryUrl: source.discoveryUrl, timeoutMs: Math.min(source.timeoutMs, this.#timeoutMs) });
    if (problem !== null) {
      // Recorded before the citizen is answered, so the chooser they see next no longer
      // offers it; a database that fails here must not turn "choose another" into an error.
      await this.opts.onFailure(source.id, `when picked: ${problem}`).catch((err: unknown) => {
        this.logger.error({ source: source.id, err: { message: (err as Error).message } }, 'could not record an identity source failure');
      });
    }
    return problem;
  }
}
