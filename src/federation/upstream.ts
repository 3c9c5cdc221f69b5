// Signing in at an upstream identity source with openid-client v6: authorization
// code + PKCE + state + nonce, the ID token's signature checked against the
// source's JWKS, userinfo when configured, and a timeout on every call.
import * as oidc from 'openid-client';

import type { KeyRing } from '../keys/index.js';
import { clientAuthentication, discoveryOptions, issuerOf, oauthError } from '../sources/index.js';
import type { Source, SourceRegistry } from '../sources/index.js';
import { authorizationFailure, FederationError, ForeignStateError, type FederationFailure } from './errors.js';
import { acrValuesFor, type UpstreamAsk } from './mapping.js';
import type { UpstreamLogin, UpstreamLogins } from './transactions.js';

export interface UpstreamIdentity {
  source: Source;
  subject: string;
  claims: Record<string, unknown>;
  acr: string | undefined;
  amr: string[];
  /** When the citizen authenticated at the source (its auth_time), when it said. */
  authTime: number | undefined;
  interactionUid: string;
  /** The upstream login this answers: its state, and when nixa sent the browser to the source. */
  login: { state: string; startedAt: number };
  /** The source's ID token, kept (encrypted) to end the source session at sign-out. */
  idToken: string;
}

/** Network failures and timeouts are the source's fault; everything else is a bad answer. */
function classify(err: unknown): FederationFailure {
  const chain: unknown[] = [];
  for (let e: unknown = err; e && chain.length < 6; e = (e as { cause?: unknown }).cause) chain.push(e);
  if (chain.some((e) => (e as Error).name === 'TimeoutError' || (e as Error).name === 'AbortError')) return 'source-timeout';
  if (
    chain.some((e) => ['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EHOSTUNREACH', 'UND_ERR_SOCKET'].includes((e as { code?: string }).code ?? '')) ||
    chain.some((e) => e instanceof TypeError && /fetch failed/.test((e as Error).message))
  ) {
    return 'source-unavailable';
  }
  const status = (err as { status?: number; cause?: { status?: number } }).cause?.status ?? (err as { status?: number }).status;
  if (typeof status === 'number' && status >= 500) return 'source-unavailable';
  // An OAuth error answer (invalid_client above all): the source refused nixa's
  // request, a connection problem at nixa's end, not an answer failing validation.
  if (oauthError(err)) return 'source-refused';
  return 'bad-response';
}

const describe = (err: unknown) => {
  const e = err as Error & { code?: string; cause?: unknown };
  const cause = e.cause instanceof Error ? `: ${e.cause.message}` : '';
  // The OAuth error code (e.g. invalid_client) is what an operator needs.
  const refused = oauthError(err);
  const oauth = refused ? ` (${(refused.error ?? `HTTP ${refused.status}`).slice(0, 64)})` : '';
  return `${e.name}${e.code ? ` ${e.code}` : ''}: ${e.message}${oauth}${cause}`;
};

export class Upstream {
  #configs = new Map<string, { version: number; config: Promise<oidc.Configuration> }>();

  constructor(
    private readonly registry: SourceRegistry,
    private readonly keyring: KeyRing,
    /** nixa's redirect URI registered at every source. */
    readonly callbackUrl: string,
    /** Logins in flight (the short-lived store). */
    readonly logins: UpstreamLogins,
  ) {
    // A changed source (new secret, new URL) needs a new client configuration.
    registry.onChange(() => {
      for (const [id, c] of this.#configs) if (registry.get(id)?.version !== c.version) this.#configs.delete(id);
    });
  }

  /** The openid-client configuration for a source, discovered once and reused. */
  configuration(source: Source): Promise<oidc.Configuration> {
    const cached = this.#configs.get(source.id);
    if (cached && cached.version === source.version) return cached.config;
    const config = this.#discover(source);
    this.#configs.set(source.id, { version: source.version, config });
    // A failed discovery is not cached: the next attempt tries again.
    config.catch(() => {
      if (this.#configs.get(source.id)?.config === config) this.#configs.delete(source.id);
    });
    return config;
  }

  async #discover(source: Source): Promise<oidc.Configuration> {
    const auth = await clientAuthentication(source, () => this.keyring.snapshot.signers);
    const options = discoveryOptions(source);
    const config = await oidc.discovery(issuerOf(source.discoveryUrl), source.clientId, undefined, auth, {
      ...options,
      execute: [...(options.execute ?? []), oidc.enableNonRepudiationChecks],
    });
    config.timeout = Math.ceil(source.timeoutMs / 1000);
    return config;
  }

  /**
   * Starts a login at the source; returns the URL to send the browser to. What the
   * service asked goes along: the level as the source's own acr values, prompt=login
   * and max_age as they came. The answer is checked against the same ask (confirmAnswer).
   */
  async begin(source: Source, interactionUid: string, ttlSeconds: number, ask: UpstreamAsk): Promise<URL> {
    let config: oidc.Configuration;
    try {
      config = await this.configuration(source);
    } catch (err) {
      throw new FederationError(classify(err), `discovery: ${describe(err)}`, source.id, interactionUid);
    }
    const login: UpstreamLogin = {
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      codeVerifier: oidc.randomPKCECodeVerifier(),
      interactionUid,
      sourceId: source.id,
    };
    await this.logins.save(login, ttlSeconds);
    const acrValues = acrValuesFor(source, ask.level);
    return oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.callbackUrl,
      scope: source.scopes.join(' '),
      response_type: 'code',
      state: login.state,
      nonce: login.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(login.codeVerifier),
      code_challenge_method: 'S256',
      ...(acrValues.length ? { acr_values: acrValues.join(' ') } : {}),
      ...(ask.login ? { prompt: 'login' } : {}),
      ...(ask.maxAge !== undefined ? { max_age: String(ask.maxAge) } : {}),
    });
  }

  /**
   * Completes a login from the source's callback. `browserInteraction` is the
   * sign-in this browser is in (from nixa's interaction cookie): a callback
   * carrying another browser's state is refused before the state is spent, so
   * the citizen it belongs to can still use it.
   */
  async finish(callback: URL, browserInteraction: string): Promise<UpstreamIdentity> {
    const state = callback.searchParams.get('state');
    if (!state) throw new FederationError('state-mismatch', 'callback without state', undefined, browserInteraction);
    const taken = await this.logins.take(state, browserInteraction);
    if (taken.status === 'foreign') throw new ForeignStateError(browserInteraction, taken.login);
    if (taken.status === 'unknown') throw new FederationError('state-mismatch', 'state unknown', undefined, browserInteraction);
    if (taken.status !== 'ok') throw new FederationError(taken.status, `state ${taken.status}`, taken.login.sourceId, browserInteraction);
    const login = taken.login;
    const error = callback.searchParams.get('error');
    if (error) {
      throw new FederationError(authorizationFailure(error), `source returned error=${error.slice(0, 64)}`, login.sourceId, login.interactionUid);
    }
    const source = this.registry.get(login.sourceId);
    if (!source?.enabled) throw new FederationError('source-unavailable', 'source disabled during the login', login.sourceId, login.interactionUid);

    const fail = (stage: string) => (err: unknown): never => {
      throw new FederationError(classify(err), `${stage}: ${describe(err)}`, source.id, login.interactionUid);
    };
    const config = await this.configuration(source).catch(fail('discovery'));
    const tokens = await oidc
      .authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: login.codeVerifier,
        expectedState: login.state,
        expectedNonce: login.nonce,
        idTokenExpected: true,
      })
      .catch(fail('token'));
    const idClaims = tokens.claims()!;
    let claims: Record<string, unknown> = { ...idClaims };
    if (source.useUserinfo) {
      const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub).catch(fail('userinfo'));
      claims = { ...userinfo, ...idClaims };
    }
    return {
      source,
      subject: idClaims.sub,
      claims,
      acr: typeof idClaims.acr === 'string' ? idClaims.acr : undefined,
      amr: Array.isArray(idClaims.amr) ? idClaims.amr.filter((a): a is string => typeof a === 'string') : [],
      authTime: typeof idClaims.auth_time === 'number' && Number.isFinite(idClaims.auth_time) ? Math.floor(idClaims.auth_time) : undefined,
      interactionUid: login.interactionUid,
      login: { state: login.state, startedAt: login.startedAt },
      idToken: tokens.id_token!,
    };
  }
}
