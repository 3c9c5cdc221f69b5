// `nixa sources test` and the periodic health check: can nixa reach the source's
// discovery document and JWKS, and do they say what an OpenID provider must?
import * as oidc from 'openid-client';

import type { Source } from './index.js';

export interface SourceCheck {
  ok: boolean;
  steps: { name: string; ok: boolean; detail: string }[];
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

export async function checkSource(source: Source): Promise<SourceCheck> {
  const steps: SourceCheck['steps'] = [];
  let config: oidc.Configuration;
  try {
    config = await oidc.discovery(issuerOf(source.discoveryUrl), source.clientId, undefined, undefined, discoveryOptions(source));
    const m = config.serverMetadata();
    steps.push({ name: 'discovery', ok: true, detail: `issuer ${m.issuer}` });
    const missing = (['authorization_endpoint', 'token_endpoint', 'jwks_uri'] as const).filter((k) => !m[k]);
    steps.push({
      name: 'endpoints',
      ok: missing.length === 0,
      detail: missing.length ? `missing: ${missing.join(', ')}` : 'authorization, token and JWKS endpoints present',
    });
    const pkce = m.code_challenge_methods_supported?.includes('S256');
    steps.push({ name: 'pkce', ok: pkce !== false, detail: pkce ? 'S256 supported' : 'S256 not advertised (nixa always sends it)' });
    const unsupportedScopes = m.scopes_supported ? source.scopes.filter((s) => !m.scopes_supported!.includes(s)) : [];
    steps.push({
      name: 'scopes',
      ok: unsupportedScopes.length === 0,
      detail: unsupportedScopes.length ? `not advertised: ${unsupportedScopes.join(', ')}` : `${source.scopes.join(' ')} advertised`,
    });
    if (m.jwks_uri) {
      try {
        const res = await fetch(m.jwks_uri, { signal: AbortSignal.timeout(source.timeoutMs) });
        const body = (await res.json()) as { keys?: unknown[] };
        const n = Array.isArray(body.keys) ? body.keys.length : 0;
        steps.push({ name: 'jwks', ok: res.ok && n > 0, detail: res.ok ? `${n} key(s)` : `HTTP ${res.status}` });
      } catch (err) {
        steps.push({ name: 'jwks', ok: false, detail: (err as Error).message });
      }
    }
  } catch (err) {
    const e = err as Error & { cause?: { message?: string } };
    steps.push({ name: 'discovery', ok: false, detail: `${e.message}${e.cause?.message ? `: ${e.cause.message}` : ''}` });
  }
  return { ok: steps.every((s) => s.ok || s.name === 'pkce'), steps };
}
