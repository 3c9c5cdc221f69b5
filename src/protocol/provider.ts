// oidc-provider configured for nixa. Everything protocol-level lives here:
// PKCE everywhere, exact redirect URIs (native apps' loopback ones on any port), the client authentication methods and
// algorithms nixa allows, TTLs, and the pages the provider renders itself.
import Provider, { interactionPolicy, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';

import { createHmac, createSecretKey } from 'node:crypto';

import { accountClaims, findAccount, type AccountsContext } from '../accounts/index.js';
import { ADMIN_SCOPES } from '../admin/roles.js';
import { ACR_VALUES, atLeast, levelOfAcr } from '../assurance/index.js';
import {
  consentableClaims,
  consentDiff,
  consentOf,
  grantableClaims,
  releasableClaims,
  requestedClaims,
  SCOPE_CLAIMS,
  type ClaimsParameter,
  type ConsentCache,
} from '../consent/index.js';
import { clientStore, NIXA_CLIENT_METADATA, pairwiseSector, verifySecret, type ClientCache } from '../clients/index.js';
import type { Config } from '../config/index.js';
import { DEVICE_CODE_TTL_SECONDS, deviceCodeAdapter, deviceFlow, deviceGrantRoutes, pollingAtTokenEndpoint, type DeviceGrantDeps } from '../device-grant/index.js';
import { cibaAdapter, cibaFeature } from '../ciba/index.js';
import { accountsConsentingTo } from '../consent/store.js';
import type { KeySnapshot } from '../keys/index.js';
import type { Logger } from '../logging/index.js';
import { languageReturnsTo, renderPage } from '../pages/index.js';
import type { Database } from '../storage/index.js';
import { extraTokenClaims, introspectionAllowedPolicy, introspectionAuthentication, machineTokenIntrospection, resourceIndicators } from './access-tokens.js';
import { PostgresAdapter, providerStorage, translateStorageErrors } from './adapter.js';
import { rotationInOneStatement } from './rotation.js';
import { assertClientAssertion, authorizationCodeTtl, fapiFeature, fapiRotation } from './fapi.js';
import { ENCRYPTION_ALGS, ENCRYPTION_ENCS, FAPI_ALGS } from '../clients/index.js';
import { oauthErrorPage } from './errors.js';
import { claimsRequest, requestedLevel, SERVICE_MINIMUM_PARAM } from './requested-level.js';
import { acceptsOf, organisationOf, recheckAtRefresh, richAuthorizationRequests, validateRepresentationMetadata } from './representation.js';
import { representationAskedIn, REPRESENTATION_CLAIM, REPRESENTATION_SCOPE } from '../representation/policy.js';
import type { OrganisationRegistries } from '../registries/contract.js';
import type { PersonRelations } from '../representation/persons.js';
import { actingClaims, actingFor, actingJwtCustomizer, actingTokenClaims, type ActingForDeps } from './acting-for.js';
import type { RecordCache } from './record-cache.js';
import { SHORT_LIVED_MODELS, type ShortLivedState } from './short-lived.js';

/**
 * oidc-provider's prompts, with nixa's assurance check: a session below the level
 * the service asks for must log in again (step up) — at a source that can vouch
 * higher — instead of being handed a token at a lower level. It replaces
 * oidc-provider's exact-match acr checks, since nixa's levels are ordered.
 * And nixa's consent check (below).
 */
function nixaInteractionPolicy(db: Database, accounts: AccountsContext, consents: ConsentCache) {
  const policy = interactionPolicy.base();
  // oidc-provider asks for consent when the session's grant lacks a scope or claim;
  // nixa also asks when its own consent record does not cover this request — in
  // particular a claim accepted as "Chưa có" that has a value now, which an
  // existing grant (single sign-on) would otherwise keep silently withholding.
  policy.get('consent')!.checks.add(
    new interactionPolicy.Check('nixa_consent_missing', 'the citizen has not agreed to share what the service asks', async (ctx) => {
      const { oidc } = ctx;
      const accountId = oidc.session?.accountId;
      if (!accountId || !oidc.client) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      // This interaction just ended with a grant, and nixa makes grants only by
      // grantContents: it holds nothing the consent does not cover (test login included).
      if (oidc.result?.consent) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      const params = oidc.params as Record<string, unknown>;
      const scopes = String(params.scope ?? '').split(' ').filter(Boolean);
      const registeredScopes = oidc.client.scope?.split(' ');
      const asked = requestedClaims(scopes, claimsRequest(params) as ClaimsParameter | undefined, registeredScopes);
      const requested = consentableClaims(asked);
      if (!requested.length) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      const consent = await consentOf(db, accountId, oidc.client.clientId, consents);
      if (!consentDiff(requested, consent, await accountClaims(accounts, accountId)).satisfied) return interactionPolicy.Check.REQUEST_PROMPT;
      // Agreed, but the session's grant (made for an earlier, narrower request of
      // this service) may not hold it: go round once, and the consent step makes a
      // fresh grant without showing a page. Otherwise oidc-provider, which counts
      // the claims that grant rejected as already answered, would withhold them.
      const grantable = grantableClaims({ registeredScopes, consent, requested: asked });
      const held = new Set(oidc.grant?.getOIDCClaims() ?? []);
      return grantable.every((c) => c === 'sub' || held.has(c)) ? interactionPolicy.Check.NO_NEED_TO_PROMPT : interactionPolicy.Check.REQUEST_PROMPT;
    }),
  );
  // Whom the person acts for is chosen at every sign-in that asks for it: a service
  // accepting representation that asks (scope or RAR) always meets the choice page.
  policy.get('consent')!.checks.add(
    new interactionPolicy.Check('nixa_representation_choice', 'the service asks whom the person acts for', async (ctx) => {
      const { oidc } = ctx;
      if (!oidc.session?.accountId || !oidc.client || oidc.result?.consent) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      if (!acceptsOf(oidc.client).length) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      const asked = representationAskedIn(oidc.params as Record<string, unknown>, oidc.client.scope?.split(' ') ?? []);
      return asked ? interactionPolicy.Check.REQUEST_PROMPT : interactionPolicy.Check.NO_NEED_TO_PROMPT;
    }),
  );
  const login = policy.get('login')!;
  login.checks.remove('essential_acr');
  login.checks.remove('essential_acrs');
  login.checks.add(
    new interactionPolicy.Check('assurance_too_low', 'the session is below the assurance level the service asks for', async (ctx) => {
      const { oidc } = ctx;
      if (!oidc.session?.accountId) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      // What the service asked, raised to its registered minimum (see SERVICE_MINIMUM_PARAM).
      const needed = requestedLevel(oidc.params as Record<string, unknown>, oidc.claims as never);
      if (!needed) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      const current = oidc.acr ? levelOfAcr(oidc.acr) : undefined;
      return current && atLeast(current, needed) ? interactionPolicy.Check.NO_NEED_TO_PROMPT : interactionPolicy.Check.REQUEST_PROMPT;
    }),
  );
  return policy;
}

export const ASYMMETRIC_ALGS = ['ES256', 'RS256', 'PS256', 'EdDSA'];
const CLIENT_AUTH_METHODS = ['private_key_jwt', 'client_secret_basic', 'none'] as const;

export interface ProviderDeps {
  config: Config;
  db: Database;
  logger: Logger;
  accounts: AccountsContext;
  /** Key for pairwise subject identifiers (derived from the master key: stable across instances). */
  pairwiseKey: Buffer;
  /** Where interactions, codes, access tokens and replay records live (short-lived.ts). */
  shortLived: ShortLivedState;
  /** The instance's clients and consents in memory: made once per instance, as the provider is rebuilt on key changes. */
  clients: ClientCache;
  consents: ConsentCache;
  /** Sessions and grants in memory (record-cache.ts), one per instance. */
  records: RecordCache;
  /** Notifies a bound phone of a CIBA request (Web Push); absent, the phone finds it when it opens nixa. */
  notifyPhone?: (phoneId: string, message: { type: 'ciba'; id: string }) => Promise<unknown>;
  /** Asked again at each refresh of a token that acts for an organisation; absent, such a refresh answers 503. */
  registries?: OrganisationRegistries;
  /** Whose child or helper a person is (persons acting for persons); absent, no such token is issued or honoured. */
  relations?: PersonRelations;
  /** Key for DPoP nonces (derived from the master key: every instance accepts the nonces of every other). */
  dpopNonceKey: Buffer;
}

/** The authorization parameter a service uses to pre-select an identity source. */
export const SOURCE_HINT_PARAM = 'idp_hint';

export function buildProvider(
  { config, db: database, logger, accounts: accountsContext, pairwiseKey, clients: clientCache, consents, records, shortLived, notifyPhone, registries, relations, dpopNonceKey }: ProviderDeps,
  keys: KeySnapshot,
): Provider {
  const db = providerStorage(database);
  const accounts = { ...accountsContext, db: providerStorage(accountsContext.db) };
  const clients = clientStore(db, clientCache);
  // A key object made once: from a raw Buffer, every HMAC would import the key again.
  const pairwiseHmacKey = createSecretKey(pairwiseKey);
  // The device grant counts client addresses under a key of its own, derived from the pairwise one.
  const pairwise = (accountId: string, client: unknown) => createHmac('sha256', pairwiseHmacKey).update(`${pairwiseSector(client as never)}\0${accountId}`).digest('base64url');
  const acting: ActingForDeps = {
    db,
    accounts,
    relations,
    logger,
    subjectFor: (_ctx, accountId, client) => (client.subjectType === 'pairwise' ? pairwise(accountId, client) : accountId),
  };
  const deviceGrant: DeviceGrantDeps = { db, addressKey: createHmac('sha256', pairwiseKey).update('nixa device grant: client addresses').digest() };
  const configuration: Configuration = {
    adapter: (name: string) => {
      if (!SHORT_LIVED_MODELS.has(name)) return new PostgresAdapter(name, db, clients, 'oidc_payloads', records);
      const adapter = translateStorageErrors(shortLived.adapter(name, db, clients));
      if (name === 'BackchannelAuthenticationRequest') return cibaAdapter(adapter, db, pollingAtTokenEndpoint);
      return name === 'DeviceCode' ? deviceCodeAdapter(adapter, deviceGrant) : adapter;
    },
    clients: [],
    // Defence in depth: whatever a grant says, the claims handed to oidc-provider
    // for a service are only those grantableClaims allows for its registered
    // scopes and the citizen's consent to it, read at the time of release.
    findAccount: async (ctx, id, token) => {
      const account = await findAccount(accounts, id);
      if (!account) return undefined;
      // A token that acts for another person (protocol/acting-for.ts): their claims, checked now.
      const person = await actingFor(acting, ctx, id, token as never);
      if (person) {
        // oidc-provider binds the tokens to account.accountId first (the actor: every token
        // must match its grant and session), then releases claims with sub = account.accountId,
        // read after claims(). So the account is the actor's until its claims are read, and
        // the represented person's after. persons-sign-in.test.ts fails if that order changes.
        let accountId = id;
        return {
          get accountId() {
            return accountId;
          },
          claims: async () => {
            const claims = await actingClaims(acting, ctx, person);
            accountId = person.acting.representedAccount;
            return claims as never;
          },
        };
      }
      return {
        accountId: id,
        claims: async () => {
          const client = ctx.oidc?.client;
          if (!client) return { sub: id };
          const allowed = grantableClaims({ registeredScopes: client.scope?.split(' '), consent: await consentOf(db, id, client.clientId, consents) });
          const organisation = organisationOf(ctx);
          return { ...releasableClaims(allowed, allowed, await account.claims('userinfo', '', {}, [])), ...(organisation ? { [REPRESENTATION_CLAIM]: organisation } : {}), sub: id };
        },
      };
    },
    jwks: { keys: keys.providerJwks as NonNullable<Configuration['jwks']>['keys'] },
    cookies: {
      keys: keys.cookieKeys,
      long: { signed: true, httpOnly: true, sameSite: 'lax' },
      short: { signed: true, httpOnly: true, sameSite: 'lax' },
    },
    // RFC 9700 §2.1.1: PKCE for every client, confidential ones too. v9 offers S256 only.
    pkce: { required: () => true },
    responseTypes: ['code'],
    // Exact redirect URI matching, always: never fall back to the only registered one.
    // One exception, oidc-provider's own (Client#redirectUriAllowed): a native app's
    // (application_type native) http://127.0.0.1 or http://[::1] redirect matches on
    // any port, RFC 8252 §7.3; path, query and the rest still exactly. A web client's
    // (http://localhost outside production) keep the port. Which URIs a native app may
    // register, never localhost: src/clients/native-redirects.ts.
    allowOmittingSingleRegisteredRedirectUri: false,
    clientAuthMethods: [...CLIENT_AUTH_METHODS],
    // RFC 8414 §2: without these, a service must guess how to authenticate at
    // introspection and revocation (oidc-provider omits them; they are the token endpoint's).
    discovery: {
      introspection_endpoint_auth_methods_supported: [...CLIENT_AUTH_METHODS],
      introspection_endpoint_auth_signing_alg_values_supported: ASYMMETRIC_ALGS,
      revocation_endpoint_auth_methods_supported: [...CLIENT_AUTH_METHODS],
      revocation_endpoint_auth_signing_alg_values_supported: ASYMMETRIC_ALGS,
    },
    enabledJWA: {
      clientAuthSigningAlgValues: ASYMMETRIC_ALGS as never,
      idTokenSigningAlgValues: config.keys.signingAlgs as never,
      userinfoSigningAlgValues: config.keys.signingAlgs as never,
      introspectionSigningAlgValues: config.keys.signingAlgs as never,
      authorizationSigningAlgValues: config.keys.signingAlgs as never,
      // RFC 9101 request objects: FAPI 2.0 §5.4.1's algorithms, for every service.
      requestObjectSigningAlgValues: [...FAPI_ALGS] as never,
      // RFC 9449 proofs: FAPI 2.0 §5.4.1's algorithms (Ed25519 is EdDSA's fully specified name).
      dPoPSigningAlgValues: [...FAPI_ALGS, 'Ed25519'] as never,
      // Encrypted ID tokens and userinfo, to the service's public key only (clients/encryption.ts says why).
      idTokenEncryptionAlgValues: [...ENCRYPTION_ALGS] as never,
      idTokenEncryptionEncValues: [...ENCRYPTION_ENCS] as never,
      userinfoEncryptionAlgValues: [...ENCRYPTION_ALGS] as never,
      userinfoEncryptionEncValues: [...ENCRYPTION_ENCS] as never,
      // features.encryption would also accept request objects encrypted under a key derived
      // from the client secret, which nixa keeps only as a hash: none are accepted.
      requestObjectEncryptionAlgValues: [] as never,
      requestObjectEncryptionEncValues: [] as never,
    },
    // A fapi2 service's client assertions: aud = the issuer, FAPI algorithms (fapi.ts).
    assertJwtClientAuthClaimsAndHeader: assertClientAssertion,
    // Admin scopes are for machine clients (client_credentials) only; clients/schema.ts enforces it.
    scopes: ['openid', 'offline_access', 'profile', 'phone', 'address', 'national_id', REPRESENTATION_SCOPE, ...ADMIN_SCOPES],
    // acr/amr/auth_time say how the citizen signed in; services need them in every ID token.
    acrValues: config.testLogin ? [...ACR_VALUES, 'urn:nixa:test'] : ACR_VALUES,
    claims: {
      sid: null,
      iss: null,
      // act: the person acting for the subject (RFC 8693 §4.1), only in a token that acts for someone.
      openid: ['sub', 'acr', 'amr', 'auth_time', 'act'],
      profile: SCOPE_CLAIMS.profile,
      phone: SCOPE_CLAIMS.phone,
      address: SCOPE_CLAIMS.address,
      national_id: SCOPE_CLAIMS.national_id,
      // The one organisation the person acts for in this token (protocol/representation.ts).
      [REPRESENTATION_SCOPE]: [REPRESENTATION_CLAIM],
    },
    // Consented claims go in the ID token too, so a service needs no userinfo call.
    conformIdTokenClaims: false,
    extraParams: {
      [SOURCE_HINT_PARAM]: null,
      // The service's registered minimum level rides with the request (requested-level.ts
      // says why); whatever a request carried under this name is replaced, never trusted.
      [SERVICE_MINIMUM_PARAM]: (ctx, _value, client) => {
        const minimum = (client as unknown as { min_level?: string }).min_level;
        (ctx.oidc.params as Record<string, unknown>)[SERVICE_MINIMUM_PARAM] = minimum;
      },
    },
    // min_level and api_resource: nixa's own, from the clients table (validated when the operator set them).
    extraClientMetadata: {
      properties: [...NIXA_CLIENT_METADATA],
      validator: (_ctx, key, value) => {
        if (key === 'representation') validateRepresentationMetadata(value);
      },
    },
    extraTokenClaims: async (ctx, token) => {
      const base = await extraTokenClaims(ctx, token);
      const person = token.kind === 'AccessToken' ? actingTokenClaims(ctx) : undefined;
      return person ? { ...(base ?? {}), ...person } : base;
    },
    formats: { customizers: { jwt: actingJwtCustomizer as never } },
    subjectTypes: ['public', 'pairwise'],
    // Two services cannot correlate a person by sub: HMAC, under a key of this
    // deployment's own, of the service's sector and the account. The sector is the
    // service unless it registered a sector_identifier_uri (src/clients/sector.ts),
    // never oidc-provider's default, the host of its redirect URIs.
    pairwiseIdentifier: (_ctx, accountId, client) => pairwise(accountId, client),
    // The sector document was fetched and checked when the service was registered
    // (src/clients/sector-document.ts); a sign-in does not depend on it being up.
    sectorIdentifierUriValidate: () => false,
    ttl: {
      ...config.ttl,
      DeviceCode: DEVICE_CODE_TTL_SECONDS,
      AuthorizationCode: authorizationCodeTtl(config.ttl.AuthorizationCode),
      // A service may ask a CIBA request to end sooner (requested_expiry, CIBA §7.1), never later than configured.
      BackchannelAuthenticationRequest: (ctx) => {
        const asked = Number((ctx?.oidc?.params as { requested_expiry?: unknown } | undefined)?.requested_expiry);
        return Number.isSafeInteger(asked) && asked > 0 ? Math.min(asked, config.ttl.BackchannelAuthenticationRequest) : config.ttl.BackchannelAuthenticationRequest;
      },
    },
    clockTolerance: config.clockToleranceSeconds,
    // Always rotates; first asks the registry again when the token acts for an organisation.
    // A fapi2 service keeps its refresh token (fapi.ts says why).
    rotateRefreshToken: fapiRotation(recheckAtRefresh({ db, accounts, registries, logger })),
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true, allowedPolicy: introspectionAllowedPolicy },
      resourceIndicators: resourceIndicators({
        issuer: config.issuer,
        accessTokenTTL: config.ttl.AccessToken,
        clientCredentialsTTL: config.ttl.ClientCredentials,
        adminApiAlg: config.keys.signingAlgs[0]!,
      }),
      claimsParameter: { enabled: true },
      // ID tokens (and back-channel logout tokens) encrypted for a service that registered
      // id_token_encrypted_response_alg; userinfo as a JWT for one that registered
      // userinfo_signed_response_alg (clients/encryption.ts). Others get what they had.
      encryption: { enabled: true },
      jwtUserinfo: { enabled: true },
      // FAPI 2.0 for the services registered fapi2 (protocol/fapi.ts, clients/security-profile.ts).
      fapi: fapiFeature(),
      // RFC 9126: any service may push its request; a fapi2 one must (require_pushed_authorization_requests).
      pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: false, allowUnregisteredRedirectUris: false },
      // RFC 9101: signed request objects, at PAR or the authorization endpoint; required of a
      // service that registered require_signed_request_object.
      requestObjects: { enabled: true, requireSignedRequestObject: false },
      // RFC 9449: tokens bound to the service's key; required of a fapi2 service (dpop_bound_access_tokens).
      // With NIXA_DPOP_NONCE, every proof carries a nonce nixa handed out (use_dpop_nonce).
      dPoP: {
        enabled: true,
        nonceSecret: dpopNonceKey,
        requireNonce: () => config.dpopNonce,
        allowReplay: false,
      },
      // RFC 9396, for one type: nixa_representation (acting for an organisation).
      richAuthorizationRequests: richAuthorizationRequests(),
      // Signing keys in an HSM (src/keys/pkcs11.ts): the provider has the token sign
      // (TokenSigningKey). Experimental in oidc-provider: the ack pins the version
      // of the interface this build was written for; README says what an upgrade re-checks.
      externalSigningSupport: { enabled: config.keys.backend.kind === 'pkcs11', ack: 'experimental-01' },
      // Signing out of nixa tells every service of that session, server to server.
      backchannelLogout: { enabled: true },
      revocation: { enabled: true },
      // RFC 8628 for kiosks and shared screens: nixa's pages, codes and limits (src/device-grant).
      deviceFlow: deviceFlow(deviceGrant),
      // CIBA for counters and call centres: the citizen approves on their bound phone (src/ciba, src/phone).
      ciba: cibaFeature({
        db,
        accounts,
        logger,
        accountOfSub: (sub, client) => accountOfSub(accounts, sub, client, pairwise),
        ...(notifyPhone ? { notify: notifyPhone } : {}),
      }),
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          ctx.type = 'html';
          ctx.body = renderPage('logout', { title: 'Đăng xuất', form });
        },
        postLogoutSuccessSource: async (ctx) => {
          const name = ctx.oidc.client?.clientName;
          ctx.type = 'html';
          ctx.body = renderPage('signed-out', {
            title: 'Đã đăng xuất',
            clientNameVi: name ? ` (dịch vụ: ${name})` : '',
            clientNameEn: name ? ` (service: ${name})` : '',
          });
        },
      },
    },
    interactions: {
      policy: nixaInteractionPolicy(db, accounts, consents),
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    // oidc-provider refuses to call special-use addresses (SSRF protection). Outside
    // production the services are on localhost, so there the guard is lifted.
    ...(config.env !== 'production'
      ? {
          fetch: (url: string | URL | Request, init?: RequestInit) => {
            const { dispatcher: _guard, ...rest } = (init ?? {}) as RequestInit & { dispatcher?: unknown };
            return fetch(url, rest);
          },
        }
      : {}),
    renderError: async (ctx, out, error) => {
      if ((error as { status?: number }).status === undefined || (error as { status: number }).status >= 500) {
        logger.error({ err: { name: (error as Error).name, message: (error as Error).message } }, 'provider error page');
      }
      const page = oauthErrorPage(out.error, ctx.oidc?.client);
      ctx.type = 'html';
      ctx.body = page.html;
      languageReturnsTo(ctx, page.again);
    },
  };

  const provider = new Provider(config.issuer, configuration);
  // Only X-Forwarded-* from a proxy nixa is told to trust; the URLs the provider
  // builds come from the issuer whatever the request says (app/provider-host.ts).
  provider.proxy = config.trustProxy;

  // The stored "client_secret" is an argon2 hash (see src/clients): compare with argon2.
  provider.Client.prototype.compareClientSecret = function compareClientSecret(this: { clientSecret?: string }, actual: string) {
    return this.clientSecret ? verifySecret(this.clientSecret, actual) : Promise.resolve(false);
  } as never;

  const refreshTokens = new PostgresAdapter('RefreshToken', db, clients, 'oidc_payloads', records);
  provider.use(rotationInOneStatement((id) => refreshTokens.spend(id)));
  provider.use(deviceGrantRoutes(deviceGrant));
  provider.use(introspectionAuthentication);
  provider.use(machineTokenIntrospection({ issuer: config.issuer, keys, clockToleranceSeconds: config.clockToleranceSeconds }));

  provider.on('server_error', (ctx: KoaContextWithOIDC, err: Error) => {
    logger.error({ err: { name: err.name, message: err.message, stack: err.stack }, path: ctx.path }, 'provider server_error');
  });
  for (const event of ['authorization.error', 'grant.error', 'device_authorization.error', 'code_verification.error', 'device_resume.error', 'end_session.error', 'introspection.error', 'revocation.error', 'userinfo.error'] as const) {
    provider.on(event as 'server_error', (ctx: KoaContextWithOIDC, err: Error & { error?: string; error_description?: string }) => {
      logger.info(
        { event, error: err.error ?? err.name, description: err.error_description, client: ctx.oidc?.client?.clientId },
        'protocol error',
      );
    });
  }
  return provider;
}

/**
 * The account a service's `sub` names: the account id itself for a public
 * subject; for a pairwise one, found among the accounts that agreed to share
 * with this service (a service can only know the sub of someone who signed in to
 * it), by computing each one's pairwise sub. Linear in that number: fine for a
 * counter's service, to be replaced by a stored index before a service with
 * millions of citizens uses CIBA with pairwise subjects.
 */
async function accountOfSub(
  accounts: AccountsContext,
  sub: string,
  client: { clientId: string; subjectType?: string },
  pairwise: (accountId: string, client: never) => string,
): Promise<string | undefined> {
  if (client.subjectType !== 'pairwise') return (await findAccount(accounts, sub)) ? sub : undefined;
  return (await accountsConsentingTo(accounts.db, client.clientId)).find((id) => pairwise(id, client as never) === sub);
}
