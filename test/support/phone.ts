// A citizen's phone for HTTP tests: signed in to a service through a source (so
// to nixa), bound at /account/phones with a software authenticator (genuine
// ES256 WebAuthn answers, user verified unless told otherwise), and the steps of
// approving a request on it (src/phone's pages).
import type * as oidc from 'openid-client';

import { SoftwareAuthenticator } from './authenticator.js';
import type { SourceKind } from '../../src/simulated-sources/index.js';
import { federatedSignIn, redeemFederated } from './federation.js';
import { field } from './pages.js';
import type { UserAgent } from './user-agent.js';

/** The origin the software authenticator reports; nixa under test is told it with NIXA_PASSKEY_ORIGINS. */
export const PHONE_ORIGIN = 'http://localhost:3000';
export const PHONE_PASSKEY_ENV = { NIXA_PASSKEY_RP_ID: 'localhost', NIXA_PASSKEY_ORIGINS: PHONE_ORIGIN };

export interface Phone {
  agent: UserAgent;
  authenticator: SoftwareAuthenticator;
  /** The /account page as the phone first saw it. */
  account: string;
  csrf: string;
}

export interface PhoneWorld {
  issuer: string;
  config: oidc.Configuration;
  redirectUri: string;
}

export const form = (fields: Record<string, string>): RequestInit => ({
  method: 'POST',
  body: new URLSearchParams(fields).toString(),
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
});

/** A phone signed in to the service (and so to nixa) through `source`, on its /account page. */
export async function phoneSignedIn(w: PhoneWorld, source: SourceKind, citizen: string, canVerifyUser = true): Promise<Phone> {
  const signIn = await federatedSignIn(w.config, w.redirectUri, { source, citizen, consent: 'accept' });
  await redeemFederated(w.config, signIn);
  const account = await (await signIn.agent.request(new URL('/account', w.issuer))).text();
  return { agent: signIn.agent, authenticator: new SoftwareAuthenticator(PHONE_ORIGIN, 'localhost', canVerifyUser), account, csrf: field(account, 'csrf')! };
}

/** Binds the phone at /account/phones: the options asked, the answer's status and page. */
export async function bind(w: PhoneWorld, p: Phone, name = 'Điện thoại của tôi') {
  const res = await p.agent.request(new URL('/account/phones/options', w.issuer), form({ csrf: p.csrf }));
  const options = (await res.json()) as Parameters<SoftwareAuthenticator['register']>[0] & { authenticatorSelection?: { userVerification?: string } };
  const bound = await p.agent.request(new URL('/account/phones', w.issuer), form({ csrf: p.csrf, name, response: JSON.stringify(p.authenticator.register(options)) }));
  return { options, status: bound.status, html: await bound.text() };
}

/** A phone signed in through `source` and bound. */
export async function boundPhone(w: PhoneWorld, source: SourceKind, citizen: string): Promise<Phone> {
  const p = await phoneSignedIn(w, source, citizen);
  const b = await bind(w, p);
  if (b.status !== 200) throw new Error(`binding failed: ${b.status}`);
  return p;
}

/** A page of nixa on the phone: status, HTML, and its CSRF token. */
export async function openOnPhone(w: PhoneWorld, p: Phone, path: string) {
  const res = await p.agent.request(new URL(path, w.issuer));
  const html = await res.text();
  return { status: res.status, html, csrf: field(html, 'csrf') };
}

/** On a request page already at its passkey step: options, the authenticator's answer, the approval's page. */
export async function approveWithPasskey(w: PhoneWorld, p: Phone, path: string, csrf: string, o: { userVerified?: boolean } = {}) {
  const res = await p.agent.request(new URL(`${path}/options`, w.issuer), form({ csrf }));
  if (res.status !== 200) return { status: res.status, html: await res.text(), options: undefined };
  const options = (await res.json()) as Parameters<SoftwareAuthenticator['authenticate']>[0] & { userVerification?: string };
  const answer = p.authenticator.authenticate(options, o.userVerified === undefined ? {} : { userVerified: o.userVerified });
  const approved = await p.agent.request(new URL(`${path}/approve`, w.issuer), form({ csrf, response: JSON.stringify(answer) }));
  return { status: approved.status, html: await approved.text(), options };
}
