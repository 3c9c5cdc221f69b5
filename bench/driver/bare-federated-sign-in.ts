// One sign-in through the fair federated baseline (targets/bare-federated.ts),
// step by step like federated-sign-in.ts: service → the bare provider's chooser
// → the bare upstream's picker → back at the bare provider's callback, which
// redeems the upstream code server to server and finishes login and consent →
// service → /token. Every hop is checked for where it leads.
import type { TargetInfo } from '../protocol.js';
import { Browser, form } from './browser.js';
import { expectAt, UID } from './federated-sign-in.js';
import { authorizationRequest, codeAt, redeem } from './sign-in.js';

/**
 * /auth, chooser, POST source; upstream /auth, picker, POST pick, resume;
 * callback, resume; /token. One fewer than nixa's: no hop from the callback to
 * the interaction's own path.
 */
export const REQUESTS_PER_BARE_FEDERATED_SIGN_IN = 10;

export async function bareFederatedSignIn(target: TargetInfo, citizen: string): Promise<void> {
  const fed = target.federation;
  if (!fed) throw new Error(`${target.name} has no upstream to sign in through`);
  const origin = target.origin;
  const upstream = fed.sourceOrigin;
  const browser = new Browser();
  const { url, verifier, state } = authorizationRequest(origin, fed.client, fed.scope);

  const chooserUrl = await browser.redirect(url);
  const [, uid] = expectAt(chooserUrl, origin, `/interaction/${UID}`, 'the chooser');
  const chooser = await browser.page(chooserUrl);
  if (!chooser.includes(`name="source" value="${fed.sourceId}"`)) throw new Error(`expected the chooser offering ${fed.sourceId}`);
  const upstreamAuth = await browser.redirect(new URL(`/interaction/${uid}/source`, origin), form({ source: fed.sourceId }));
  expectAt(upstreamAuth, upstream, '/auth', "the upstream's authorization endpoint");
  const pickerUrl = await browser.redirect(upstreamAuth);
  const [, upstreamUid] = expectAt(pickerUrl, upstream, `/interaction/${UID}`, "the upstream's picker");
  const picker = await browser.page(pickerUrl);
  if (!picker.includes(`name="citizen" value="${citizen}"`)) throw new Error(`expected the upstream's picker to list ${citizen}`);
  const upstreamResume = await browser.redirect(new URL(`/interaction/${upstreamUid}/pick`, upstream), form({ citizen }));
  expectAt(upstreamResume, upstream, `/auth/${upstreamUid}`, "the upstream's resume");
  const callback = await browser.redirect(upstreamResume);
  expectAt(callback, origin, '/federation/callback', 'the callback');
  const resume = await browser.redirect(callback);
  expectAt(resume, origin, `/auth/${uid}`, 'the resume after the login');
  const back = await browser.redirect(resume);
  const claims = await redeem(origin, fed.client, codeAt(back, fed.client, state), verifier);
  if (claims.sub !== citizen) throw new Error(`expected ${citizen} signed in, got sub ${String(claims.sub)}`);
  const requests = browser.requests + 1;
  if (requests !== REQUESTS_PER_BARE_FEDERATED_SIGN_IN) throw new Error(`the sign-in took ${requests} requests, not ${REQUESTS_PER_BARE_FEDERATED_SIGN_IN}`);
}
