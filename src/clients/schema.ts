// What a relying party registration must look like: pure validation, no I/O.
// Errors name the field the operator got wrong.
import { z } from 'zod';

import { LEVELS } from '../assurance/index.js';
import { ADMIN_SCOPES } from '../admin/roles.js';
import { InvalidInputError } from '../errors/index.js';
import { nativeRedirectProblem } from './native-redirects.js';
import { RAR_TYPE, REPRESENTATION_SCOPE, representationAcceptsSchema } from '../representation/policy.js';
import { defaultProfile, fapiDefaultAlg, profileMetadata, profileProblems, SECURITY_PROFILES } from './security-profile.js';
import { asksEncryption, ENCRYPTION_FIELDS, encryptionMetadata, encryptionProblems } from './encryption.js';

export const SUPPORTED_SCOPES = ['openid', 'offline_access', 'profile', 'phone', 'address', 'national_id', REPRESENTATION_SCOPE] as const;
export const AUTH_METHODS = ['private_key_jwt', 'client_secret_basic', 'none'] as const;
/** RFC 8628: kiosks and shared screens, whose citizen approves on a phone (src/device-grant). */
export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
/** OpenID Connect CIBA: a counter or call centre asks the citizen to approve on their bound phone (src/ciba). */
export const CIBA_GRANT = 'urn:openid:params:grant-type:ciba';
export const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials', DEVICE_CODE_GRANT, CIBA_GRANT] as const;

export type AuthMethod = (typeof AUTH_METHODS)[number];
/** OpenID Connect Registration §2: a web site (the default) or an app on the citizen's device (RFC 8252). */
export const APPLICATION_TYPES = ['web', 'native'] as const;
export type ApplicationType = (typeof APPLICATION_TYPES)[number];

function isLoopback(u: URL): boolean {
  return u.hostname === 'localhost' || u.hostname === '127.0.0.1' || u.hostname === '[::1]';
}

/**
 * Why `v` cannot be a web client's redirect URI (matched exactly): https, plain
 * http only for localhost outside production. Undefined when it can.
 */
function webRedirectProblem(v: string, allowHttpLoopback: boolean): string | undefined {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return `"${v}" is not an absolute URL`;
  }
  if (u.hash) return `"${v}" must not contain a fragment`;
  if (u.username || u.password) return `"${v}" must not contain credentials`;
  const httpOk = allowHttpLoopback && u.protocol === 'http:' && isLoopback(u);
  if (u.protocol !== 'https:' && !httpOk) return `"${v}" must use https${allowHttpLoopback ? ' (http is accepted only for localhost)' : ''}`;
  if (u.hostname.includes('*')) return `"${v}": wildcards are not allowed`;
  return undefined;
}

const redirectUri = (allowHttpLoopback: boolean) =>
  z.string().superRefine((v, ctx) => {
    const problem = webRedirectProblem(v, allowHttpLoopback);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/**
 * A redirect URI of a client of this type: a web client's by webRedirectProblem;
 * a native app's (RFC 8252) by native-redirects.ts, in every environment, since
 * an app's loopback listener is on the citizen's own device.
 */
export function redirectUriProblem(applicationType: ApplicationType, v: string, allowHttpLoopback: boolean): string | undefined {
  return applicationType === 'native' ? nativeRedirectProblem(v) : webRedirectProblem(v, allowHttpLoopback);
}

/** An absolute URL without a fragment or credentials, and what `more` asks of it. */
const absoluteUrl = (more: (u: URL, v: string, problem: (message: string) => void) => void) =>
  z.string().superRefine((v, ctx) => {
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      ctx.addIssue({ code: 'custom', message: `"${v}" is not an absolute URL` });
      return;
    }
    const problem = (message: string) => ctx.addIssue({ code: 'custom', message });
    if (v.includes('#')) problem(`"${v}" must not contain a fragment`);
    if (u.username || u.password) problem(`"${v}" must not contain credentials`);
    more(u, v, problem);
  });

/**
 * The service's API as an RFC 8707 resource indicator: an absolute URL without a
 * fragment (§2), https (plain http only for localhost outside production), no
 * query (§2 says it SHOULD NOT have one; nixa compares indicators exactly).
 */
const apiResource = (allowHttpLoopback: boolean) =>
  absoluteUrl((u, v, problem) => {
    if (u.search) problem(`"${v}" must not contain a query`);
    const httpOk = allowHttpLoopback && u.protocol === 'http:' && isLoopback(u);
    if (u.protocol !== 'https:' && !httpOk) problem(`"${v}" must use https${allowHttpLoopback ? ' (http is accepted only for localhost)' : ''}`);
  });

/**
 * Where the service's sector document is: an absolute https URL without fragment
 * or credentials, in every environment (OpenID Connect Registration §2 says https,
 * and oidc-provider refuses to load a client with any other). Fetched and checked
 * at registration (sector-document.ts).
 */
const sectorIdentifierUri = absoluteUrl((u, v, problem) => {
  if (u.protocol !== 'https:') problem(`"${v}" must use https, also for localhost`);
});

/** The least assurance level the service accepts, whatever its requests ask. */
const minLevel = z.enum(LEVELS, { error: `one of ${LEVELS.join(', ')}` });

/** standard or fapi2 (security-profile.ts). */
const securityProfile = z.enum(SECURITY_PROFILES, { error: `one of ${SECURITY_PROFILES.join(', ')}` });

/**
 * The fields of a registration that may change (null clears an optional one).
 * The client id, grant types, authentication method and subject type stay: a
 * service that needs other ones is registered anew, so that secrets, keys and
 * pairwise subjects never change meaning under a running integration.
 */
export const UPDATABLE_FIELDS = [
  'name',
  'redirect_uris',
  'post_logout_redirect_uris',
  'scope',
  'jwks',
  'jwks_uri',
  'backchannel_logout_uri',
  'min_level',
  'api_resource',
  'representation',
  'security_profile',
  'require_signed_request_object',
  // Only from client_secret_basic to private_key_jwt (changeClient): a service moving to
  // FAPI 2.0 keeps its client id, so its citizens' pairwise subjects do not change.
  'token_endpoint_auth_method',
  ...ENCRYPTION_FIELDS,
] as const;

/** What an update may carry; each field is then checked again with the whole registration (clientInputSchema). */
export function clientUpdateSchema(opts: { allowHttpLoopback: boolean }) {
  return z
    .object({
      name: z.string().optional(),
      redirect_uris: z.array(z.string(), { error: 'a list of URIs' }).optional(),
      post_logout_redirect_uris: z.array(z.string(), { error: 'a list of URIs' }).optional(),
      scope: z.string({ error: 'space-separated scopes' }).optional(),
      jwks: z.unknown().optional(),
      jwks_uri: z.string().nullable().optional(),
      backchannel_logout_uri: z.string().nullable().optional(),
      min_level: minLevel.nullable().optional(),
      api_resource: apiResource(opts.allowHttpLoopback).nullable().optional(),
      representation: representationAcceptsSchema.nullable().optional(),
      security_profile: securityProfile.optional(),
      require_signed_request_object: z.boolean({ error: 'true or false' }).nullable().optional(),
      token_endpoint_auth_method: z.enum(AUTH_METHODS, { error: `one of ${AUTH_METHODS.join(', ')}` }).optional(),
      ...encryptionFields((f) => f.nullable().optional()),
    })
    .strict()
    .refine((p) => Object.keys(p).length > 0, { message: `give at least one field to change (${UPDATABLE_FIELDS.join(', ')})` });
}

/** The encryption fields (encryption.ts checks their values, with the whole registration). */
function encryptionFields<T extends z.ZodType>(wrap: (f: z.ZodString) => T): Record<(typeof ENCRYPTION_FIELDS)[number], T> {
  return Object.fromEntries(ENCRYPTION_FIELDS.map((k) => [k, wrap(z.string({ error: 'an algorithm name' }))])) as Record<(typeof ENCRYPTION_FIELDS)[number], T>;
}

export type ClientUpdate = z.output<ReturnType<typeof clientUpdateSchema>>;

const jwkSet = z.object({
  keys: z
    .array(z.object({ kty: z.string() }).loose())
    .min(1, 'must hold at least one public key')
    .refine((keys) => keys.every((k) => !('d' in k) && !('k' in k)), 'must hold public keys only'),
});

/** A native app that does not say how it authenticates is a public client (none), not client_secret_basic. */
function nativeDefaults(input: unknown): unknown {
  if (!input || typeof input !== 'object' || Array.isArray(input)) return input;
  const c = input as Record<string, unknown>;
  return c.application_type === 'native' && c.token_endpoint_auth_method === undefined ? { ...c, token_endpoint_auth_method: 'none' } : input;
}

/**
 * A registration that does not name its profile gets fapi2 from level substantial up;
 * a fapi2 one that does not say how it authenticates or signs gets private_key_jwt and
 * nixa's first FAPI algorithm, so that what it must give (its keys) is what it is asked for.
 */
function profileDefaults(input: unknown, signingAlgs: readonly string[]): unknown {
  if (!input || typeof input !== 'object' || Array.isArray(input)) return input;
  const c = input as Record<string, unknown>;
  const profile = c.security_profile ?? defaultProfile(c.min_level as never);
  if (profile !== 'fapi2') return c.security_profile === undefined ? { ...c, security_profile: profile } : c;
  const alg = fapiDefaultAlg(signingAlgs);
  return {
    ...c,
    security_profile: profile,
    ...(c.token_endpoint_auth_method === undefined ? { token_endpoint_auth_method: 'private_key_jwt' } : {}),
    ...(c.id_token_signed_response_alg === undefined && alg ? { id_token_signed_response_alg: alg } : {}),
  };
}

export function clientInputSchema(opts: { allowHttpLoopback: boolean; signingAlgs?: readonly string[] }) {
  const signingAlgs = opts.signingAlgs ?? ['RS256'];
  const registration = z
    .object({
      client_id: z
        .string()
        .regex(/^[A-Za-z0-9._-]{3,64}$/, '3 to 64 letters, digits, dots, dashes or underscores')
        .optional(),
      name: z.string({ error: 'is required' }).trim().min(1, 'is required').max(200, 'at most 200 characters'),
      // A web site or an app on the citizen's device: it decides which redirect URIs are
      // accepted (checked below, with the type) and how they match (native-redirects.ts).
      application_type: z.enum(APPLICATION_TYPES, { error: `one of ${APPLICATION_TYPES.join(', ')}` }).default('web'),
      redirect_uris: z.array(z.string({ error: 'a URI' }), { error: 'a list of URIs' }).default([]),
      post_logout_redirect_uris: z.array(z.string({ error: 'a URI' }), { error: 'a list of URIs' }).default([]),
      grant_types: z.array(z.enum(GRANT_TYPES, { error: `one of ${GRANT_TYPES.join(', ')}` })).min(1).default(['authorization_code']),
      token_endpoint_auth_method: z
        .enum(AUTH_METHODS, { error: `one of ${AUTH_METHODS.join(', ')}` })
        .default('client_secret_basic'),
      jwks: jwkSet.optional(),
      jwks_uri: z.url({ error: 'an https URL' }).refine((u) => u.startsWith('https://') || opts.allowHttpLoopback, 'an https URL').optional(),
      // CIBA: how the service learns the citizen answered — it polls the token endpoint, or nixa pings it.
      backchannel_token_delivery_mode: z.enum(['poll', 'ping'], { error: 'poll or ping' }).optional(),
      // https always, in development too: CIBA §4 requires it (and oidc-provider will not load the client otherwise).
      backchannel_client_notification_endpoint: z
        .url({ error: 'an https URL' })
        .refine((u) => u.startsWith('https://') && !u.includes('#'), 'an https URL without a fragment (CIBA requires TLS for pings)')
        .optional(),
      // Where nixa tells the service that the citizen signed out (OpenID Connect Back-Channel Logout).
      backchannel_logout_uri: redirectUri(opts.allowHttpLoopback).optional(),
      // Pairwise by default: two services cannot correlate a person by sub.
      subject_type: z.enum(['pairwise', 'public'], { error: 'pairwise or public' }).default('pairwise'),
      // Services that are one sector share pairwise subjects (OIDC Core §8.1); see sector.ts.
      sector_identifier_uri: sectorIdentifierUri.optional(),
      id_token_signed_response_alg: z
        .string()
        .refine((a) => signingAlgs.includes(a), { message: `one of the configured signing algorithms: ${signingAlgs.join(', ')}` })
        .optional(),
      min_level: minLevel.optional(),
      // The service's own API, for which it may ask JWT access tokens (resource=…).
      api_resource: apiResource(opts.allowHttpLoopback).optional(),
      // Which kinds of acting for an organisation the service accepts (legal_representative,
      // mandate:<task>, mandate:*); with the representation scope (checked below).
      representation: representationAcceptsSchema.optional(),
      // standard or fapi2; the default depends on min_level (profileDefaults).
      security_profile: securityProfile,
      // Why a service at substantial or high is kept standard: the operator's reason, given with the act.
      security_profile_reason: z.string().trim().min(1).max(500, 'at most 500 characters').optional(),
      // RFC 9101: the service sends its authorization requests as signed request objects only.
      require_signed_request_object: z.boolean({ error: 'true or false' }).optional(),
      // Encrypted ID tokens, userinfo as a signed (and encrypted) JWT: encryption.ts.
      ...encryptionFields((f) => f.optional()),
      scope: z
        .string()
        .default('openid')
        .refine((s) => s.split(' ').every((x) => (SUPPORTED_SCOPES as readonly string[]).includes(x) || ADMIN_SCOPES.includes(x)), {
          message: `space-separated scopes from: ${SUPPORTED_SCOPES.join(', ')}, or admin scopes (${ADMIN_SCOPES.join(', ')}) for a machine client`,
        }),
    })
    .strict()
    .superRefine((c, ctx) => {
      for (const field of ['redirect_uris', 'post_logout_redirect_uris'] as const) {
        c[field].forEach((uri, i) => {
          const problem = redirectUriProblem(c.application_type, uri, opts.allowHttpLoopback);
          if (problem) ctx.addIssue({ code: 'custom', path: [field, i], message: problem });
        });
      }
      // RFC 8252 §8.5: an app's secret is in every copy of the app, so it proves
      // nothing; a native app is a public client and PKCE (required of every client) binds its code.
      if (c.application_type === 'native') {
        if (c.token_endpoint_auth_method !== 'none') {
          ctx.addIssue({
            code: 'custom',
            path: ['token_endpoint_auth_method'],
            message: 'a native app cannot keep a secret: it must be none (a public client, with PKCE; RFC 8252 §8.5)',
          });
        }
        if (!c.grant_types.includes('authorization_code')) {
          ctx.addIssue({ code: 'custom', path: ['grant_types'], message: 'a native app signs citizens in: authorization_code is required' });
        }
      }
      const interactive = c.grant_types.includes('authorization_code');
      if (interactive && c.redirect_uris.length === 0) {
        ctx.addIssue({ code: 'custom', path: ['redirect_uris'], message: 'at least one is required for the authorization_code grant' });
      }
      // A device grant (RFC 8628) is a citizen's sign-in too, without a redirect URI: it may have refresh tokens.
      const device = c.grant_types.includes(DEVICE_CODE_GRANT);
      if (!interactive && !device && !c.grant_types.includes(CIBA_GRANT) && c.grant_types.includes('refresh_token')) {
        ctx.addIssue({ code: 'custom', path: ['grant_types'], message: `refresh_token needs authorization_code, ${DEVICE_CODE_GRANT} or ${CIBA_GRANT}` });
      }
      // oidc-provider takes the pairwise sector of a device client from its jwks_uri (and
      // wants a sector_identifier_uri when it also has redirect URIs), though nixa's own
      // sector is the service (sector.ts): it refuses to load such a client without them.
      if (device && c.subject_type === 'pairwise' && !c.jwks_uri) {
        ctx.addIssue({ code: 'custom', path: ['subject_type'], message: `pairwise subjects with ${DEVICE_CODE_GRANT} need jwks_uri (private_key_jwt); otherwise register with subject_type public` });
      }
      if (device && interactive && c.subject_type === 'pairwise' && !c.sector_identifier_uri) {
        ctx.addIssue({ code: 'custom', path: ['sector_identifier_uri'], message: `is required for pairwise subjects with both ${DEVICE_CODE_GRANT} and authorization_code` });
      }
      const ciba = c.grant_types.includes(CIBA_GRANT);
      if (ciba && !c.backchannel_token_delivery_mode) {
        ctx.addIssue({ code: 'custom', path: ['backchannel_token_delivery_mode'], message: `is required with ${CIBA_GRANT}: poll or ping` });
      }
      if (!ciba && (c.backchannel_token_delivery_mode || c.backchannel_client_notification_endpoint)) {
        ctx.addIssue({ code: 'custom', path: [c.backchannel_token_delivery_mode ? 'backchannel_token_delivery_mode' : 'backchannel_client_notification_endpoint'], message: `only used with ${CIBA_GRANT}` });
      }
      if (ciba && c.backchannel_token_delivery_mode === 'ping' && !c.backchannel_client_notification_endpoint) {
        ctx.addIssue({ code: 'custom', path: ['backchannel_client_notification_endpoint'], message: 'is required for ping: where nixa tells the service the citizen answered' });
      }
      if (ciba && c.backchannel_token_delivery_mode === 'poll' && c.backchannel_client_notification_endpoint) {
        ctx.addIssue({ code: 'custom', path: ['backchannel_client_notification_endpoint'], message: 'only used with ping' });
      }
      // As for the device grant: oidc-provider takes a CIBA client's pairwise sector from its jwks_uri.
      if (ciba && c.subject_type === 'pairwise' && !c.jwks_uri) {
        ctx.addIssue({ code: 'custom', path: ['subject_type'], message: `pairwise subjects with ${CIBA_GRANT} need jwks_uri (private_key_jwt); otherwise register with subject_type public` });
      }
      if (ciba && interactive && c.subject_type === 'pairwise' && !c.sector_identifier_uri) {
        ctx.addIssue({ code: 'custom', path: ['sector_identifier_uri'], message: `is required for pairwise subjects with both ${CIBA_GRANT} and authorization_code` });
      }
      if (ciba && c.token_endpoint_auth_method === 'none') {
        ctx.addIssue({ code: 'custom', path: ['token_endpoint_auth_method'], message: `a CIBA client names citizens: it must authenticate (client_secret_basic or private_key_jwt)` });
      }
      // Admin access is for an operator's automation: a confidential client with
      // client_credentials only, so no citizen's sign-in ever carries admin scopes.
      if (c.scope.split(' ').some((x) => ADMIN_SCOPES.includes(x)) && (c.grant_types.length !== 1 || c.grant_types[0] !== 'client_credentials')) {
        ctx.addIssue({ code: 'custom', path: ['scope'], message: 'admin scopes are for machine clients: grant_types must be exactly client_credentials' });
      }
      const asksRepresentation = c.scope.split(' ').includes(REPRESENTATION_SCOPE);
      if (asksRepresentation && !c.representation) {
        ctx.addIssue({ code: 'custom', path: ['representation'], message: `is required with the ${REPRESENTATION_SCOPE} scope: the kinds of representation the service accepts` });
      }
      if (c.representation && !asksRepresentation) {
        ctx.addIssue({ code: 'custom', path: ['scope'], message: `must include ${REPRESENTATION_SCOPE} when representation is set` });
      }
      if (c.representation && !interactive) {
        ctx.addIssue({ code: 'custom', path: ['representation'], message: 'needs the authorization_code grant: the person chooses whom they act for when signing in' });
      }
      if (c.token_endpoint_auth_method === 'none' && c.grant_types.includes('client_credentials')) {
        ctx.addIssue({ code: 'custom', path: ['grant_types'], message: 'a public client (none) cannot use client_credentials' });
      }
      if (c.token_endpoint_auth_method === 'private_key_jwt' && !c.jwks && !c.jwks_uri) {
        ctx.addIssue({ code: 'custom', path: ['jwks'], message: 'jwks or jwks_uri is required for private_key_jwt' });
      }
      if (c.jwks && c.jwks_uri) {
        ctx.addIssue({ code: 'custom', path: ['jwks_uri'], message: 'give jwks or jwks_uri, not both' });
      }
      if (c.sector_identifier_uri && c.subject_type !== 'pairwise') {
        ctx.addIssue({ code: 'custom', path: ['sector_identifier_uri'], message: 'only used with subject_type pairwise' });
      }
      // A service with a secret may still give its public encryption key (encryption.ts).
      if (c.token_endpoint_auth_method !== 'private_key_jwt' && (c.jwks || c.jwks_uri) && !asksEncryption(c)) {
        ctx.addIssue({ code: 'custom', path: ['jwks'], message: 'only used with private_key_jwt or encrypted responses' });
      }
      for (const p of profileProblems(c)) ctx.addIssue({ code: 'custom', path: [p.path], message: p.message });
      for (const p of encryptionProblems(c, signingAlgs)) ctx.addIssue({ code: 'custom', path: [p.path], message: p.message });
      if (c.security_profile === 'fapi2' && c.id_token_signed_response_alg === undefined) {
        ctx.addIssue({ code: 'custom', path: ['id_token_signed_response_alg'], message: `a fapi2 service needs PS256, ES256 or EdDSA, and nixa signs with ${signingAlgs.join(', ')} (NIXA_SIGNING_ALGS)` });
      }
    });
  return z.preprocess((input) => profileDefaults(nativeDefaults(input), signingAlgs), registration);
}

export type ClientInput = z.output<ReturnType<typeof clientInputSchema>>;

function parsed<T>(res: z.ZodSafeParseResult<T>, unknownField = 'is not a field of a registration'): T {
  if (!res.success) {
    const issue = res.error.issues[0]!;
    if (issue.code === 'unrecognized_keys') throw new InvalidInputError([...issue.path, issue.keys[0]].join('.'), unknownField);
    const field = issue.path.length
      ? issue.path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i ? `.${String(p)}` : String(p))).join('')
      : 'input';
    throw new InvalidInputError(field, issue.message);
  }
  return res.data;
}

/** Validates operator input; throws InvalidInputError naming the first bad field. */
export function parseClientInput(input: unknown, opts: { allowHttpLoopback: boolean; signingAlgs?: readonly string[] }): ClientInput {
  return parsed(clientInputSchema(opts).safeParse(input));
}

/** Validates a change to a registration; throws InvalidInputError naming the first bad field. */
export function parseClientUpdate(input: unknown, opts: { allowHttpLoopback: boolean }): ClientUpdate {
  return parsed(
    clientUpdateSchema(opts).safeParse(input),
    `cannot be changed: only ${UPDATABLE_FIELDS.join(', ')} can; a service that needs another one is registered anew`,
  );
}

/** The registration a stored client was made from (the inverse of toProviderMetadata), to apply a change to. */
export function inputOfMetadata(
  meta: Record<string, unknown>,
  name: string,
  policy: { minLevel: string | null; apiResource: string | null; securityProfile: string; securityProfileReason: string | null },
): Record<string, unknown> {
  const pick = (k: string) => (meta[k] === undefined ? {} : { [k]: meta[k] });
  return {
    client_id: meta.client_id,
    name,
    ...pick('application_type'),
    redirect_uris: meta.redirect_uris ?? [],
    post_logout_redirect_uris: meta.post_logout_redirect_uris ?? [],
    grant_types: meta.grant_types,
    token_endpoint_auth_method: meta.token_endpoint_auth_method,
    scope: meta.scope,
    subject_type: meta.subject_type,
    ...pick('sector_identifier_uri'),
    ...pick('backchannel_logout_uri'),
    ...pick('id_token_signed_response_alg'),
    ...pick('jwks'),
    ...pick('jwks_uri'),
    ...(policy.minLevel ? { min_level: policy.minLevel } : {}),
    ...(policy.apiResource ? { api_resource: policy.apiResource } : {}),
    ...pick('representation'),
    ...pick('require_signed_request_object'),
    ...Object.assign({}, ...ENCRYPTION_FIELDS.map(pick)),
    security_profile: policy.securityProfile,
    ...(policy.securityProfileReason ? { security_profile_reason: policy.securityProfileReason } : {}),
  };
}

/** oidc-provider client metadata for a validated registration (without the secret). */
export function toProviderMetadata(clientId: string, c: ClientInput): Record<string, unknown> {
  const interactive = c.grant_types.includes('authorization_code');
  const meta: Record<string, unknown> = {
    client_id: clientId,
    client_name: c.name,
    // Only when native: a web client's metadata stays as it was (oidc-provider's default is web).
    ...(c.application_type === 'native' ? { application_type: 'native' } : {}),
    grant_types: c.grant_types,
    response_types: interactive ? ['code'] : [],
    redirect_uris: c.redirect_uris,
    post_logout_redirect_uris: c.post_logout_redirect_uris,
    token_endpoint_auth_method: c.token_endpoint_auth_method,
    scope: c.scope,
    subject_type: c.subject_type,
  };
  if (c.sector_identifier_uri) meta.sector_identifier_uri = c.sector_identifier_uri;
  if (c.backchannel_logout_uri) {
    meta.backchannel_logout_uri = c.backchannel_logout_uri;
    meta.backchannel_logout_session_required = true;
  }
  if (c.id_token_signed_response_alg) meta.id_token_signed_response_alg = c.id_token_signed_response_alg;
  if (c.jwks) meta.jwks = c.jwks;
  if (c.jwks_uri) meta.jwks_uri = c.jwks_uri;
  if (c.backchannel_token_delivery_mode) meta.backchannel_token_delivery_mode = c.backchannel_token_delivery_mode;
  if (c.backchannel_client_notification_endpoint) meta.backchannel_client_notification_endpoint = c.backchannel_client_notification_endpoint;
  if (c.representation) {
    meta.representation = c.representation;
    // RFC 9396: the one detail type such a service may send (oidc-provider checks it).
    meta.authorization_details_types = [RAR_TYPE];
  }
  return { ...meta, ...profileMetadata(c, interactive), ...encryptionMetadata(c) };
}
