// `nixa sources test` (and the console's "test connection"): can nixa reach the
// source's discovery document and JWKS, do they say what an OpenID provider must,
// and does the source's token endpoint accept nixa's client credentials?
import { randomBytes } from 'node:crypto';

import * as oidc from 'openid-client';

import { clientAuthentication, oauthError, type SigningKeys } from './client-auth.js';
import type { Source } from './index.js';

/** The one redirect URI nixa registers at every source (nixa's federation callback). */
export const SOURCE_CALLBACK_PATH = '/federation/callback';

/**
 * One check. 'warning' is something to look at that does not stop sign-ins
 * (a scope the source does not advertise may still be granted); only 'fail'
 * makes the test fail.
 */
export interface CheckStep {
  name: string;
  status: 'ok' | 'warning' | 'fail';
  detail: string;
}

export interface SourceCheck {
  /** No step failed (warnings allowed). */
  ok: boolean;
  steps: CheckStep[];
}

export interface CheckOptions {
  /** nixa's redirect URI at the source, sent with the credentials probe as a real token request would. */
  redirectUri: string;
  /** nixa's active signing keys, for a private_key_jwt source. */
  signingKeys: SigningKeys;
}

function insecureAllowed(url: string): boolean {
  return /^http:\/\/(localhost|127\.0\.0\.1)(:\d+)?\//.test(url);
}

/** Discovery options for a source: its timeout, and plain http only for a loopback development source. */
export function discoveryOptions(source: Pick<Source, 'discoveryUrl' | 'timeoutMs'>): oidc.DiscoveryRequestOptions {
  return {
    timeout: Math.ceil(source.timeoutMs / 1000),
    ...(insecureAllowed(source.discoveryUrl) ? { execute: [oidc.allowInsecureRequests] } : {}),
  };
}

/** The issuer identifier openid-client should discover from the configured discovery URL. */
export function issuerOf(discoveryUrl: string): URL {
  return new URL(discoveryUrl.replace(/\/\.well-known\/openid-configuration$/, ''));
}

const message = (err: unknown) => {
  const e = err as Error & { cause?: { message?: string } };
  return `${e.message}${e.cause?.message ? `: ${e.cause.message}` : ''}`;
};

/**
 * Are nixa's client credentials accepted? A token request with a code that cannot
 * exist: a source that accepts the client refuses the code (invalid_grant); one
 * that does not know the client, the secret or the method answers invalid_client
 * first. Discovery alone would pass with a wrong secret.
 */
async function checkCredentials(config: oidc.Configuration, source: Source, redirectUri: string): Promise<CheckStep> {
  const name = 'credentials';
  try {
    await oidc.genericGrantRequest(config, 'authorization_code', {
      code: `nixa-sources-test-${randomBytes(16).toString('base64url')}`,
      redirect_uri: redirectUri,
      code_verifier: oidc.randomPKCECodeVerifier(),
    });
    return { name, status: 'fail', detail: 'the token endpoint issued tokens for a made-up code' };
  } catch (err) {
    const refused = oauthError(err);
    if (refused?.error === 'invalid_grant') {
      return { name, status: 'ok', detail: `client ${source.clientId} accepted (${source.authMethod}); a made-up code was refused as invalid_grant` };
    }
    if (refused?.error === 'invalid_client' || (refused && refused.error === undefined && refused.status === 401)) {
      return {
        name,
        status: 'fail',
        detail: `the source refused nixa's client credentials (${refused.error ?? `HTTP ${refused.status}`}): check client_id "${source.clientId}", the secret and auth_method ${source.authMethod}`,
      };
    }
    if (refused) {
      return { name, status: 'fail', detail: `the token endpoint answered ${refused.error ?? `HTTP ${refused.status}`} where invalid_grant was expected for a made-up code` };
    }
    return { name, status: 'fail', detail: message(err) };
  }
}

export async function checkSource(source: Source, opts: CheckOptions): Promise<SourceCheck> {
  const steps: CheckStep[] = [];
  let auth: oidc.ClientAuth | undefined;
  try {
    auth = await clientAuthentication(source, opts.signingKeys);
  } catch (err) {
    steps.push({ name: 'credentials', status: 'fail', detail: message(err) });
  }
  let config: oidc.Configuration;
  try {
    config = await oidc.discovery(issuerOf(source.discoveryUrl), source.clientId, undefined, auth, discoveryOptions(source));
    config.timeout = Math.ceil(source.timeoutMs / 1000);
  } catch (err) {
    steps.push({ name: 'discovery', status: 'fail', detail: message(err) });
    return { ok: false, steps };
  }
  const m = config.serverMetadata();
  steps.push({ name: 'discovery', status: 'ok', detail: `issuer ${m.issuer}` });
  const missing = (['authorization_endpoint', 'token_endpoint', 'jwks_uri'] as const).filter((k) => !m[k]);
  steps.push({
    name: 'endpoints',
    status: missing.length === 0 ? 'ok' : 'fail',
    detail: missing.length ? `missing: ${missing.join(', ')}` : 'authorization, token and JWKS endpoints present',
  });
  // Advisory fields: a source may support what it does not advertise (OpenID Connect Discovery §3 says "RECOMMENDED").
  const pkce = m.code_challenge_methods_supported?.includes('S256');
  steps.push({ name: 'pkce', status: pkce ? 'ok' : 'warning', detail: pkce ? 'S256 supported' : 'S256 not advertised (nixa always sends it)' });
  const unadvertised = m.scopes_supported ? source.scopes.filter((s) => !m.scopes_supported!.includes(s)) : [];
  steps.push({
    name: 'scopes',
    status: unadvertised.length === 0 ? 'ok' : 'warning',
    detail: unadvertised.length
      ? `not advertised: ${unadvertised.join(', ')} (the source may still grant them; check a sign-in)`
      : m.scopes_supported
        ? `${source.scopes.join(' ')} advertised`
        : 'the source does not list its scopes',
  });
  if (m.jwks_uri) {
    try {
      const res = await fetch(m.jwks_uri, { signal: AbortSignal.timeout(source.timeoutMs) });
      const body = (await res.json()) as { keys?: unknown[] };
      const n = Array.isArray(body.keys) ? body.keys.length : 0;
      steps.push({ name: 'jwks', status: res.ok && n > 0 ? 'ok' : 'fail', detail: res.ok ? `${n} key(s)` : `HTTP ${res.status}` });
    } catch (err) {
      steps.push({ name: 'jwks', status: 'fail', detail: (err as Error).message });
    }
  }
  if (m.token_endpoint && auth) steps.push(await checkCredentials(config, source, opts.redirectUri));
  return { ok: steps.every((s) => s.status !== 'fail'), steps };
}
