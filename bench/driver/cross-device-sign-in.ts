// One cross-device sign-in (issue 13 §2), as a computer's browser and a bound
// phone do it, timed from the moment the phone's approval is answered until the
// computer is sent back to the service. The computer: service → nixa's chooser →
// "sign in with your phone" → the waiting page, which polls the request's status
// as views/cross-device.js does and posts the finish form once it is settled →
// resume → the service, which redeems the code. The phone (bound beforehand,
// untimed): opens the page's link, picks the computer's number, gets the passkey
// challenge and approves with its passkey (user verification). Every hop is
// checked for where it leads, and the ID token for a sign-in the phone approved.
import { setTimeout as sleep } from 'node:timers/promises';

import type { CrossDevicePoll, TargetInfo } from '../protocol.js';
import { BenchAuthenticator, type CreationOptions, type RequestOptions } from './authenticator.js';
import { Browser, form } from './browser.js';
import { expectAt, federatedSignIn, UID } from './federated-sign-in.js';
import { authorizationRequest, codeAt, hiddenField, redeem } from './sign-in.js';

/** A bound phone: its browser (holding nixa's cookie naming the binding) and its passkey. */
export interface BoundPhone {
  browser: Browser;
  authenticator: BenchAuthenticator;
}

/**
 * Binds a phone to `citizen`'s account, as in the issue: signed in through the
 * identity source (citizen ID: a session at high), then /account's "use this
 * phone to sign in", a passkey made with user verification.
 */
export async function bindPhone(target: TargetInfo, citizen: string, name: string): Promise<BoundPhone> {
  if (!target.passkeys) throw new Error(`${target.name} offers no passkeys, so no phone can be bound`);
  const nixa = target.origin;
  const browser = new Browser();
  await federatedSignIn(target, citizen, 'if-asked', browser);
  const account = await browser.page(new URL('/account', nixa));
  const csrf = hiddenField(account, 'csrf');
  if (!csrf || !account.includes('data-options="/account/phones/options"')) {
    throw new Error(`expected /account to offer binding a phone to ${citizen} (a session at substantial or above, fewer phones than the most an account binds)`);
  }
  const options = (await (await browser.request(new URL('/account/phones/options', nixa), 'page', form({ csrf }))).json()) as CreationOptions;
  const authenticator = new BenchAuthenticator(target.passkeys.origin, target.passkeys.rpId);
  const bound = await browser.page(new URL('/account/phones', nixa), form({ csrf, name, response: JSON.stringify(authenticator.register(options)) }));
  if (!bound.includes('Đã liên kết điện thoại này')) throw new Error(`binding a phone to ${citizen}: nixa did not say it was bound`);
  return { browser, authenticator };
}

/** What the computer's waiting page gives its script and the citizen. */
export interface WaitingPage {
  /** The QR code's and short link's address, for the phone. */
  link: string;
  /** The two-digit number to pick on the phone. */
  number: string;
  /** The finish form's action and CSRF token. */
  finishPath: string;
  csrf: string;
  /** The status the script polls, and how often (data-interval). */
  statusPath: string;
  intervalMs: number;
}

/** Reads the waiting page (views/phone-wait.html) as its script and the citizen do; throws naming what is missing. */
export function readWaitingPage(html: string): WaitingPage {
  const formAt = html.indexOf('data-cross-device ');
  const formTag = formAt < 0 ? '' : html.slice(html.lastIndexOf('<form', formAt), html.indexOf('>', formAt) + 1);
  const found = {
    link: /<a href="([^"]+\/p\/[A-Z]{10})" class="short-link">/.exec(html)?.[1],
    number: /data-match-number>(\d\d)</.exec(html)?.[1],
    finishPath: /action="(\/interaction\/[^"]+\/phone\/finish)"/.exec(formTag)?.[1],
    csrf: hiddenField(html.slice(formAt < 0 ? html.length : formAt), 'csrf'),
    statusPath: /data-status="(\/interaction\/[^"]+\/phone\/status)"/.exec(formTag)?.[1],
    interval: /data-interval="(\d+)"/.exec(formTag)?.[1],
  };
  const missing = Object.entries(found).filter(([, v]) => v === undefined).map(([k]) => k);
  const intervalMs = Number(found.interval);
  if (missing.length || !(intervalMs > 0)) throw new Error(`the computer's waiting page lacks its ${missing.length ? missing.join(', ') : 'polling interval'}`);
  return { link: found.link!, number: found.number!, finishPath: found.finishPath!, csrf: found.csrf!, statusPath: found.statusPath!, intervalMs };
}

export interface RequestStatus {
  state: string;
  settled: boolean;
}

/**
 * Polls as views/cross-device.js does: the first status request one interval
 * after the page loaded, the next one interval after each answer, until the
 * request is settled; resolves to the state it settled in.
 */
export async function pollAsThePage(status: () => Promise<RequestStatus>, intervalMs: number, wait: (ms: number) => Promise<unknown> = sleep): Promise<string> {
  for (;;) {
    await wait(intervalMs);
    const s = await status();
    if (s.settled) return s.state;
  }
}

/**
 * How long the citizen takes on the phone before approving, as far as the
 * measurement can tell: seconds in life, but only its phase against the page's
 * polling matters, so a random moment of one interval. Immediate polling has no
 * phase: the phone goes at once.
 */
export function citizenTime(poll: CrossDevicePoll, intervalMs: number, random: () => number = Math.random): number {
  return poll === 'page' ? random() * intervalMs : 0;
}

/**
 * From the phone's approval to the computer continuing. Never below zero: a poll
 * may see the approval committed before the phone has its answer, and then the
 * citizen waited for nothing.
 */
export const approvalToContinue = (approvedAt: number, continuedAt: number) => Math.max(0, continuedAt - approvedAt);

/** The phone's side: open the link, pick the number, get the challenge, approve; resolves when the approval is answered. */
async function approveOnPhone(phone: BoundPhone, link: URL, number: string): Promise<number> {
  const b = phone.browser;
  const opened = await b.page(link);
  const csrf = hiddenField(opened, 'csrf');
  if (!csrf || !opened.includes(`name="number" value="${number}"`)) throw new Error(`expected the phone to offer the computer's number ${number} at ${link.pathname}`);
  const afterPick = await b.redirect(new URL(`${link.pathname}/number`, link), form({ csrf, number }));
  expectAt(afterPick, link.origin, link.pathname, 'the phone back at the request after picking the number');
  const confirm = await b.page(afterPick);
  const confirmCsrf = hiddenField(confirm, 'csrf');
  if (!confirmCsrf || !confirm.includes('data-passkey="authenticate"')) throw new Error(`expected the phone's confirmation with its passkey at ${link.pathname}`);
  const options = (await (await b.request(new URL(`${link.pathname}/options`, link), 'page', form({ csrf: confirmCsrf }))).json()) as RequestOptions & { userVerification?: string };
  if (options.userVerification !== 'required') throw new Error(`expected the approval to require user verification, got ${String(options.userVerification)}`);
  const answer = phone.authenticator.authenticate(options);
  const approved = await b.page(new URL(`${link.pathname}/approve`, link), form({ csrf: confirmCsrf, response: JSON.stringify(answer) }));
  const at = performance.now();
  if (!approved.includes('Đã xác nhận')) throw new Error(`expected the phone's "approved" page at ${link.pathname}/approve`);
  return at;
}

/** One cross-device sign-in by a fresh computer and `phone`; resolves to the milliseconds from approval to the computer continuing. */
export async function crossDeviceSignIn(target: TargetInfo, phone: BoundPhone, poll: CrossDevicePoll): Promise<number> {
  const fed = target.federation;
  if (!fed) throw new Error(`${target.name} has no service asking for a citizen's attributes`);
  const nixa = target.origin;
  const computer = new Browser();
  const { url, verifier, state } = authorizationRequest(nixa, fed.client, fed.scope);

  // 1. The chooser's "sign in with your phone", then the waiting page.
  const chooserUrl = await computer.redirect(url);
  const [, uid] = expectAt(chooserUrl, nixa, `/interaction/${UID}`, "nixa's chooser");
  const chooser = await computer.page(chooserUrl);
  const phonePath = `/interaction/${uid}/phone`;
  const offer = chooser.indexOf(`action="${phonePath}"`);
  const csrf = offer < 0 ? undefined : hiddenField(chooser.slice(offer), 'csrf');
  if (!csrf) throw new Error(`expected the chooser to offer signing in with a phone at ${chooserUrl.pathname} (are passkeys configured?)`);
  const waitingUrl = await computer.redirect(new URL(phonePath, nixa), form({ csrf }));
  expectAt(waitingUrl, nixa, `/interaction/${UID}/phone`, "the computer's waiting page");
  const page = readWaitingPage(await computer.page(waitingUrl));

  // 2. The page is on the screen and its script polls; the citizen approves on the phone.
  const status = async () => (await (await computer.request(new URL(page.statusPath, nixa), 'page')).json()) as RequestStatus;
  const onPhone = async () => {
    await sleep(citizenTime(poll, page.intervalMs));
    return approveOnPhone(phone, new URL(page.link), page.number);
  };
  let approvedAt: number;
  let settledAs: string;
  if (poll === 'page') {
    [approvedAt, settledAs] = await Promise.all([onPhone(), pollAsThePage(status, page.intervalMs)]);
  } else {
    approvedAt = await onPhone();
    const s = await status();
    settledAs = s.settled ? s.state : `${s.state}, not settled`;
  }
  if (settledAs !== 'approved') throw new Error(`the computer's page saw the request ${settledAs}, not approved`);

  // 3. The page posts its finish form; nixa completes the login and the browser goes back to the service.
  const resume = await computer.redirect(new URL(page.finishPath, nixa), form({ csrf: page.csrf }));
  expectAt(resume, nixa, `/auth/${uid}`, "nixa's resume after the phone's approval");
  const back = await computer.redirect(resume);
  const continuedAt = performance.now();

  // 4. The service redeems its code (untimed): the login must be the phone's.
  const claims = await redeem(nixa, fed.client, codeAt(back, fed.client, state), verifier);
  const amr = claims.amr;
  if (!Array.isArray(amr) || amr.includes('fed') || !amr.includes('mfa')) throw new Error(`expected a sign-in approved on the phone (amr mfa, not fed), got amr ${JSON.stringify(amr)}`);
  return approvalToContinue(approvedAt, continuedAt);
}
