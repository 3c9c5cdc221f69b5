// nixa with the three simulated identity sources, registered as an operator would,
// and a helper that walks a citizen through the whole federated sign-in.
import { randomBytes } from 'node:crypto';

import * as oidc from 'openid-client';

import type { Nixa } from '../../src/app/index.js';
import { simulatedSourceRegistration, SIMULATED_SOURCE_IDS } from '../../src/app/dev-sources.js';
import { SIGNED_OUT_PATH } from '../../src/federation/index.js';
import { CALLBACK_PATH } from '../../src/interactions/index.js';
import { startSimulatedSource, type SimulatedSource, type SourceKind } from '../../src/simulated-sources/index.js';
import { addSource } from '../../src/sources/index.js';
import type { Logger } from '../../src/logging/index.js';
import type { OrganisationRegistries } from '../../src/registries/contract.js';
import type { TestDatabase } from './database.js';
import { startTestNixa } from './nixa.js';
import { field } from './pages.js';
import { UserAgent } from './user-agent.js';

export interface Federation {
  nixa: Nixa;
  sources: Record<SourceKind, SimulatedSource>;
  close(): Promise<void>;
}

export async function startFederation(tdb: TestDatabase, env: Record<string, string> = {}, opts: { logger?: Logger; registries?: OrganisationRegistries } = {}): Promise<Federation> {
  const nixa = await startTestNixa(tdb.db, { NIXA_TEST_LOGIN: 'false', ...env }, opts);
  const sources = {} as Record<SourceKind, SimulatedSource>;
  for (const kind of ['citizen_id', 'telecom', 'bank'] as const) {
    const secret = randomBytes(24).toString('base64url');
    sources[kind] = await startSimulatedSource({
      kind,
      clients: [
        {
          client_id: 'nixa',
          client_secret: secret,
          token_endpoint_auth_method: 'client_secret_basic',
          redirect_uris: [`${nixa.config.issuer}${CALLBACK_PATH}`],
          post_logout_redirect_uris: [`${nixa.config.issuer}${SIGNED_OUT_PATH}`],
        },
      ],
    });
    await addSource(tdb.db, nixa.cipher, simulatedSourceRegistration(kind, sources[kind].issuer, secret), 'test', { allowHttpLoopback: true });
  }
  await nixa.sources.refresh();
  return {
    nixa,
    sources,
    async close() {
      await Promise.all(Object.values(sources).map((s) => s.close()));
      await nixa.close();
    },
  };
}

export interface FederatedSignIn {
  agent: UserAgent;
  /** Where the journey stopped: the RP's redirect URI, or a page (chooser, consent, failure). */
  stoppedAt?: string;
  page?: { status: number; url: string; html: string };
  verifier: string;
  state: string;
  nonce: string;
  pages: string[];
}

/**
 * Service → nixa chooser → source picker → nixa (→ consent) → service. Stops at the
 * first page it was not told how to answer, so tests can look at it.
 */
export async function federatedSignIn(
  config: oidc.Configuration,
  redirectUri: string,
  o: {
    source?: SourceKind;
    citizen?: string;
    consent?: 'accept' | 'refuse';
    /** On the page asking whom the person acts for: 'self' or an enterprise code. */
    represent?: string;
    scope?: string;
    agent?: UserAgent;
    extra?: Record<string, string>;
    /** How the service sends the browser: by default the plain front-channel URL; a FAPI service pushes it first (PAR). */
    authorize?: (params: Record<string, string>) => Promise<URL> | URL;
  },
): Promise<FederatedSignIn> {
  const agent = o.agent ?? new UserAgent();
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = await (o.authorize ?? ((p) => oidc.buildAuthorizationUrl(config, p)))({
    redirect_uri: redirectUri,
    scope: o.scope ?? 'openid profile',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...o.extra,
  });
  const pages: string[] = [];
  let step = await agent.follow(url, {}, redirectUri);
  for (let i = 0; i < 7 && !step.stoppedAt; i++) {
    const html = await step.res.text();
    const page = { status: step.res.status, url: step.url, html };
    const at = new URL(step.url);
    if (step.res.status !== 200) return { agent, page, verifier, state, nonce, pages };
    if (html.includes(`action="/interaction/`) && html.includes('name="source"') && o.source) {
      pages.push('chooser');
      step = await agent.submit(new URL(`/interaction/${at.pathname.split('/')[2]}/source`, at), { csrf: field(html, 'csrf')!, source: SIMULATED_SOURCE_IDS[o.source] }, redirectUri);
      o = { ...o, source: undefined };
    } else if (html.includes('name="citizen"') && o.citizen) {
      pages.push('source-picker');
      const pick = /action="(\/interaction\/[^"]+\/pick)"/.exec(html)![1]!;
      step = await agent.submit(new URL(pick, at), { citizen: o.citizen }, redirectUri);
      o = { ...o, citizen: undefined };
    } else if (html.includes('name="choice"') && o.represent) {
      pages.push('representation');
      step = await agent.submit(new URL(`/interaction/${at.pathname.split('/')[2]}/represent`, at), { csrf: field(html, 'csrf')!, choice: o.represent }, redirectUri);
      o = { ...o, represent: undefined };
    } else if (html.includes('name="decision"') && o.consent) {
      pages.push('consent');
      step = await agent.submit(new URL(`/interaction/${at.pathname.split('/')[2]}/consent`, at), { csrf: field(html, 'csrf')!, decision: o.consent, ...(o.consent === 'accept' ? { shown: /name="shown" value="([^"]*)"/.exec(html)?.[1] ?? '' } : {}) }, redirectUri);
      o = { ...o, consent: undefined };
    } else {
      return { agent, page, verifier, state, nonce, pages };
    }
  }
  return { agent, stoppedAt: step.stoppedAt!, verifier, state, nonce, pages };
}

export function redeemFederated(config: oidc.Configuration, s: FederatedSignIn) {
  return oidc.authorizationCodeGrant(config, new URL(s.stoppedAt!), { pkceCodeVerifier: s.verifier, expectedState: s.state, expectedNonce: s.nonce });
}

/**
 * A citizen's browser signed in to a service through `source`, consenting when
 * asked, the code redeemed as the service would: nixa's session is in its cookies.
 */
export async function signedInAgent(
  config: oidc.Configuration,
  redirectUri: string,
  o: { source: SourceKind; citizen: string; extra?: Record<string, string> },
): Promise<UserAgent> {
  const s = await federatedSignIn(config, redirectUri, { ...o, consent: 'accept' });
  if (!s.stoppedAt) throw new Error(`sign-in stopped at ${s.page?.url}: ${s.page?.html.slice(0, 300)}`);
  await redeemFederated(config, s);
  return s.agent;
}

export { SIMULATED_SOURCE_IDS };
