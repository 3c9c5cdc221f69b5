// Single sign-on, the everyday case: a citizen already signed in (the browser
// holds the provider's session cookie from one earlier test-login sign-in) uses
// a service they already agreed to. /auth answers with the code at once: no
// page, no interaction; then the service redeems it.
import type { TargetInfo } from '../protocol.js';
import { Browser } from './browser.js';
import { authorizationRequest, codeAt, redeemTokens, signIn } from './sign-in.js';

/** /auth (straight back to the service with a code), /token. */
export const REQUESTS_PER_SSO_SIGN_IN = 2;

/** A browser with a session at the target, for account `account`. */
export async function signedInBrowser(target: TargetInfo, account: string): Promise<Browser> {
  const browser = new Browser();
  await signIn(target, account, { browser });
  return browser;
}

export async function ssoSignIn(target: TargetInfo, browser: Browser): Promise<void> {
  const client = target.webClient;
  const { url, verifier, state } = authorizationRequest(target.origin, client, 'openid');
  // A consent page or any interaction would fail codeAt: SSO must go straight back.
  const callback = await browser.redirect(url);
  await redeemTokens(target.origin, client, codeAt(callback, client, state), verifier);
}
