// Why nixa could not use an organisation registry's answer. The reason is a short
// stable code for logs and metrics; the detail is for logs only and never holds
// the national ID number, a token or a secret (client.ts scrubs what it passes in).
import { NixaError } from '../errors/index.js';

/**
 * unreachable: the connection failed (refused, DNS, TLS, reset).
 * timeout: no complete answer within the registry's timeout_ms.
 * discovery: the issuer's metadata is missing, malformed, or names another issuer or no token endpoint.
 * token-refused: the token endpoint refused nixa's client credentials or the scope (an OAuth error).
 * status: the representations call answered other than 200 (a redirect included: nixa does not follow it),
 *   or the metadata or token endpoint answered 5xx (the registry is down, not misregistered).
 * invalid-answer: 200, but not JSON, too large, or not the contract's shape (contract.ts).
 * misconfigured: nixa cannot authenticate as registered (no secret, no active signing key), or the
 *   registry's API refused its token for lacking the scope (403 insufficient_scope): the registration
 *   at one end or the other needs an operator.
 * not-enabled: asked for a registry that is not registered or is disabled (a recheck).
 * none-enabled: no registry is enabled, so nobody could be asked.
 */
export const REGISTRY_FAILURE_REASONS = [
  'unreachable',
  'timeout',
  'discovery',
  'token-refused',
  'status',
  'invalid-answer',
  'misconfigured',
  'not-enabled',
  'none-enabled',
] as const;
export type RegistryFailureReason = (typeof REGISTRY_FAILURE_REASONS)[number];

/** One registry that did not answer usably. */
export interface RegistryFailure {
  /** The registry's id; null for none-enabled. */
  registry: string | null;
  reason: RegistryFailureReason;
  /** For logs only: what went wrong, without the person's number or any credential. */
  detail: string;
}

/**
 * No registry asked could answer usably: a lookup where every enabled registry
 * failed (failures lists each), or a recheck at a registry that failed. The sign-in
 * offers to continue as oneself. `reason` is the one failure's, or 'several' when
 * registries failed for different reasons.
 */
export class RegistryUnavailableError extends NixaError {
  readonly code = 'NIXA-REG-001';
  override readonly status = 503;
  readonly reason: RegistryFailureReason | 'several';

  constructor(readonly failures: readonly RegistryFailure[]) {
    super(
      `organisation registry unavailable: ${failures.map((f) => `${f.registry ?? '(none)'} ${f.reason}${f.detail ? ` (${f.detail})` : ''}`).join('; ')}`,
    );
    const reasons = new Set(failures.map((f) => f.reason));
    this.reason = reasons.size === 1 ? failures[0]!.reason : 'several';
  }

  /** The registry, for a single-registry failure (a recheck). */
  get registry(): string | null {
    return this.failures.length === 1 ? this.failures[0]!.registry : null;
  }
}
