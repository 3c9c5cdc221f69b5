// Which redirect URIs a native app (OIDC application_type "native") may register:
// RFC 8252 §7 and RFC 9700 §2.1. Pure: each function names the problem in words an
// operator can act on, or returns undefined. Matching at request time is
// oidc-provider's (Client#redirectUriAllowed): exact, except that for a native
// client a loopback http URI matches on any port (RFC 8252 §7.3), path, query and
// the rest compared exactly.

/** The loopback IP literals an app listens on (RFC 8252 §7.3); `localhost` is not one (§8.3). */
export const LOOPBACK_HOSTS = ['127.0.0.1', '[::1]'] as const;

/** Schemes that run or read content rather than hand a code to an app (never a redirect). */
const FORBIDDEN_SCHEMES = new Set(['javascript', 'vbscript', 'data', 'blob', 'file', 'about', 'ftp', 'ws', 'wss', 'mailto', 'tel', 'sms']);

/** A DNS label, lowercase (schemes are compared exactly, and an app registers its own in lowercase). */
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** The top-level domain, first in a reverse domain name: letters only (vn, com, gov…). */
const TLD = /^[a-z]{2,63}$/;

export type RedirectKind = 'claimed-https' | 'private-use' | 'loopback';

/** What kind of native redirect `uri` is, or why it is none. */
export function classifyNativeRedirect(uri: string): { kind: RedirectKind } | { problem: string } {
  const colon = uri.indexOf(':');
  const scheme = colon > 0 ? uri.slice(0, colon) : '';
  if (!/^[A-Za-z][A-Za-z0-9+.-]*$/.test(scheme)) return { problem: `"${uri}" is not an absolute URI (scheme:…)` };
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return { problem: `"${uri}" is not a valid URI` };
  }
  if (/[\s\\]/.test(uri)) return { problem: `"${uri}" must not contain spaces or backslashes` };
  if (uri.includes('#')) return { problem: `"${uri}" must not contain a fragment` };
  if (u.username || u.password || /^[^/?#]*\/\/[^/?#]*@/.test(uri.slice(colon + 1))) {
    return { problem: `"${uri}" must not contain credentials (user@)` };
  }
  if (uri.includes('*')) return { problem: `"${uri}": wildcards are not allowed` };
  const lower = scheme.toLowerCase();
  if (lower === 'http') {
    if (u.hostname === 'localhost') {
      return { problem: `"${uri}": use the loopback IP literal http://127.0.0.1 or http://[::1], not localhost (RFC 8252 §8.3)` };
    }
    if (!(LOOPBACK_HOSTS as readonly string[]).includes(u.hostname)) {
      return { problem: `"${uri}": plain http is accepted only on the loopback interface (http://127.0.0.1 or http://[::1]); use https` };
    }
    if (scheme !== 'http') return { problem: `"${uri}": write the scheme in lowercase (http)` };
    // As written, not as parsed: matching compares the text, and 2130706433 or
    // [0:0:0:0:0:0:0:1] parse to a loopback address too.
    if (!/^http:\/\/(?:127\.0\.0\.1|\[::1\])(?::\d{1,5})?(?:[/?]|$)/.test(uri)) {
      return { problem: `"${uri}": write the loopback address as 127.0.0.1 or [::1], optionally with a port (ignored when matching)` };
    }
    return { kind: 'loopback' };
  }
  if (lower === 'https') {
    if (u.hostname === 'localhost' || (LOOPBACK_HOSTS as readonly string[]).includes(u.hostname) || u.hostname.endsWith('.localhost')) {
      return { problem: `"${uri}": a claimed https URI names the app's own domain, not the loopback interface (for loopback, use http://127.0.0.1)` };
    }
    if (scheme !== 'https') return { problem: `"${uri}": write the scheme in lowercase (https)` };
    return { kind: 'claimed-https' };
  }
  return privateUse(uri, scheme);
}

/**
 * A private-use scheme must be a reverse domain name the app's publisher controls
 * (RFC 8252 §7.1, e.g. vn.gov.dichvucong.app:/oauth2redirect), so that two apps
 * do not claim the same one by accident; a bare name (myapp://) is refused.
 */
function privateUse(uri: string, scheme: string): { kind: RedirectKind } | { problem: string } {
  if (FORBIDDEN_SCHEMES.has(scheme.toLowerCase())) return { problem: `"${uri}": the ${scheme.toLowerCase()} scheme is never a redirect URI` };
  const example = 'a reverse domain name the app’s publisher controls, e.g. vn.gov.dichvucong.app:/oauth2redirect';
  if (scheme !== scheme.toLowerCase()) return { problem: `"${uri}": write the scheme in lowercase (${scheme.toLowerCase()})` };
  if (!scheme.includes('.')) return { problem: `"${uri}": a private-use scheme must be ${example} (RFC 8252 §7.1)` };
  const labels = scheme.split('.');
  if (!TLD.test(labels[0]!) || !labels.every((l) => LABEL.test(l))) {
    return { problem: `"${uri}": the scheme "${scheme}" is not ${example} (RFC 8252 §7.1)` };
  }
  if (uri.length === scheme.length + 1) return { problem: `"${uri}": give a path after the scheme, e.g. ${scheme}:/oauth2redirect` };
  return { kind: 'private-use' };
}

/** Why `uri` cannot be a native app's redirect URI, or undefined when it can. */
export function nativeRedirectProblem(uri: string): string | undefined {
  const c = classifyNativeRedirect(uri);
  return 'problem' in c ? c.problem : undefined;
}

/**
 * Whether a request's redirect proves which app will receive the code (RFC 8252
 * §8.6). A web client's exact https redirect does, and so does a native app's
 * claimed https one (the phone's system checks the app owns that domain). A
 * loopback port or a private-use scheme does not: any program on the device can
 * listen on the one or register the other, send the real app's client_id with a
 * PKCE of its own, and receive the code. Such a request is answered as if nothing
 * had been agreed before: the citizen sees the consent page every time.
 */
export function redirectProvesApp(applicationType: string | undefined, redirectUri: string | undefined): boolean {
  if (applicationType !== 'native') return true;
  if (redirectUri === undefined) return false;
  const found = classifyNativeRedirect(redirectUri);
  return 'kind' in found && found.kind === 'claimed-https';
}
