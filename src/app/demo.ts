// The demo public service registered in development so that `npm start` has a
// relying party to sign in to. Its secret is kept in the data directory (owner-only).
// Beside it, a demo kiosk: a public client of the device grant (RFC 8628) to try with curl.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { addClient, CIBA_GRANT, clientsOptions, DEVICE_CODE_GRANT, rotateClientSecret, showClient, updateClient } from '../clients/index.js';
import type { Config } from '../config/index.js';
import { NotFoundError } from '../errors/index.js';
import type { Logger } from '../logging/index.js';
import type { Database } from '../storage/index.js';

export const DEMO_CLIENT_ID = 'demo-service';
export const DEMO_KIOSK_CLIENT_ID = 'demo-kiosk';
export const DEMO_COUNTER_CLIENT_ID = 'demo-counter';
export const DEMO_PORT_OFFSET = 100;

const DEMO_SCOPE = 'openid offline_access profile phone address national_id representation';
/** The demo accepts a company's legal representative and anyone it mandated, for any task. */
// A public service a parent uses for a child, or a grandchild for a grandparent, as well as a company's people.
const DEMO_REPRESENTATION = ['legal_representative', 'mandate:*', 'guardian', 'helper'];

export interface DemoCredentials {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  postLogoutRedirectUri: string;
  origin: string;
  /** The demo's own API (its /records data), registered as its api_resource. */
  apiResource: string;
}

/** The demo's API: under its own origin, so that the page's server calls it like any other API. */
const demoApi = (origin: string) => `${origin}/api`;

/** Where nixa posts a logout token when the citizen's nixa session ends. */
const demoBackchannel = (origin: string) => `${origin}/backchannel-logout`;

export function demoOrigin(config: Config): string {
  return `http://localhost:${config.port + DEMO_PORT_OFFSET}`;
}

/**
 * Registers the demo kiosk once: a public client (no secret, as a kiosk anyone can
 * open cannot keep one) whose only grant is the device grant (README: Signing in on a kiosk).
 */
async function seedDemoKiosk(db: Database, config: Config, logger: Logger): Promise<void> {
  try {
    await showClient(db, DEMO_KIOSK_CLIENT_ID);
    return;
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
  }
  await addClient(
    db,
    {
      client_id: DEMO_KIOSK_CLIENT_ID,
      name: 'Ki-ốt dịch vụ công mẫu (Demo public-service kiosk)',
      grant_types: [DEVICE_CODE_GRANT],
      token_endpoint_auth_method: 'none',
      scope: 'openid profile',
      // A device client can be pairwise only with a jwks_uri (clients/schema.ts): the demo kiosk has no keys.
      subject_type: 'public',
    },
    'system:demo',
    clientsOptions(config),
  );
  logger.info({ clientId: DEMO_KIOSK_CLIENT_ID }, 'demo kiosk registered');
}

/**
 * A demo post-office counter: a CIBA client (poll mode) to try with curl. CIBA
 * names citizens, so it authenticates; its secret is kept, like the demo
 * service's, in the data directory (demo-counter.json, owner-only).
 */
async function seedDemoCounter(db: Database, config: Config, logger: Logger): Promise<void> {
  const file = join(config.dataDir, 'demo-counter.json');
  const save = (secret: string) =>
    writeFileSync(file, JSON.stringify({ clientId: DEMO_COUNTER_CLIENT_ID, clientSecret: secret, tokenEndpoint: `${config.issuer}/token` }, null, 2), { mode: 0o600 });
  try {
    await showClient(db, DEMO_COUNTER_CLIENT_ID);
    if (!existsSync(file)) save((await rotateClientSecret(db, DEMO_COUNTER_CLIENT_ID, 'system:demo')).secret);
    return;
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
  }
  const { secret } = await addClient(
    db,
    {
      client_id: DEMO_COUNTER_CLIENT_ID,
      name: 'Bưu điện mẫu — quầy 1 (Demo post-office counter)',
      grant_types: [CIBA_GRANT],
      backchannel_token_delivery_mode: 'poll',
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'openid profile',
      // A CIBA client can be pairwise only with a jwks_uri (clients/schema.ts): the demo counter has no keys.
      subject_type: 'public',
    },
    'system:demo',
    clientsOptions(config),
  );
  save(secret!);
  logger.info({ clientId: DEMO_COUNTER_CLIENT_ID }, 'demo counter registered');
}

/** Registers the demo service (and the demo kiosk and counter) once and returns the service's credentials. */
export async function seedDemo(db: Database, config: Config, logger: Logger): Promise<DemoCredentials> {
  mkdirSync(config.dataDir, { recursive: true });
  await seedDemoKiosk(db, config, logger);
  await seedDemoCounter(db, config, logger);
  const origin = demoOrigin(config);
  mkdirSync(config.dataDir, { recursive: true });
  const file = join(config.dataDir, 'demo-service.json');
  const creds = (secret: string): DemoCredentials => ({
    clientId: DEMO_CLIENT_ID,
    clientSecret: secret,
    redirectUri: `${origin}/callback`,
    postLogoutRedirectUri: `${origin}/`,
    origin,
    apiResource: demoApi(origin),
  });
  try {
    await showClient(db, DEMO_CLIENT_ID);
    // Registered before the demo had an API or a back-channel logout URI (or for another
    // port): register them now. An update that changes nothing writes nothing.
    // Or before it accepted people acting for a company (representation).
    await updateClient(
      db,
      DEMO_CLIENT_ID,
      { api_resource: demoApi(origin), backchannel_logout_uri: demoBackchannel(origin), scope: DEMO_SCOPE, representation: DEMO_REPRESENTATION },
      'system:demo',
      clientsOptions(config),
    );
    if (existsSync(file)) {
      const saved = JSON.parse(readFileSync(file, 'utf8')) as Omit<DemoCredentials, 'apiResource'>;
      return { ...saved, apiResource: demoApi(origin) };
    }
    // Registered earlier but the secret file is gone: issue a new secret.
    const { secret } = await rotateClientSecret(db, DEMO_CLIENT_ID, 'system:demo');
    writeFileSync(file, JSON.stringify(creds(secret), null, 2), { mode: 0o600 });
    return creds(secret);
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
  }
  const { secret } = await addClient(
    db,
    {
      client_id: DEMO_CLIENT_ID,
      name: 'Dịch vụ công mẫu (Demo public service)',
      redirect_uris: [`${origin}/callback`],
      post_logout_redirect_uris: [`${origin}/`],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: DEMO_SCOPE,
      representation: DEMO_REPRESENTATION,
      api_resource: demoApi(origin),
      // nixa tells the demo when the citizen's nixa session ends (OpenID Connect Back-Channel
      // Logout 1.0); nixa registers it with backchannel_logout_session_required: true.
      backchannel_logout_uri: demoBackchannel(origin),
    },
    'system:demo',
    clientsOptions(config),
  );
  writeFileSync(file, JSON.stringify(creds(secret!), null, 2), { mode: 0o600 });
  logger.info({ clientId: DEMO_CLIENT_ID, origin }, 'demo service registered');
  return creds(secret!);
}
