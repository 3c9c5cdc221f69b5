// Acting for an organisation, in the protocol: what a token says and when it stops.
//
// The organisation a person chose (interactions/representation.ts) is granted as a
// Rich Authorization Request detail (RFC 9396) of type nixa_representation, whether
// the service asked by RAR or by the `representation` scope. oidc-provider carries
// the grant's details onto the code, the refresh token and each access token; nixa
// reads them back for the `organisation` claim (ID token, userinfo) and for the
// token response's authorization_details. One detail, one organisation per token.
//
// At every refresh the registry is asked again (before the refresh token rotates,
// so a registry that does not answer costs the service nothing but a retry): a
// mandate withdrawn, a company dissolved or suspended ends the grant (invalid_grant).
import { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';

import { accountClaims, type AccountsContext } from '../accounts/index.js';
import { appendAudit } from '../audit/index.js';
import { todayInVietnam } from '../pages/index.js';
import type { Logger } from '../logging/index.js';
import type { OrganisationRegistries } from '../registries/contract.js';
import { RegistryUnavailableError } from '../registries/errors.js';
import { acceptsOrganisations, isGrantedDetail, organisationClaim, RAR_TYPE, rarRequestSchema, representationAcceptsSchema, stillHolds, type GrantedDetail, type OrganisationClaim } from '../representation/policy.js';
import type { Database } from '../storage/index.js';

type RarFeature = import('oidc-provider').RichAuthorizationRequestsActiveConfiguration & { authorizationDetailsForIntrospection: (ctx: KoaContextWithOIDC, token: object) => unknown };

/** The details re-checked in this token request, for the access token it issues. */
const rechecked = new WeakMap<object, GrantedDetail[]>();

// Through JSON: oidc-provider checks details with an isPlainObject that refuses objects of another realm (jest's vm).
const plain = (x: readonly object[]): Array<{ type: string; [k: string]: unknown }> => JSON.parse(JSON.stringify(x)) as Array<{ type: string; [k: string]: unknown }>;

/** The client's registered `representation` (clients/schema.ts validated it). */
export const acceptsOf = (client: unknown): string[] => {
  const r = (client as { representation?: unknown } | undefined)?.representation;
  return Array.isArray(r) ? (r as string[]) : [];
};

/** nixa's `representation` client metadata for oidc-provider's extraClientMetadata validator. */
export function validateRepresentationMetadata(value: unknown): void {
  if (value === undefined) return;
  const parsed = representationAcceptsSchema.safeParse(value);
  if (!parsed.success) throw new errors.InvalidClientMetadata(`representation: ${parsed.error.issues[0]!.message}`);
}

/** The granted details of the token or code this request works from (or issued). */
function grantedOf(ctx: KoaContextWithOIDC | undefined): GrantedDetail[] {
  if (!ctx?.oidc) return [];
  const e = ctx.oidc.entities as Record<string, { rar?: unknown[] } | undefined>;
  const fresh = rechecked.get(ctx);
  if (fresh) return fresh;
  const source = e.AccessToken ?? e.AuthorizationCode ?? e.RefreshToken;
  return (source?.rar ?? []).filter(isGrantedDetail);
}

/** The `organisation` claim of this request's token, if the person acts for one. */
export function organisationOf(ctx: KoaContextWithOIDC | undefined): OrganisationClaim | undefined {
  return grantedOf(ctx)[0]?.organisation;
}

export function richAuthorizationRequests(): RarFeature {
  return {
    enabled: true,
    types: {
      [RAR_TYPE]: {
        validate(_ctx, detail, client) {
          // A precise mandate is about organisations: a service taking only parents or helpers has none to ask.
          if (!acceptsOrganisations(acceptsOf(client))) throw new errors.InvalidAuthorizationDetails(`this service is not registered to accept ${RAR_TYPE}`);
          const parsed = rarRequestSchema.safeParse(detail);
          if (!parsed.success) {
            const issue = parsed.error.issues[0]!;
            throw new errors.InvalidAuthorizationDetails(`${RAR_TYPE}: ${issue.path.join('.') || 'detail'}: ${issue.message}`);
          }
        },
      },
    },
    // What the code keeps: what the person chose (the grant's), never the request's as asked.
    authorizationDetailsForGrantSource: (ctx) => plain((ctx.oidc.grant?.rar ?? []).filter(isGrantedDetail)),
    authorizationDetailsForAccessToken: (ctx, _token, source) => plain(rechecked.get(ctx) ?? ((source as { rar?: unknown[] } | undefined)?.rar ?? []).filter(isGrantedDetail)),
    authorizationDetailsForIntrospection: (_ctx, token) => plain(((token as { rar?: unknown[] }).rar ?? []).filter(isGrantedDetail)),
  };
}

export interface RecheckDeps {
  db: Database;
  accounts: AccountsContext;
  registries: OrganisationRegistries | undefined;
  logger: Logger;
}


/**
 * oidc-provider's rotateRefreshToken, used as the one hook that runs at a refresh
 * after the token is checked and before it is spent: asks the registry again for
 * each organisation the token acts for. Always rotates.
 */
export function recheckAtRefresh(deps: RecheckDeps) {
  return async function rotateRefreshToken(ctx: KoaContextWithOIDC): Promise<boolean> {
    const rt = ctx.oidc.entities.RefreshToken as { rar?: unknown[]; accountId: string; grantId?: string } | undefined;
    const granted = (rt?.rar ?? []).filter(isGrantedDetail);
    if (!rt || !granted.length) return true;
    const client = ctx.oidc.client!;
    const nationalId = (await accountClaims(deps.accounts, rt.accountId)).national_id;
    const fresh: GrantedDetail[] = [];
    for (const d of granted) {
      let ended: string | undefined;
      let organisation: OrganisationClaim | undefined;
      if (typeof nationalId !== 'string') {
        ended = 'withdrawn'; // an account that lost its number cannot be anyone's representative
      } else if (!deps.registries) {
        throw unavailable();
      } else {
        try {
          const answer = await deps.registries.recheck(d.organisation.registry, nationalId, d.identifier);
          const now = answer.organisations.find((o) => o.enterprise_code === d.identifier);
          ended = stillHolds(d, now, acceptsOf(client), todayInVietnam());
          if (!ended && now) organisation = organisationClaim({ registry: answer.registry, checkedAt: answer.checkedAt, organisation: now }, acceptsOf(client));
        } catch (err) {
          if (!(err instanceof RegistryUnavailableError)) throw err;
          deps.logger.warn({ reason: err.reason, client: client.clientId }, 'organisation registry unavailable at refresh');
          throw unavailable();
        }
      }
      if (ended) {
        // The grant goes, and every token of it with it (a token's every use loads its
        // grant): the person may no longer act for this organisation here.
        await (ctx.oidc.entities.Grant as { destroy(): Promise<void> } | undefined)?.destroy();
        await deps.db.transaction((tx) =>
          appendAudit(tx, {
            event: 'REPRESENTATION_ENDED',
            actor: `client:${client.clientId}`,
            subject: rt.accountId,
            details: { client: client.clientId, enterprise: d.identifier, reason: ended },
          }),
        );
        throw new errors.InvalidGrant(`the person may no longer act for organisation ${d.identifier} (${ended})`);
      }
      fresh.push({ ...d, organisation: organisation! });
    }
    rechecked.set(ctx, fresh);
    return true;
  };
}

function unavailable(): Error {
  const err = new errors.TemporarilyUnavailable('the organisation registry is not answering; try the refresh again later');
  // Not the service's fault and not the end of the grant: 503, and the refresh token stays valid.
  Object.assign(err, { status: 503, statusCode: 503 });
  return err;
}
