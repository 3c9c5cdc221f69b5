// Asking organisation registries over HTTP (the OrganisationRegistries port of
// contract.ts): an access token by OAuth client_credentials at the token endpoint
// the registry's issuer metadata names, kept until shortly before it expires; then
// POST {api_url}/v1/representations, its answer checked against the contract.
// One question to one registry — metadata, token and answer together — ends within
// the registry's timeout_ms. The national ID number goes only into the request
// body: never a URL, a log line or an error's detail.
import * as oidc from 'openid-client';

import type { Logger } from '../logging/index.js';
import { clientAuthentication, oauthError, type CheckStep, type SigningKeys } from '../sources/index.js';
import {
  REGISTRY_SCOPE,
  REPRESENTATIONS_PATH,
  representationsAnswerSchema,
  type OrganisationRegistries,
  type RepresentationLookup,
  type RepresentationsAnswer,
} from './contract.js';
import { RegistryUnavailableError, type RegistryFailure, type RegistryFailureReason } from './errors.js';
import type { OrganisationRegistry } from './index.js';

/** The largest answer nixa reads (200 organisations with long names fit well inside). */
const MAX_ANSWER_BYTES = 512 * 1024;
/** How long a token whose answer gave no expires_in is used. */
const TOKEN_LIFETIME_WITHOUT_EXPIRY_MS = 60_000;
/** A token is renewed this long before it expires (at most half its lifetime), so that it does not expire on the way. */
const TOKEN_MARGIN_MS = 30_000;

type Registry = Pick<OrganisationRegistry, 'id' | 'name' | 'issuer' | 'apiUrl' | 'clientId' | 'authMethod' | 'clientSecret' | 'timeoutMs' | 'version'>;

const LOOPBACK = /^http:\/\/(localhost|127\.0\.0\.1)(:\d+)?(\/|$)/;

/** A failure with its reason, thrown inside one question and turned into a RegistryFailure. */
class Failed extends Error {
  constructor(
    readonly reason: RegistryFailureReason,
    detail: string,
  ) {
    super(detail);
  }
}

/** A 12-digit run (a national ID number) anywhere in a detail, and the person's own number, are removed. */
function scrub(text: string, nationalId?: string): string {
  let t = nationalId ? text.split(nationalId).join('[national id]') : text;
  t = t.replace(/\d{12}/g, '[national id]');
  return t.length > 300 ? `${t.slice(0, 300)}…` : t;
}

/** The error's message and its causes' (openid-client wraps fetch's "fetch failed", which wraps ECONNREFUSED). */
function messageOf(err: unknown): string {
  const parts: string[] = [];
  for (let e = err as (Error & { code?: unknown; cause?: unknown }) | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    const part = typeof e.code === 'string' && !e.message?.includes(e.code) ? `${e.message} (${e.code})` : e.message;
    if (typeof part === 'string' && part && !parts.includes(part)) parts.push(part);
  }
  return parts.join(': ');
}

function isNetworkError(err: unknown): boolean {
  for (let e = err as { message?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    // By name: fetch's TypeError may come from another realm than this module's (undici's, under a test runner).
    if ((e as Error).name === 'TypeError' && e.message === 'fetch failed') return true;
  }
  return false;
}

/** The HTTP status an error came from (openid-client keeps the Response, or the status, on the error or its cause). */
function httpStatusOf(err: unknown): number | undefined {
  for (let e = err as { status?: unknown; cause?: unknown } | undefined, depth = 0; e && typeof e === 'object' && depth < 4; e = e.cause as typeof e, depth++) {
    if (typeof e.status === 'number') return e.status;
  }
  return undefined;
}

type Stage = 'credentials' | 'discovery' | 'token' | 'call';

function classify(err: unknown, stage: Stage, deadline: AbortSignal, timeoutMs: number): Failed {
  if (err instanceof Failed) return err;
  if (deadline.aborted || (err as Error)?.name === 'TimeoutError' || (err as Error)?.name === 'AbortError') {
    return new Failed('timeout', `no answer within ${timeoutMs} ms (${stage})`);
  }
  if (isNetworkError(err)) return new Failed('unreachable', `${stage}: ${messageOf(err)}`);
  switch (stage) {
    case 'credentials':
      return new Failed('misconfigured', messageOf(err));
    case 'discovery':
      return new Failed('discovery', messageOf(err));
    case 'token': {
      const refused = oauthError(err);
      // A registry that is down answers its token endpoint with 5xx too: that is not a refusal of nixa's credentials.
      const status = refused?.status ?? httpStatusOf(err);
      if (status !== undefined && status >= 500) return new Failed('status', `token endpoint answered HTTP ${status}${refused?.error ? ` (${refused.error})` : ''}`);
      return new Failed('token-refused', refused ? `token endpoint answered ${refused.error ?? 'an error'} (HTTP ${refused.status})` : messageOf(err));
    }
    case 'call':
      return new Failed('invalid-answer', messageOf(err));
  }
}

/** fetch bounded by the question's deadline as well as whatever signal the caller gave. */
function boundFetch(deadline: AbortSignal): oidc.CustomFetch {
  return (url, options) => fetch(url, { ...options, signal: options.signal ? AbortSignal.any([options.signal, deadline]) : deadline } as RequestInit);
}

/** The issuer's metadata locations: RFC 8414 first, then OpenID Connect Discovery (what many servers publish). */
export function metadataUrls(issuer: string): URL[] {
  const u = new URL(issuer);
  const path = u.pathname === '/' ? '' : u.pathname.replace(/\/$/, '');
  return [new URL(`${u.origin}/.well-known/oauth-authorization-server${path}`), new URL(`${u.origin}${path}/.well-known/openid-configuration`)];
}

/** The authorization server's metadata, which must name this issuer and a token endpoint. */
async function discover(registry: Registry, deadline: AbortSignal): Promise<oidc.ServerMetadata> {
  const options = (algorithm: 'oauth2' | 'oidc'): oidc.DiscoveryRequestOptions => ({
    algorithm,
    timeout: Math.ceil(registry.timeoutMs / 1000),
    [oidc.customFetch]: boundFetch(deadline),
    ...(LOOPBACK.test(registry.issuer) ? { execute: [oidc.allowInsecureRequests] } : {}),
  });
  let metadata: oidc.ServerMetadata;
  try {
    metadata = (await oidc.discovery(new URL(registry.issuer), registry.clientId, undefined, oidc.None(), options('oauth2'))).serverMetadata();
  } catch (first) {
    if (deadline.aborted || isNetworkError(first)) throw first;
    try {
      metadata = (await oidc.discovery(new URL(registry.issuer), registry.clientId, undefined, oidc.None(), options('oidc'))).serverMetadata();
    } catch (second) {
      if (deadline.aborted || isNetworkError(second)) throw second;
      // Down (5xx) is not the same as no metadata there (404, not JSON): the operator's registration is not in question.
      const down = [first, second].map(httpStatusOf).find((status) => status !== undefined && status >= 500);
      if (down !== undefined) throw new Failed('status', `metadata answered HTTP ${down}`);
      throw new Failed('discovery', `no usable metadata at ${metadataUrls(registry.issuer).join(' or ')}: ${messageOf(first)}; ${messageOf(second)}`);
    }
  }
  if (!metadata.token_endpoint) throw new Failed('discovery', 'the metadata names no token_endpoint');
  return metadata;
}

interface Token {
  value: string;
  /** Renewed from then on (before it expires). */
  usableUntil: number;
  expiresIn: number | undefined;
  scope: string | undefined;
}

async function requestToken(registry: Registry, metadata: oidc.ServerMetadata, auth: oidc.ClientAuth, deadline: AbortSignal, now: () => number): Promise<Token> {
  const config = new oidc.Configuration(metadata, registry.clientId, undefined, auth);
  config[oidc.customFetch] = boundFetch(deadline);
  config.timeout = Math.ceil(registry.timeoutMs / 1000);
  if (LOOPBACK.test(metadata.token_endpoint!)) oidc.allowInsecureRequests(config);
  const obtainedAt = now();
  const res = await oidc.clientCredentialsGrant(config, { scope: REGISTRY_SCOPE });
  const lifetime = typeof res.expires_in === 'number' ? res.expires_in * 1000 : TOKEN_LIFETIME_WITHOUT_EXPIRY_MS;
  return {
    value: res.access_token,
    usableUntil: obtainedAt + lifetime - Math.min(TOKEN_MARGIN_MS, lifetime / 2),
    expiresIn: res.expires_in,
    scope: res.scope,
  };
}

/** A promise that also gives up when the signal aborts (another caller's request may be the one awaited). */
function within<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(signal.reason);
    signal.addEventListener('abort', abort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
  });
}

export interface HttpRegistriesOptions {
  /** The registries nixa may ask (RegistryCatalogue.list); only the enabled ones are asked. */
  registries: () => readonly OrganisationRegistry[];
  /** nixa's active signing keys (the key ring's snapshot.signers), for a private_key_jwt registry. */
  signingKeys: SigningKeys;
  logger: Logger;
  /** The clock tokens expire by (tests move it). */
  now?: () => number;
  /** Told of every question's outcome, for metrics (src/metrics registryMetrics). */
  metrics?: (question: RegistryQuestion) => void;
}

/** What one question to a registry came to. */
export interface RegistryQuestion {
  /** null when no registry is enabled. */
  registry: string | null;
  outcome: 'ok' | RegistryFailureReason;
  /** From asking to the answer or the failure; absent when nobody was asked (none-enabled, not-enabled). */
  seconds?: number;
}

/** A lookup's whole outcome: the registries that answered, and those that did not (and why). */
export interface LookupOutcome {
  answered: RepresentationLookup[];
  failed: RegistryFailure[];
}

interface Cached<T> {
  version: number;
  value: Promise<T>;
}

/**
 * The HTTP implementation of OrganisationRegistries. `lookup` asks every enabled
 * registry at once; when some fail it returns the answers of the others and logs
 * each failure (warn, "organisation registry unavailable", with the registry and
 * reason): the sign-in shows what it could learn rather than nothing. Only when
 * every registry fails (or none is enabled) does it throw RegistryUnavailableError.
 * `lookupOutcome` says which failed, for a caller that tells the person the list
 * may be incomplete.
 */
export class HttpOrganisationRegistries implements OrganisationRegistries {
  readonly #metadata = new Map<string, Cached<{ metadata: oidc.ServerMetadata; auth: oidc.ClientAuth }>>();
  readonly #tokens = new Map<string, Cached<Token>>();
  readonly #now: () => number;

  constructor(private readonly opts: HttpRegistriesOptions) {
    this.#now = opts.now ?? Date.now;
  }

  async lookup(nationalId: string): Promise<RepresentationLookup[]> {
    const { answered, failed } = await this.lookupOutcome(nationalId);
    if (!answered.length) throw new RegistryUnavailableError(failed);
    return answered;
  }

  /** As lookup, without throwing: every enabled registry's answer or failure. */
  async lookupOutcome(nationalId: string): Promise<LookupOutcome> {
    const enabled = this.opts.registries().filter((r) => r.enabled);
    if (!enabled.length) {
      this.#report({ registry: null, outcome: 'none-enabled' });
      return { answered: [], failed: [{ registry: null, reason: 'none-enabled', detail: 'no organisation registry is enabled' }] };
    }
    const results = await Promise.all(enabled.map((r) => this.#ask(r, nationalId, undefined)));
    return {
      answered: results.filter((x): x is RepresentationLookup => !('reason' in x)),
      failed: results.filter((x): x is RegistryFailure => 'reason' in x),
    };
  }

  async recheck(registryId: string, nationalId: string, enterpriseCode: string): Promise<RepresentationLookup> {
    const registry = this.opts.registries().find((r) => r.id === registryId && r.enabled);
    if (!registry) {
      const failure: RegistryFailure = { registry: registryId, reason: 'not-enabled', detail: 'not registered, or disabled' };
      this.opts.logger.warn(failure, 'organisation registry unavailable');
      this.#report({ registry: registryId, outcome: failure.reason });
      throw new RegistryUnavailableError([failure]);
    }
    const result = await this.#ask(registry, nationalId, enterpriseCode);
    if ('reason' in result) throw new RegistryUnavailableError([result]);
    return result;
  }

  /** One question to one registry, within its timeout; a failure is logged and returned, never thrown. */
  async #ask(registry: OrganisationRegistry, nationalId: string, enterpriseCode: string | undefined): Promise<RepresentationLookup | RegistryFailure> {
    const deadline = AbortSignal.timeout(registry.timeoutMs);
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    // Credentials are built with the metadata (#discovered), which throws 'misconfigured' itself.
    let stage: Stage = 'discovery';
    try {
      const { metadata, auth } = await within(this.#discovered(registry, deadline), deadline);
      stage = 'token';
      let token = await within(this.#token(registry, metadata, auth, deadline, false), deadline);
      stage = 'call';
      let res = await this.#call(registry, token.value, nationalId, enterpriseCode, deadline);
      if (res.status === 401 && token.reused) {
        // The registry no longer accepts a token nixa still held (restarted, revoked): one fresh token, one more try.
        await res.body?.cancel();
        stage = 'token';
        token = await within(this.#token(registry, metadata, auth, deadline, true), deadline);
        stage = 'call';
        res = await this.#call(registry, token.value, nationalId, enterpriseCode, deadline);
      }
      const answer = await this.#answer(res, registry, enterpriseCode);
      const took = seconds();
      this.opts.logger.debug({ registry: registry.id, organisations: answer.organisations.length, ms: Math.round(took * 1000) }, 'organisation registry answered');
      this.#report({ registry: registry.id, outcome: 'ok', seconds: took });
      return { registry: { id: registry.id, name: registry.name }, checkedAt: answer.checked_at, organisations: answer.organisations };
    } catch (err) {
      const f = classify(err, stage, deadline, registry.timeoutMs);
      // A token without the scope (misconfigured) is not kept either: once the registry grants it, the next question has it.
      if (f.reason === 'token-refused' || f.reason === 'discovery' || f.reason === 'misconfigured') this.#forget(registry.id);
      const failure: RegistryFailure = { registry: registry.id, reason: f.reason, detail: scrub(f.message, nationalId) };
      this.opts.logger.warn(failure, 'organisation registry unavailable');
      this.#report({ registry: registry.id, outcome: f.reason, seconds: seconds() });
      return failure;
    }
  }

  /** Tells the metrics hook; a hook that throws is logged, and never turns an answer into a failure. */
  #report(question: RegistryQuestion): void {
    try {
      this.opts.metrics?.(question);
    } catch (err) {
      this.opts.logger.error({ err: messageOf(err), registry: question.registry }, 'organisation registry metrics hook failed');
    }
  }

  #forget(id: string): void {
    this.#metadata.delete(id);
    this.#tokens.delete(id);
  }

  /** The registry's metadata and nixa's client authentication, once per registry version. */
  #discovered(registry: OrganisationRegistry, deadline: AbortSignal) {
    const cached = this.#metadata.get(registry.id);
    if (cached && cached.version === registry.version) return cached.value;
    const value = (async () => {
      let auth: oidc.ClientAuth;
      try {
        auth = await clientAuthentication(registry, this.opts.signingKeys);
      } catch (err) {
        throw new Failed('misconfigured', messageOf(err).replace(/\bsource\b/g, 'registry'));
      }
      return { metadata: await discover(registry, deadline), auth };
    })();
    this.#cache(this.#metadata, registry, value);
    return value;
  }

  /** A token still usable, or a new one (one request shared by the questions that need it meanwhile). */
  async #token(registry: OrganisationRegistry, metadata: oidc.ServerMetadata, auth: oidc.ClientAuth, deadline: AbortSignal, fresh: boolean): Promise<Token & { reused: boolean }> {
    const cached = this.#tokens.get(registry.id);
    if (!fresh && cached && cached.version === registry.version) {
      const held = await cached.value.catch(() => undefined);
      if (held && this.#now() < held.usableUntil) return { ...held, reused: true };
    }
    const value = requestToken(registry, metadata, auth, deadline, this.#now);
    this.#cache(this.#tokens, registry, value);
    return { ...(await value), reused: false };
  }

  #cache<T>(map: Map<string, Cached<T>>, registry: OrganisationRegistry, value: Promise<T>): void {
    map.set(registry.id, { version: registry.version, value });
    // A failed request is not kept: the next question tries again.
    value.catch(() => {
      if (map.get(registry.id)?.value === value) map.delete(registry.id);
    });
  }

  #call(registry: OrganisationRegistry, token: string, nationalId: string, enterpriseCode: string | undefined, deadline: AbortSignal): Promise<Response> {
    return fetch(`${registry.apiUrl.replace(/\/+$/, '')}${REPRESENTATIONS_PATH}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(enterpriseCode ? { national_id: nationalId, enterprise_code: enterpriseCode } : { national_id: nationalId }),
      // A redirect would carry the token and the number elsewhere: it is a failure, not followed.
      redirect: 'manual',
      signal: deadline,
    });
  }

  /** The answer, if it is the contract's. Nothing of its body reaches a log: only where it broke the contract. */
  async #answer(res: Response, registry: OrganisationRegistry, enterpriseCode: string | undefined): Promise<RepresentationsAnswer> {
    if (!res.ok) {
      await res.body?.cancel();
      // RFC 6750 §3.1: the API's bearer error says whose problem it is.
      const bearerError = /\berror="([a-z_]+)"/.exec(res.headers.get('www-authenticate') ?? '')?.[1];
      if (res.status === 403 && bearerError === 'insufficient_scope') {
        // Nothing nixa can retry: the registry's registration of nixa's client lacks the scope.
        throw new Failed('misconfigured', `representations answered HTTP 403 insufficient_scope: the registry does not grant client "${registry.clientId}" ${REGISTRY_SCOPE}`);
      }
      throw new Failed('status', `representations answered HTTP ${res.status}${bearerError ? ` (${bearerError})` : ''}`);
    }
    const declared = Number(res.headers.get('content-length') ?? 0);
    if (declared > MAX_ANSWER_BYTES) {
      await res.body?.cancel();
      throw new Failed('invalid-answer', `answer of ${declared} bytes, more than ${MAX_ANSWER_BYTES}`);
    }
    const text = await res.text();
    if (Buffer.byteLength(text) > MAX_ANSWER_BYTES) throw new Failed('invalid-answer', `answer larger than ${MAX_ANSWER_BYTES} bytes`);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new Failed('invalid-answer', 'the answer is not JSON');
    }
    const parsed = representationsAnswerSchema.safeParse(body);
    if (!parsed.success) {
      const where = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(root)'))].slice(0, 5);
      throw new Failed('invalid-answer', `not the contract's answer at ${where.join(', ')}`);
    }
    if (enterpriseCode && parsed.data.organisations.some((o) => o.enterprise_code !== enterpriseCode)) {
      // A registry that ignored the filter: the other organisations must not reach a token.
      throw new Failed('invalid-answer', 'answered for another enterprise than the one asked');
    }
    return parsed.data;
  }
}

export type RegistryCheckStep = CheckStep;

export interface RegistryCheck {
  /** No step failed (warnings allowed). */
  ok: boolean;
  steps: RegistryCheckStep[];
}

/**
 * `nixa registries test` and `enable`: does the issuer's metadata name a token
 * endpoint, and does it give nixa a token for the registry scope with the
 * registered client authentication? No person is looked up.
 */
export async function checkRegistry(registry: Registry, opts: { signingKeys: SigningKeys }): Promise<RegistryCheck> {
  const steps: RegistryCheckStep[] = [];
  const deadline = AbortSignal.timeout(registry.timeoutMs);
  let auth: oidc.ClientAuth | undefined;
  try {
    auth = await clientAuthentication(registry, opts.signingKeys);
  } catch (err) {
    steps.push({ name: 'credentials', status: 'fail', detail: messageOf(err).replace(/\bsource\b/g, 'registry') });
  }
  let metadata: oidc.ServerMetadata;
  try {
    metadata = await discover(registry, deadline);
  } catch (err) {
    const f = classify(err, 'discovery', deadline, registry.timeoutMs);
    steps.push({ name: 'discovery', status: 'fail', detail: `${f.reason}: ${f.message}` });
    return { ok: false, steps };
  }
  steps.push({ name: 'discovery', status: 'ok', detail: `issuer ${metadata.issuer}, token endpoint ${metadata.token_endpoint}` });
  if (metadata.scopes_supported && !metadata.scopes_supported.includes(REGISTRY_SCOPE)) {
    steps.push({ name: 'scope', status: 'warning', detail: `${REGISTRY_SCOPE} not advertised in scopes_supported (the registry may still grant it)` });
  }
  if (auth) {
    try {
      const token = await requestToken(registry, metadata, auth, deadline, Date.now);
      const granted = token.scope === undefined || token.scope.split(' ').includes(REGISTRY_SCOPE);
      steps.push({
        name: 'token',
        status: granted ? 'ok' : 'fail',
        detail: granted
          ? `client ${registry.clientId} (${registry.authMethod}) given a token for ${REGISTRY_SCOPE}${token.expiresIn !== undefined ? `, valid ${token.expiresIn} s` : ', without expires_in (nixa keeps it 60 s)'}`
          : `the token was granted for "${token.scope}", not ${REGISTRY_SCOPE}`,
      });
    } catch (err) {
      const f = classify(err, 'token', deadline, registry.timeoutMs);
      const refused = oauthError(err);
      steps.push({
        name: 'token',
        status: 'fail',
        detail:
          refused?.error === 'invalid_client' || refused?.status === 401
            ? `the registry refused nixa's client credentials (${refused.error ?? `HTTP ${refused.status}`}): check client_id "${registry.clientId}", the secret and auth_method ${registry.authMethod}`
            : `${f.reason}: ${f.message}`,
      });
    }
  }
  return { ok: steps.every((s) => s.status !== 'fail'), steps };
}
