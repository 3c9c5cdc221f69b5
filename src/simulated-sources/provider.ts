// oidc-provider configured as one simulated source: a standard OpenID provider
// (code flow only, PKCE S256 required, exact redirect URIs, RP-initiated logout)
// whose accounts are the seeded test citizens and whose claims are the source's
// own (see profiles.ts). The pages it renders itself are the source's pages.
import { randomBytes } from 'node:crypto';

import Provider, { interactionPolicy, type AccountClaims, type ClientMetadata, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { JWK } from 'jose';
import type { Logger } from 'pino';

import { TEST_CITIZENS, type TestCitizen } from './citizens.js';
import { memoryAdapter, type MemoryStore } from './memory-adapter.js';
import type { MisbehaviourState } from './misbehaviour.js';
import { renderSourcePage } from './pages.js';
import { subjectFor, type SourceProfile } from './profiles.js';
import { SIGNING_ALG } from './signing-keys.js';

/** A relying party of the source (in practice: nixa), as the caller registers it. */
export interface SimulatedClient {
  client_id: string;
  client_secret?: string;
  jwks_uri?: string;
  token_endpoint_auth_method: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';
  redirect_uris: string[];
  post_logout_redirect_uris?: string[];
}

export interface SourceProviderDeps {
  issuer: string;
  profile: SourceProfile;
  clients: readonly SimulatedClient[];
  signingKey: JWK;
  state: MisbehaviourState;
  store: MemoryStore;
  logger: Logger;
}

/** Claims a source can be told to drop: its own, and the assurance it states (sub is required by the protocol). */
export function droppableClaims(profile: SourceProfile): string[] {
  return [...profile.claimNames, 'acr', 'amr'];
}

/** The seeded citizens this source knows, by the subject identifier it gives them. */
export function citizensBySubject(profile: SourceProfile): Map<string, TestCitizen> {
  return new Map(TEST_CITIZENS.filter((c) => profile.knows(c)).map((c) => [subjectFor(profile, c), c]));
}

export function buildSourceProvider(deps: SourceProviderDeps): Provider {
  const { issuer, profile, state, logger } = deps;
  const known = citizensBySubject(profile);
  const cookiePrefix = `sim_${profile.kind}`;

  // In "deny" mode every authorization request must reach the picker's handler,
  // even when a session and a grant would let oidc-provider answer at once.
  const policy = interactionPolicy.base();
  policy.get('login')!.checks.add(
    new interactionPolicy.Check('simulated_refusal', 'the simulated source is set to refuse every sign-in', 'login_required', () => state.current.mode === 'deny'),
  );

  const configuration: Configuration = {
    adapter: memoryAdapter(deps.store),
    clients: deps.clients.map((c) => toClientMetadata(c, profile)),
    findAccount: (_ctx, sub) => {
      const citizen = known.get(sub);
      if (!citizen) return undefined;
      return {
        accountId: sub,
        // Read at issuance, so drop-claim applies to the next ID token and userinfo answer.
        claims: () => {
          const asserted: AccountClaims = { sub };
          for (const [name, value] of Object.entries(profile.claims(citizen))) if (!state.drops(name)) asserted[name] = value;
          return asserted;
        },
      };
    },
    jwks: { keys: [deps.signingKey as NonNullable<Configuration['jwks']>['keys'][number]] },
    cookies: {
      keys: [randomBytes(32).toString('base64url')],
      // On localhost, browsers share cookies across ports: nixa and the three
      // sources must not overwrite each other's _session and _interaction cookies.
      names: { session: `${cookiePrefix}_session`, interaction: `${cookiePrefix}_interaction`, resume: `${cookiePrefix}_interaction_resume` },
      long: { signed: true, httpOnly: true, sameSite: 'lax' },
      short: { signed: true, httpOnly: true, sameSite: 'lax' },
    },
    pkce: { required: () => true },
    responseTypes: ['code'],
    allowOmittingSingleRegisteredRedirectUri: false,
    // Each client is held to the one method it registered (oidc-provider refuses the others as invalid_client).
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    scopes: ['openid', profile.scope],
    claims: { sid: null, iss: null, openid: ['sub', 'acr', 'amr', 'auth_time'], [profile.scope]: [...profile.claimNames] },
    // Release the scope's claims in the ID token too, not only at userinfo: nixa reads them there.
    conformIdTokenClaims: false,
    acrValues: [profile.acr],
    // Relying parties call the token and userinfo endpoints from their servers, never from browsers.
    clientBasedCORS: () => false,
    // A source's session only spares the developer its picker on the next sign-in
    // (nixa keeps its own session); half an hour covers a demo walkthrough, and
    // bounds what a load test leaves in memory (the store is in-process, see memory-adapter.ts).
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 1800, Grant: 1800 },
    // oidc-provider refuses to fetch a client's jwks_uri from special-use addresses
    // (SSRF protection); here the only clients are the developer's own nixa on
    // loopback, so that protection is lifted for these dev-only providers.
    fetch: (url, init) => {
      const { dispatcher: _ssrfGuard, ...rest } = (init ?? {}) as RequestInit & { dispatcher?: unknown };
      return fetch(url, rest);
    },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          if (await endedOnHint(ctx, configuration)) return;
          ctx.type = 'html';
          ctx.body = renderSourcePage(profile, 'logout', { title: 'Đăng xuất', form, clientId: ctx.oidc.client?.clientId ?? '' });
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.type = 'html';
          ctx.body = renderSourcePage(profile, 'signed-out', { title: 'Đã đăng xuất' });
        },
      },
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}`, policy },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = renderSourcePage(profile, 'error', {
        title: 'Lỗi',
        headingVi: 'Không thể tiếp tục',
        headingEn: 'Cannot continue',
        messageVi: 'Yêu cầu gửi tới nguồn định danh này không hợp lệ.',
        messageEn: out.error_description ?? 'The request sent to this identity source is not valid.',
        error: out.error,
      });
    },
  };

  const provider = new Provider(issuer, configuration);
  provider.on('server_error', (ctx: KoaContextWithOIDC, err: Error) => {
    logger.error({ err: { name: err.name, message: err.message, stack: err.stack }, path: ctx.path }, 'simulated source: server_error');
  });
  for (const event of ['authorization.error', 'grant.error', 'end_session.error', 'userinfo.error'] as const) {
    provider.on(event as 'server_error', (ctx: KoaContextWithOIDC, err: Error & { error?: string; error_description?: string }) => {
      logger.info({ event, error: err.error ?? err.name, description: err.error_description, client: ctx.oidc?.client?.clientId }, 'simulated source: protocol error');
    });
  }
  return provider;
}

/**
 * Like most real providers, a source does not ask again when its relying party
 * proves by a valid id_token_hint (checked by oidc-provider before this runs) that
 * the citizen signed out there: it ends the session at once and sends the browser
 * back. Without the hint (client_id and logout_hint only), it asks.
 */
async function endedOnHint(ctx: KoaContextWithOIDC, configuration: Configuration): Promise<boolean> {
  const sub = ctx.oidc.entities.IdTokenHint?.payload.sub;
  const session = ctx.oidc.session;
  if (typeof sub !== 'string' || !session?.accountId || sub !== session.accountId) return false;
  await session.destroy();
  ctx.oidc.cookies.set(ctx.oidc.provider.cookieName('session'), null, configuration.cookies?.long);
  const { post_logout_redirect_uri: back, state } = ctx.oidc.params as { post_logout_redirect_uri?: string; state?: string };
  const target = new URL(back ?? ctx.oidc.urlFor('end_session_success'));
  if (back && state !== undefined) target.searchParams.set('state', state);
  ctx.status = 303;
  ctx.redirect(target.href);
  return true;
}

function toClientMetadata(c: SimulatedClient, profile: SourceProfile): ClientMetadata {
  return {
    client_id: c.client_id,
    ...(c.client_secret !== undefined ? { client_secret: c.client_secret } : {}),
    ...(c.jwks_uri !== undefined ? { jwks_uri: c.jwks_uri } : {}),
    token_endpoint_auth_method: c.token_endpoint_auth_method,
    redirect_uris: c.redirect_uris,
    post_logout_redirect_uris: c.post_logout_redirect_uris ?? [],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    id_token_signed_response_alg: SIGNING_ALG,
    scope: `openid ${profile.scope}`,
  };
}
