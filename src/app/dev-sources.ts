// The three simulated identity sources as nixa registers them in development and
// tests: how each one's claims map to nixa's attributes, what it is authoritative
// for and what assurance it can vouch for. Real sources are registered the same
// way with `nixa sources add`.
import { randomBytes } from 'node:crypto';

import type { Config } from '../config/index.js';
import { SIGNED_OUT_PATH } from '../federation/index.js';
import { CALLBACK_PATH } from '../interactions/index.js';
import type { Logger } from '../logging/index.js';
import { addRegistry, getRegistry, registriesOptions } from '../registries/index.js';
import { startSimulatedRegistry, type SimulatedRegistry } from '../simulated-registry/index.js';
import { SOURCE_PROFILES, startSimulatedSource, type SimulatedSource, type SourceKind } from '../simulated-sources/index.js';
import { addSource, DEMO_SOURCE_LOGOS, getSource, sourcesOptions, updateSource } from '../sources/index.js';
import { InvalidInputError, NotFoundError } from '../errors/index.js';
import type { Cipher } from '../keys/index.js';
import type { Database } from '../storage/index.js';

export const SIMULATED_SOURCE_IDS: Record<SourceKind, string> = { citizen_id: 'sim-citizen-id', telecom: 'sim-telecom', bank: 'sim-bank' };

/** nixa's registration of a simulated source: what an operator would put in `nixa sources add`. */
export function simulatedSourceRegistration(kind: SourceKind, issuer: string, clientSecret: string): Record<string, unknown> {
  const profile = SOURCE_PROFILES[kind];
  const common = {
    id: SIMULATED_SOURCE_IDS[kind],
    kind,
    // The profiles' English names already say "simulated".
    name_vi: `${profile.name.vi} (mô phỏng)`,
    name_en: profile.name.en,
    logo: DEMO_SOURCE_LOGOS[kind],
    discovery_url: `${issuer}/.well-known/openid-configuration`,
    client_id: 'nixa',
    auth_method: 'client_secret_basic',
    client_secret: clientSecret,
    timeout_ms: 5000,
    // The simulated sources share nixa's site (localhost), so their session cookie rides a POST from nixa's page.
    logout: 'post',
  };
  switch (kind) {
    case 'citizen_id':
      return {
        ...common,
        scopes: ['openid', 'cccd'],
        claim_mapping: {
          national_id: 'so_dinh_danh',
          full_name: 'ho_va_ten',
          birthdate: 'ngay_sinh',
          gender: { claim: 'gioi_tinh', values: { nam: 'male', nu: 'female' } },
          place_of_origin: 'que_quan',
          permanent_address: 'noi_thuong_tru',
        },
        authoritative_for: ['national_id', 'full_name', 'birthdate', 'gender', 'place_of_origin', 'permanent_address'],
        proofing_level: 'high',
        acr_levels: { 'urn:vn:dancu:loa:high': 'high' },
        max_auth_level: 'high',
        // The population register says whose minor children are whose (simulated-sources/families.ts).
        wards_claim: 'con_chua_thanh_nien',
      };
    case 'telecom':
      return {
        ...common,
        scopes: ['openid', 'phone'],
        claim_mapping: { national_id: 'subscriber_id_number', phone_number: 'phone_number' },
        authoritative_for: ['national_id', 'phone_number'],
        proofing_level: 'low',
        auth_level: 'low',
        max_auth_level: 'low',
      };
    case 'bank':
      return {
        ...common,
        scopes: ['openid', 'kyc'],
        claim_mapping: { national_id: 'id_number', full_name: 'name', birthdate: 'birthdate' },
        authoritative_for: ['national_id', 'full_name', 'birthdate'],
        proofing_level: 'substantial',
        acr_levels: { 'urn:vn:bank:loa:substantial': 'substantial' },
        max_auth_level: 'substantial',
      };
  }
}

/**
 * Starts the three simulated sources on PORT+1..PORT+3 and registers them in nixa
 * once. The sources' client secret for nixa is kept (encrypted) in nixa's own
 * registration, so a restart starts them with the same one.
 */
export async function startSimulatedSources(db: Database, cipher: Cipher, config: Config, logger: Logger): Promise<SimulatedSource[]> {
  const kinds: SourceKind[] = ['citizen_id', 'telecom', 'bank'];
  const started: SimulatedSource[] = [];
  try {
    for (const [i, kind] of kinds.entries()) {
      const port = config.port + 1 + i;
      const issuer = `http://localhost:${port}`;
      let secret: string;
      try {
        const registered = await getSource(db, cipher, SIMULATED_SOURCE_IDS[kind]);
        secret = registered.clientSecret ?? randomBytes(24).toString('base64url');
        // A demo database registered before sources could vouch for children (migration
        // 0021) gets the claim, so `npm start` on an old data directory shows families;
        // a registration the developer changed so that it no longer fits keeps running without.
        const wardsClaim = simulatedSourceRegistration(kind, issuer, secret).wards_claim;
        if (wardsClaim !== undefined && registered.wardsClaim === undefined) {
          await updateSource(db, cipher, registered.id, { wards_claim: wardsClaim }, 'system:demo', { ...sourcesOptions(config), reason: 'demo: the citizen-ID source vouches for minor children' }).catch(
            (err: unknown) => {
              if (!(err instanceof InvalidInputError)) throw err;
              logger.warn({ source: registered.id, field: err.field }, 'demo source left without wards_claim: its registration does not allow it');
            },
          );
        }
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
        secret = randomBytes(24).toString('base64url');
        await addSource(db, cipher, simulatedSourceRegistration(kind, issuer, secret), 'system:demo', sourcesOptions(config));
      }
      started.push(
        await startSimulatedSource({
          kind,
          port,
          host: config.host,
          clients: [
            {
              client_id: 'nixa',
              client_secret: secret,
              token_endpoint_auth_method: 'client_secret_basic',
              redirect_uris: [`${config.issuer}${CALLBACK_PATH}`],
              post_logout_redirect_uris: [`${config.issuer}${SIGNED_OUT_PATH}`],
            },
          ],
          logger,
        }),
      );
    }
    return started;
  } catch (err) {
    await Promise.all(started.map((s) => s.close()));
    throw err;
  }
}

export const SIMULATED_REGISTRY_ID = 'sim-business-registry';

/** nixa's registration of the simulated business registry: what an operator would put in `nixa registries add`. */
export function simulatedRegistryRegistration(registry: Pick<SimulatedRegistry, 'issuer' | 'apiUrl'>, clientSecret: string): Record<string, unknown> {
  return {
    id: SIMULATED_REGISTRY_ID,
    kind: 'business',
    name_vi: 'Cơ quan đăng ký kinh doanh (mô phỏng)',
    name_en: 'Business registry (simulated)',
    issuer: registry.issuer,
    api_url: registry.apiUrl,
    client_id: 'nixa',
    auth_method: 'client_secret_basic',
    client_secret: clientSecret,
    timeout_ms: 3000,
    enabled: true,
  };
}

/**
 * Starts the simulated business registry on PORT+4 and registers it in nixa once,
 * enabled (the demo's registry needs no connection test: it is started here). Its
 * client secret for nixa is kept (encrypted) in nixa's registration, like the sources'.
 */
export async function startSimulatedBusinessRegistry(db: Database, cipher: Cipher, config: Config, logger: Logger): Promise<SimulatedRegistry> {
  let secret: string | undefined;
  try {
    secret = (await getRegistry(db, cipher, SIMULATED_REGISTRY_ID)).clientSecret;
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
  }
  const clientSecret = secret ?? randomBytes(24).toString('base64url');
  const registry = await startSimulatedRegistry({ port: config.port + 4, host: config.host, clients: [{ client_id: 'nixa', client_secret: clientSecret }], logger });
  try {
    if (secret === undefined) {
      await addRegistry(db, cipher, simulatedRegistryRegistration(registry, clientSecret), 'system:demo', { ...registriesOptions(config), reason: 'demo: the simulated business registry of npm start' });
    }
    return registry;
  } catch (err) {
    await registry.close();
    throw err;
  }
}
