// Where protocol state that lives minutes is kept, apart from what must survive.
//
// A sign-in writes interactions, a code, an access token, an upstream login and
// replay records, each read back once or twice and dead within minutes; only the
// session, the grant and a refresh token outlive it. Written durably, each of
// those was its own commit waiting for the WAL to reach disk. Now they go to:
//   postgres  UNLOGGED tables of nixa's database (short_lived_payloads,
//             upstream_logins): no WAL, no flush at commit; the default, and the
//             only choice on the embedded database;
//   redis     a Redis (or Valkey) shared by every instance: no SQL at all.
// Losing this state (a database crash, a Redis restart) restarts the sign-ins in
// flight and sends services to their refresh tokens; nothing durable is in it.
import type { Adapter } from 'oidc-provider';

import type { ClientStore } from '../clients/index.js';
import type { Config } from '../config/index.js';
import { postgresUpstreamLogins, redisUpstreamLogins, type UpstreamLogins } from '../federation/index.js';
import type { Logger } from '../logging/index.js';
import type { Database, Queryable } from '../storage/index.js';
import { openRedis, type RedisStore } from '../storage/redis.js';
import { PostgresAdapter, revokeGrant } from './adapter.js';
import { RedisAdapter, revokeRedisGrant } from './redis-adapter.js';

/**
 * oidc-provider's models that live minutes. Session, Grant and RefreshToken stay
 * durable in oidc_payloads; Client comes from the clients table.
 */
export const SHORT_LIVED_MODELS: ReadonlySet<string> = new Set([
  'Interaction',
  'AuthorizationCode',
  'AccessToken',
  'ClientCredentials',
  'PushedAuthorizationRequest',
  'ReplayDetection',
  'BackchannelAuthenticationRequest',
  'DeviceCode',
]);

export interface ShortLivedState {
  readonly kind: Config['shortLived']['kind'];
  /** The adapter for one of SHORT_LIVED_MODELS; `db` is the provider's handle (errors already translated). */
  adapter(model: string, db: Queryable, clients: ClientStore): Adapter;
  readonly upstreamLogins: UpstreamLogins;
  /** 'ok', or what is wrong (for /readyz). */
  health(): Promise<string>;
  close(): Promise<void>;
}

export async function openShortLivedState(config: Pick<Config, 'shortLived' | 'redisPrefix'>, db: Database, logger: Logger): Promise<ShortLivedState> {
  if (config.shortLived.kind === 'redis') return redisState(await openRedis(config.shortLived.url, config.redisPrefix, logger));
  return {
    kind: 'postgres',
    adapter: (model, pdb, clients) => new PostgresAdapter(model, pdb, clients, 'short_lived_payloads'),
    upstreamLogins: postgresUpstreamLogins(db),
    // The database check covers its tables.
    health: async () => 'ok',
    close: async () => {},
  };
}

function redisState(redis: RedisStore): ShortLivedState {
  const revoke = async (db: Queryable, grantId: string) => {
    // The durable grant first: once it is gone, nothing issued under it is honoured.
    await revokeGrant(db, grantId);
    await revokeRedisGrant(redis, grantId);
  };
  return {
    kind: 'redis',
    adapter: (model, db) => new RedisAdapter(model, redis, (grantId) => revoke(db, grantId)),
    upstreamLogins: redisUpstreamLogins(redis),
    health: () => redis.health(),
    close: () => redis.close(),
  };
}
