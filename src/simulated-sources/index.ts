// Simulated identity sources for development, the `npm start` demo and tests:
// the national citizen-ID system, a telecom operator and a bank, each a real
// OpenID provider (oidc-provider) on its own origin, whose accounts are the
// seeded TEST_CITIZENS and which can be told to misbehave (see misbehaviour.ts).
import { pino } from 'pino';

import { InvalidInputError } from '../errors/index.js';
import { assembleSourceApp } from './app.js';
import { TEST_CITIZENS, type TestCitizen } from './citizens.js';
import { MemoryStore } from './memory-adapter.js';
import { MisbehaviourState, type Misbehaviour } from './misbehaviour.js';
import { buildSourceProvider, droppableClaims, type SimulatedClient } from './provider.js';
import { profileFor, SOURCE_PROFILES, type ClaimValue, type SourceKind, type SourceProfile } from './profiles.js';
import { AuthorizationRequests } from './requests.js';
import { listenSimulated } from './server.js';
import { createSigningKey } from './signing-keys.js';

export { TEST_CITIZENS, SOURCE_PROFILES };
export { listenSimulated, type SimulatedServer } from './server.js';
export { BANK_RECORD_OVERRIDES } from './bank.js';
export { ONLY_AT_TELECOM } from './citizens.js';
export { childrenOf, FAMILIES, type MinorChild } from './families.js';
export type { ClaimValue, Misbehaviour, SimulatedClient, SourceKind, SourceProfile, TestCitizen };
// For the simulated business registry (src/simulated-registry), which is built the same way.
export { MemoryStore, memoryAdapter } from './memory-adapter.js';
export { createSigningKey, SIGNING_ALG } from './signing-keys.js';
export { isLoopback, MAX_DELAY_MS } from './misbehaviour.js';

export interface SimulatedSourceOptions {
  kind: SourceKind;
  /** 0/undefined = a free port. */
  port?: number;
  /** Interface to listen on, default 127.0.0.1. */
  host?: string;
  /** Hostname used in the issuer URL, default 'localhost'. */
  issuerHost?: string;
  clients: SimulatedClient[];
  logger?: import('pino').Logger;
}

export interface SimulatedSource {
  kind: SourceKind;
  /** e.g. http://localhost:4001 */
  issuer: string;
  /** The address actually listened on, e.g. http://127.0.0.1:4001. */
  url: string;
  misbehave(m: Misbehaviour): void;
  /** The parameters of the authorization requests this source received, oldest first (the last 100). */
  authorizationRequests(): URLSearchParams[];
  close(): Promise<void>;
}

const silent = pino({ level: 'silent' });

export async function startSimulatedSource(o: SimulatedSourceOptions): Promise<SimulatedSource> {
  const profile = profileFor(o.kind);
  const logger = (o.logger ?? silent).child({ component: 'simulated-source', source: o.kind });
  const state = new MisbehaviourState(droppableClaims(profile), logger);
  const store = new MemoryStore();
  const signingKey = await createSigningKey();
  const requests = new AuthorizationRequests();

  const { server, issuer, url, close } = await listenSimulated(o, () => {
    store.clear();
    logger.info('simulated source stopped');
  });

  try {
    const provider = buildSourceProvider({ issuer, profile, clients: o.clients, signingKey, state, store, logger });
    assembleSourceApp({ provider, clients: o.clients, profile, state, logger, requests });
    // oidc-provider validates static clients when they are first used; do it now so
    // a bad registration stops start-up instead of failing the first sign-in.
    for (const [i, c] of o.clients.entries()) {
      await provider.Client.find(c.client_id).catch((err: Error & { error_description?: string }) => {
        throw new InvalidInputError(`clients[${i}]`, `${c.client_id}: ${err.error_description ?? err.message}`);
      });
    }
    server.on('request', provider.callback());
  } catch (err) {
    await close();
    throw err;
  }
  logger.info({ issuer, url, clients: o.clients.map((c) => c.client_id) }, 'simulated source listening');

  return {
    kind: profile.kind,
    issuer,
    url,
    misbehave: (m) => void state.set(m),
    authorizationRequests: () => requests.list(),
    close,
  };
}

/** The seeded citizens a source of this kind knows (the picker lists exactly these). */
export function citizensKnownTo(kind: SourceKind): TestCitizen[] {
  const profile = profileFor(kind);
  return TEST_CITIZENS.filter((c) => profile.knows(c));
}

/**
 * The claims a source of this kind asserts about a seeded citizen (with its own
 * claim names and its own record, e.g. the bank's birthdate override), or
 * undefined when that source does not know them. For tests of nixa's mapping.
 */
export function sourceClaims(kind: SourceKind, citizenKey: string): Record<string, ClaimValue> | undefined {
  const profile = profileFor(kind);
  const citizen = TEST_CITIZENS.find((c) => c.key === citizenKey);
  return citizen && profile.knows(citizen) ? profile.claims(citizen) : undefined;
}
