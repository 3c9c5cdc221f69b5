// What every step of the sign-in journey needs.
import type Provider from 'oidc-provider';

import type { AccountsContext } from '../accounts/index.js';
import type { Config } from '../config/index.js';
import type { ConsentCache } from '../consent/index.js';
import type { SourceLogoutDeps, Upstream } from '../federation/index.js';
import type { KeyRing } from '../keys/index.js';
import type { Logger } from '../logging/index.js';
import type { Metrics } from '../metrics/index.js';
import type { OrganisationRegistries } from '../registries/contract.js';
import type { PersonRelations } from '../representation/persons.js';
import type { SourceRegistry } from '../sources/index.js';
import type { Database } from '../storage/index.js';

export interface JourneyDeps {
  config: Config;
  db: Database;
  logger: Logger;
  keyring: KeyRing;
  sources: SourceRegistry;
  upstream: Upstream;
  accounts: AccountsContext;
  /** The instance's consents in memory (consentOf). */
  consents: ConsentCache;
  sourceLogout: SourceLogoutDeps;
  /** Absent in tools that run the journey without a server (none yet). */
  metrics?: Metrics;
  provider: () => Provider;
  /** The organisation registries asked whom a person may act for; absent, representation is offered as unavailable. */
  registries?: OrganisationRegistries;
  /** Whose parent or helper a person is (persons acting for persons); absent, only organisations are offered. */
  relations?: PersonRelations;
}
