// One federated sign-in, step by step, as a fresh browser and its service would
// do it: service → nixa's chooser → the identity source's picker → back to nixa,
// which redeems the source's code server to server and links the account (and,
// the consent being remembered, grants at once) → service → /token. Every hop is checked for where it
// leads, so a sign-in that took another path (an error page, a consent prompt, a
// short cut through a session) fails the benchmark instead of being timed.
import type { FederationInfo, TargetInfo } from '../protocol.js';
import { Browser, form, isRedirect } from './browser.js';
import { authorizationRequest, codeAt, hiddenField, redeem } from './sign-in.js';

/**
 * The HTTP requests a returning citizen's sign-in makes: nixa /auth, chooser,
 * POST source; source /auth, picker, POST pick, resume; nixa callback (which links
 * the account: the browser's in-flight cookie names its sign-in, so there is no hop
 * through /interaction/:uid/upstream), resume; /token. A remembered consent is
 * granted with the login, so there is no second interaction. Not counted: nixa's
 * own calls to the source's token endpoint.
 */
export const REQUESTS_PER_FEDERATED_SIGN_IN = 10;

export const UID = '([A-Za-z0-9_-]{1,64})';

/** Checks that a hop leads to `origin` at a path matching `path`; returns the match. */
export function expectAt(url: URL, origin: string, path: string, what: string): RegExpExecArray {
  const m = url.origin === origin ? new RegExp(`^${path}$`).exec(url.pathname) : null;
  if (!m) throw new Error(`expected ${what} (${origin}${path.replaceAll(UID, ':uid')}), was sent to ${url.origin}${url.pathname}`);
  return m;
}

/**
 * seedConsent: true when the citizen must meet the consent page (seeding), false
 * when they must not (a returning citizen), 'if-asked' to give it if asked (a
 * cross-device phone's sign-in, whether or not federated_sign_in seeded the
 * citizen). `browser`: give one to keep nixa's session it gets.
 */
export async function federatedSignIn(target: TargetInfo, citizen: string, seedConsent: boolean | 'if-asked', browser = new Browser()): Promise<void> {
  const fed: FederationInfo | undefined = target.federation;
  if (!fed) throw new Error(`${target.name} has no identity source to sign in through`);
  const nixa = target.origin;
  const source = fed.sourceOrigin;
  const before = browser.requests;
  const { url, verifier, state } = authorizationRequest(nixa, fed.client, fed.scope);

  // 1. nixa's chooser.
  const chooserUrl = await browser.redirect(url);
  const [, uid] = expectAt(chooserUrl, nixa, `/interaction/${UID}`, "nixa's chooser");
  const chooser = await browser.page(chooserUrl);
  const csrf = hiddenField(chooser, 'csrf');
  if (!csrf || !chooser.includes(`name="source" value="${fed.sourceId}"`)) {
    throw new Error(`expected the chooser offering ${fed.sourceId} at ${chooserUrl.pathname} (is the source failing?)`);
  }

  // 2. The source: its /auth, its picker, the pick, its resume, back to nixa's callback.
  const sourceAuth = await browser.redirect(new URL(`/interaction/${uid}/source`, nixa), form({ csrf, source: fed.sourceId }));
  expectAt(sourceAuth, source, '/auth', "the source's authorization endpoint");
  const pickerUrl = await browser.redirect(sourceAuth);
  const [, sourceUid] = expectAt(pickerUrl, source, `/interaction/${UID}`, "the source's picker");
  const picker = await browser.page(pickerUrl);
  if (!picker.includes(`name="citizen" value="${citizen}"`)) throw new Error(`expected the source's picker to list ${citizen}`);
  const sourceResume = await browser.redirect(new URL(`/interaction/${sourceUid}/pick`, source), form({ citizen }));
  expectAt(sourceResume, source, `/auth/${sourceUid}`, "the source's resume");
  const callback = await browser.redirect(sourceResume);
  expectAt(callback, nixa, '/federation/callback', "nixa's callback");

  // 3. nixa: the callback links the account and sends the browser to resume the sign-in.
  const resume = await browser.redirect(callback);
  expectAt(resume, nixa, `/auth/${uid}`, "nixa's resume after the login");

  // 4. Consent: asked (and given) when seeding; for a returning citizen it was granted with the login.
  let next = await browser.redirect(resume);
  const asked = next.origin === nixa && new RegExp(`^/interaction/${UID}$`).test(next.pathname);
  const consented = seedConsent === true || (seedConsent === 'if-asked' && asked);
  if (consented) {
    const consentUrl = next;
    const [, consentUid] = expectAt(consentUrl, nixa, `/interaction/${UID}`, "nixa's consent step");
    const res = await browser.send(consentUrl);
    const page = res.status === 200 ? await res.text() : '';
    const consentCsrf = hiddenField(page, 'csrf');
    if (!consentCsrf || !page.includes('name="decision" value="accept"')) {
      throw new Error(`seeding ${citizen}: expected nixa's consent page at ${consentUrl.pathname}, got ${res.status}${isRedirect(res) ? ' (consent already given?)' : ''}`);
    }
    const finished = await browser.redirect(new URL(`/interaction/${consentUid}/consent`, nixa), form({ csrf: consentCsrf, shown: hiddenField(page, 'shown') ?? '', decision: 'accept' }));
    expectAt(finished, nixa, `/auth/${consentUid}`, "nixa's resume after consent");
    next = await browser.redirect(finished);
  }

  // 5. Back at the service with a code, redeemed.
  const claims = await redeem(nixa, fed.client, codeAt(next, fed.client, state), verifier);
  if (!Array.isArray(claims.amr) || !claims.amr.includes('fed')) throw new Error(`expected a federated sign-in (amr fed), got amr ${JSON.stringify(claims.amr)}`);
  const requests = browser.requests - before + 1;
  const expected = REQUESTS_PER_FEDERATED_SIGN_IN + (consented ? 3 : 0);
  if (requests !== expected) throw new Error(`the sign-in took ${requests} requests, not ${expected}`);
}
