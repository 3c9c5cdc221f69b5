// The console as a relying party of nixa, registered (or brought up to date) at
// every start, in production too. Its secret is derived from the master key, so
// every instance knows it without storing it; the clients table holds only its
// hash, as for any client, and it is set again when the master key changed.
import { adminResource, CONSOLE_CLIENT_ID } from '../admin/index.js';
import { clientsOptions, ensureClient } from '../clients/index.js';
import type { Config } from '../config/index.js';
import type { Cipher } from '../keys/index.js';
import type { Logger } from '../logging/index.js';
import type { Database } from '../storage/index.js';

export { CONSOLE_CLIENT_ID };
export const CONSOLE_PATH = '/console';

export interface ConsoleClient {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  postLogoutRedirectUri: string;
  /** The admin API as a resource indicator: the audience of the operator's access token. */
  apiResource: string;
}

export function consoleClient(config: Config, cipher: Cipher): ConsoleClient {
  return {
    clientId: CONSOLE_CLIENT_ID,
    clientSecret: cipher.derive('console-client-secret').toString('base64url'),
    redirectUri: `${config.issuer}${CONSOLE_PATH}/callback`,
    postLogoutRedirectUri: `${config.issuer}${CONSOLE_PATH}/`,
    apiResource: adminResource(config.issuer),
  };
}

export async function registerConsoleClient(db: Database, config: Config, cipher: Cipher, logger: Logger): Promise<ConsoleClient> {
  const c = consoleClient(config, cipher);
  const done = await ensureClient(
    db,
    {
      client_id: c.clientId,
      name: 'Bảng điều khiển nixa (nixa console)',
      redirect_uris: [c.redirectUri],
      post_logout_redirect_uris: [c.postLogoutRedirectUri],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'openid profile',
      // The roles are stored under the account id: the console must see that id as `sub`.
      subject_type: 'public',
      // Operators act on keys, accounts and the trail: every sign-in to the console reaches high.
      min_level: 'high',
      api_resource: c.apiResource,
      // A service at high is fapi2 by default. The console is nixa's own code, in nixa's
      // process: its secret is derived from the master key and its requests never leave
      // the host, so PAR and DPoP would protect nothing a network could reach. Recorded
      // as the reason, in the registration and the audit trail.
      security_profile: 'standard',
      security_profile_reason: 'nixa’s own console runs inside nixa: its secret, derived from the master key, and its requests never leave the host',
    },
    c.clientSecret,
    'system:console',
    clientsOptions(config),
    'nixa registers its own admin console at start-up',
  );
  if (done.added || done.updated.length || done.secretSet) logger.info({ clientId: c.clientId, ...done }, 'console registered');
  if (done.disabled) logger.warn({ clientId: c.clientId }, 'the console client is disabled: operators cannot sign in to the console');
  return c;
}
