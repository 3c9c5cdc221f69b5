// The demo public service registered in development so that `npm start` has a
// relying party to sign in to: a FAPI 2.0 service (PAR, DPoP, private_key_jwt), as a
// public service handling records is. Its private key is kept in the data directory
// (owner-only); nixa holds only the public half.
// Beside it, a demo kiosk: a public client of the device grant (RFC 8628) to try with curl.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';

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
  /** The demo's private key (ES256 JWK, with its kid) for private_key_jwt. */
  privateJwk: JWK;
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
  const file = join(config.dataDir, 'demo-service.json');
  // The key from an earlier start, or a new one (also for a data directory from before
  // the demo was a FAPI 2.0 service, which kept a secret there).
  const saved = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<DemoCredentials>) : undefined;
  const privateJwk = saved?.privateJwk ?? (await newDemoKey());
  const creds: DemoCredentials = {
    clientId: DEMO_CLIENT_ID,
    privateJwk,
    redirectUri: `${origin}/callback`,
    postLogoutRedirectUri: `${origin}/`,
    origin,
    apiResource: demoApi(origin),
  };
  const { d: _private, ...publicJwk } = privateJwk;
  const registration = {
    api_resource: demoApi(origin),
    backchannel_logout_uri: demoBackchannel(origin),
    scope: DEMO_SCOPE,
    representation: DEMO_REPRESENTATION,
    // FAPI 2.0, so that a newcomer sees the profile a service at high uses working:
    // pushed requests, DPoP-bound tokens, and its key instead of a secret.
    security_profile: 'fapi2',
    token_endpoint_auth_method: 'private_key_jwt',
    jwks: { keys: [publicJwk] },
  };
  try {
    await showClient(db, DEMO_CLIENT_ID);
    // Registered before the demo had an API, a back-channel logout URI, representation or
    // its key (or for another port): register them now. A change of nothing writes nothing.
    await updateClient(db, DEMO_CLIENT_ID, registration, 'system:demo', clientsOptions(config));
    saveKey(file, creds);
    return creds;
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
  }
  await addClient(
    db,
    {
      client_id: DEMO_CLIENT_ID,
      name: 'Dịch vụ công mẫu (Demo public service)',
      redirect_uris: [`${origin}/callback`],
      post_logout_redirect_uris: [`${origin}/`],
      grant_types: ['authorization_code', 'refresh_token'],
      ...registration,
      // nixa tells the demo when the citizen's nixa session ends (OpenID Connect Back-Channel
      // Logout 1.0); nixa registers it with backchannel_logout_session_required: true.
    },
    'system:demo',
    clientsOptions(config),
  );
  saveKey(file, creds);
  logger.info({ clientId: DEMO_CLIENT_ID, origin }, 'demo service registered');
  return creds;
}

/** Owner-only, also when an older file (a secret, from before) was there with other permissions. */
function saveKey(file: string, creds: DemoCredentials): void {
  writeFileSync(file, JSON.stringify(creds, null, 2), { mode: 0o600 });
  chmodSync(file, 0o600);
}

/** The demo's client-authentication key: ES256, its kid the RFC 7638 thumbprint. */
async function newDemoKey(): Promise<JWK> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = await calculateJwkThumbprint(await exportJWK(publicKey));
  return { ...(await exportJWK(privateKey)), kid, alg: 'ES256', use: 'sig' };
}
