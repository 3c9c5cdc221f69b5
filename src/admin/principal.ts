// Who is calling the admin API, from the bearer token:
//   - an operator: a JWT access token nixa issued for the admin API (the console
//     asks for it with resource=<issuer>/admin/api), at level high; their roles
//     are read from the database on every call, so a revoked role takes effect at once;
//   - a machine: an opaque client_credentials token whose scopes name admin
//     permissions (admin:keys:read, …), for an operator's automation.
import { createLocalJWKSet, jwtVerify } from 'jose';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';

import { accountIsEnabled } from '../accounts/index.js';
import { acrFor, levelOfAcr } from '../assurance/index.js';
import { ForbiddenError, UnauthenticatedError } from '../errors/index.js';
import type { KeyRing } from '../keys/index.js';
import type { Queryable } from '../storage/index.js';
import { rolesOf } from './repository.js';
import type { Principal } from './roles.js';

/**
 * The console: the one service whose tokens for the admin API are accepted from
 * operators. nixa registers it itself at every start (src/console), and the admin
 * API refuses to change it, so nobody can point its redirect URIs elsewhere.
 */
export const CONSOLE_CLIENT_ID = 'nixa-console';

/** The admin API as a resource (RFC 8707): the audience of operators' access tokens. */
export const adminResource = (issuer: string) => `${issuer}/admin/api`;

export interface PrincipalDeps {
  db: Queryable;
  keyring: KeyRing;
  issuer: string;
  clockToleranceSeconds: number;
  provider: () => Provider;
}

const REALM = 'realm="nixa admin"';
const invalidToken = (why: string) => new UnauthenticatedError(why, `Bearer ${REALM}, error="invalid_token", error_description="${why}"`);

export async function principalOf(deps: PrincipalDeps, ctx: Context): Promise<Principal> {
  const token = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(ctx.get('Authorization'))?.[1];
  if (!token) throw new UnauthenticatedError('a bearer token is required', `Bearer ${REALM}`);
  return token.split('.').length === 3 ? operator(deps, token) : machine(deps, token);
}

async function operator(deps: PrincipalDeps, token: string): Promise<Principal> {
  let payload;
  try {
    ({ payload } = await jwtVerify(token, createLocalJWKSet(deps.keyring.snapshot.publicJwks as never), {
      issuer: deps.issuer,
      audience: adminResource(deps.issuer),
      typ: 'at+jwt',
      clockTolerance: deps.clockToleranceSeconds,
    }));
  } catch (err) {
    throw invalidToken(`the access token is not valid for the admin API (${(err as Error).message})`);
  }
  // Operators act on keys, citizens' accounts and the trail: only a passkey-strength sign-in will do.
  if (levelOfAcr(String(payload.acr ?? '')) !== 'high') {
    throw new UnauthenticatedError(
      'the admin API needs a sign-in at assurance level high',
      `Bearer ${REALM}, error="insufficient_user_authentication", error_description="sign in at level high", acr_values="${acrFor('high')}"`,
    );
  }
  if (payload.client_id !== CONSOLE_CLIENT_ID) throw invalidToken('operators call the admin API through the console');
  const accountId = String(payload.sub ?? '');
  // A suspended operator's token cannot be recalled (it is a JWT): refuse it here, at once.
  if (!(await accountIsEnabled(deps.db, accountId))) throw new ForbiddenError('this account is suspended');
  const roles = await rolesOf(deps.db, accountId);
  if (!roles.length) throw new ForbiddenError('this account holds no operator role');
  return { kind: 'operator', accountId, roles };
}

async function machine(deps: PrincipalDeps, token: string): Promise<Principal> {
  const provider = deps.provider();
  const found = await provider.ClientCredentials.find(token);
  if (!found || found.isExpired) throw invalidToken('the access token is unknown or expired');
  // A disabled client's tokens stop working at once (Client.find does not return it).
  const client = found.clientId ? await provider.Client.find(found.clientId) : undefined;
  if (!client) throw invalidToken('the client of this token is disabled');
  return { kind: 'machine', clientId: client.clientId, scopes: String(found.scope ?? '').split(' ').filter(Boolean) };
}
