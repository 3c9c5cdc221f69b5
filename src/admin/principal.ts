// Who is calling the admin API, from the bearer token, a JWT access token for the
// admin API (RFC 9068) in both cases:
//   - an operator: issued to the console (resource=<issuer>/admin/api) after a
//     sign-in at level high; their roles are read from the database on every call,
//     so a revoked role takes effect at once;
//   - a machine: a client_credentials token whose scopes name admin permissions
//     (admin:keys:read, …), for an operator's automation. Not stored anywhere: its
//     signature, issuer, audience and expiry are checked, and its client is read on
//     every call, so a disabled client's token is refused at once (the revocation
//     story is in src/protocol/machine-tokens.ts).
import { createLocalJWKSet, jwtVerify } from 'jose';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';

import { accountIsEnabled } from '../accounts/index.js';
import { acrFor, levelOfAcr } from '../assurance/index.js';
import { ForbiddenError, UnauthenticatedError } from '../errors/index.js';
import type { KeyRing } from '../keys/index.js';
import type { Queryable } from '../storage/index.js';
// The file, not protocol/index.js: the admin API checks tokens without loading the protocol engine.
import { checkMachineToken, claimsOf } from '../protocol/machine-tokens.js';
import { rolesOf } from './repository.js';
import { adminResource, type Principal } from './roles.js';

/**
 * The console: the one service whose tokens for the admin API are accepted from
 * operators. nixa registers it itself at every start (src/console), and the admin
 * API refuses to change it, so nobody can point its redirect URIs elsewhere.
 */
export const CONSOLE_CLIENT_ID = 'nixa-console';

export interface PrincipalDeps {
  db: Queryable;
  keyring: KeyRing;
  issuer: string;
  clockToleranceSeconds: number;
  provider: () => Provider;
}

const REALM = 'realm="nixa admin"';
// RFC 6750 §3: error_description holds no '"' or '\\' (jose's messages quote claim names).
const invalidToken = (why: string) =>
  new UnauthenticatedError(why, `Bearer ${REALM}, error="invalid_token", error_description="${why.replace(/["\\]/g, "'")}"`);

export async function principalOf(deps: PrincipalDeps, ctx: Context): Promise<Principal> {
  const token = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(ctx.get('Authorization'))?.[1];
  if (!token) throw new UnauthenticatedError('a bearer token is required', `Bearer ${REALM}`);
  // Which checks apply, from the unverified client_id; each path verifies the whole token.
  return claimsOf(token)?.client_id === CONSOLE_CLIENT_ID ? operator(deps, token) : machine(deps, token);
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
  const checked = await checkMachineToken(token, {
    issuer: deps.issuer,
    jwks: deps.keyring.snapshot.publicJwks,
    clockToleranceSeconds: deps.clockToleranceSeconds,
    audience: adminResource(deps.issuer),
    // Client.find reads the client store (disabled clients are not returned), as every protocol request does.
    findClient: (clientId) => provider.Client.find(clientId),
  });
  if (!checked.ok) throw invalidToken(`the access token is not valid for the admin API (${checked.reason})`);
  return { kind: 'machine', clientId: checked.token.clientId, scopes: checked.token.scopes };
}
