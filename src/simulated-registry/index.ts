// The simulated business registry for development, the `npm start` demo and
// tests: a real HTTP service on its own port that speaks the registry contract
// (src/registries/contract.ts). Its token endpoint is an OpenID provider
// (oidc-provider, client_credentials only) at the issuer; its API is at
// `${issuer}/api` (POST /api/v1/representations), which is also the audience of
// its access tokens. Its records are the seeded enterprises (seed.ts); tests and
// demos change them, and make the registry misbehave, in code or at /__sim/*.

import type { JWK } from 'jose';
import { pino } from 'pino';

import { InvalidInputError } from '../errors/index.js';
import type { OrganisationStatus } from '../registries/contract.js';
import { createSigningKey, listenSimulated, MemoryStore, SIGNING_ALG } from '../simulated-sources/index.js';
import { API_BASE_PATH } from './api.js';
import { assembleRegistryApp } from './app.js';
import { RegistryMisbehaviourState, type RegistryMisbehaviour } from './misbehaviour.js';
import { ACCESS_TOKEN_TTL_SECONDS, buildRegistryProvider, checkClients, registerClients, type SimulatedRegistryClient } from './provider.js';
import { RegistryRecords, vietnamDate } from './records.js';

export { SEEDED_ENTERPRISES, type SeededEnterprise, type SeededMandate } from './seed.js';
export { ACCESS_TOKEN_TTL_SECONDS, vietnamDate };
export type { RegistryMisbehaviour, SimulatedRegistryClient };

export interface SimulatedRegistryOptions {
  /** 0/undefined = a free port. */
  port?: number;
  /** Interface to listen on, default 127.0.0.1. */
  host?: string;
  /** Hostname used in the issuer URL, default 'localhost'. */
  issuerHost?: string;
  clients: SimulatedRegistryClient[];
  logger?: import('pino').Logger;
  /** The registry's "today" for mandates and checked_at (default: the clock). Tokens' lifetimes follow the real clock. */
  now?: () => Date;
  /**
   * The private JWK its token endpoint signs with (default: a fresh one per start).
   * For tests that mint tokens the registry must refuse (expired, other audience, no scope).
   */
  signingKey?: JWK;
}

export interface SimulatedRegistry {
  /** The token endpoint's issuer, e.g. http://localhost:4004 (discovery under it). */
  issuer: string;
  /** The API URL (contract's api_url and the tokens' audience), e.g. http://localhost:4004/api. */
  apiUrl: string;
  /** The address actually listened on, e.g. http://127.0.0.1:4004. */
  url: string;
  misbehave(m: RegistryMisbehaviour): void;
  /** The enterprise's legal representative withdraws the mandate(s) it gave this person. Throws if there is none. */
  withdrawMandate(nationalId: string, enterpriseCode: string): void;
  setStatus(enterpriseCode: string, status: OrganisationStatus): void;
  /** The seeded records again, normal behaviour, and requests() back to 0. */
  reset(): void;
  /** Calls to POST /api/v1/representations since start (or reset), whatever their answer. */
  requests(): number;
  close(): Promise<void>;
}

const silent = pino({ level: 'silent' });

export async function startSimulatedRegistry(o: SimulatedRegistryOptions): Promise<SimulatedRegistry> {
  checkClients(o.clients);
  const logger = (o.logger ?? silent).child({ component: 'simulated-registry' });
  const state = new RegistryMisbehaviourState(logger);
  const records = new RegistryRecords();
  const store = new MemoryStore();
  const signingKey = o.signingKey ?? (await createSigningKey());
  if (signingKey.kty !== 'RSA' || typeof signingKey.d !== 'string' || !signingKey.kid) {
    throw new InvalidInputError('signingKey', `a private RSA JWK with a kid (tokens are signed ${SIGNING_ALG})`);
  }
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicKey } = signingKey;
  let count = 0;
  const reset = () => {
    records.reset();
    state.set({ mode: 'normal' });
    count = 0;
  };

  const { server, issuer, url, close } = await listenSimulated(o, () => {
    store.clear();
    logger.info('simulated registry stopped');
  });
  const apiUrl = `${issuer}${API_BASE_PATH}`;

  try {
    registerClients(store, o.clients);
    const provider = buildRegistryProvider({ issuer, apiUrl, signingKey, store, logger });
    assembleRegistryApp({
      provider,
      state,
      records,
      logger,
      issuer,
      apiUrl,
      publicKeys: [publicKey],
      now: o.now ?? (() => new Date()),
      onApiRequest: () => void (count += 1),
      reset,
    });
    // A bad registration stops start-up instead of failing the first token request.
    for (const [i, c] of o.clients.entries()) {
      await provider.Client.find(c.client_id).catch((err: Error & { error_description?: string; cause?: { message?: string } }) => {
        const why = [err.error_description ?? err.message, err.cause?.message].filter(Boolean).join(': ');
        throw new InvalidInputError(`clients[${i}]`, `${c.client_id}: ${why}`);
      });
    }
    server.on('request', provider.callback());
  } catch (err) {
    await close();
    throw err;
  }
  logger.info({ issuer, apiUrl, url, clients: o.clients.map((c) => c.client_id) }, 'simulated registry listening');

  return {
    issuer,
    apiUrl,
    url,
    misbehave: (m) => void state.set(m),
    withdrawMandate: (nationalId, enterpriseCode) => records.withdrawMandate(nationalId, enterpriseCode),
    setStatus: (enterpriseCode, status) => records.setStatus(enterpriseCode, status),
    reset,
    requests: () => count,
    close,
  };
}
