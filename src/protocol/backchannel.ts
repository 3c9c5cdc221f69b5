// Telling services that sessions ended (OpenID Connect Back-Channel Logout 1.0):
// one function for every path that ends an account's sessions outside the
// browser (a citizen ending them, "this wasn't me", a security officer's
// suspension), called after commit with what accounts' endAccountSessions returned.
import type Provider from 'oidc-provider';

import type { Logger } from '../logging/index.js';
import type { SessionAuthorization } from './revocation.js';

/**
 * Each service of each ended session hears of it by a back-channel logout token
 * naming the session's sid. Best effort: the sessions are gone whether or not a
 * service answers, and a failure is logged (client and error, never the token).
 * Returns how many services were told.
 */
export async function sendBackchannelLogouts(provider: Provider, logger: Logger, accountId: string, logouts: readonly SessionAuthorization[], why: string): Promise<number> {
  const unique = [...new Map(logouts.map((l) => [`${l.clientId} ${l.sid}`, l])).values()];
  const told = await Promise.all(
    unique.map(async ({ clientId, sid }) => {
      const client = (await provider.Client.find(clientId)) as
        | { backchannelLogoutUri?: string; backchannelLogout(sub: string, sid: string): Promise<void> }
        | undefined;
      if (!client?.backchannelLogoutUri) return false;
      return client.backchannelLogout(accountId, sid).then(
        () => true,
        (err: Error) => {
          logger.warn({ client: clientId, err: { name: err.name, message: err.message } }, `back-channel logout after ${why} failed`);
          return false;
        },
      );
    }),
  );
  return told.filter(Boolean).length;
}
