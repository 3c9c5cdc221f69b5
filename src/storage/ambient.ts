// A transaction that code which cannot be handed one joins: oidc-provider saves
// its models through the adapter, and a grant made during a sign-in's linking
// step belongs in that step's commit. Only the durable adapter looks (adapter.ts).
import { AsyncLocalStorage } from 'node:async_hooks';

import type { Queryable } from './database.js';

const ambient = new AsyncLocalStorage<Queryable>();

/** Runs fn with `tx` as the transaction that the provider's durable writes inside it join. */
export function withinTransaction<T>(tx: Queryable, fn: () => Promise<T>): Promise<T> {
  return ambient.run(tx, fn);
}

/** The transaction the current code runs within (withinTransaction), if any. */
export function ambientTransaction(): Queryable | undefined {
  return ambient.getStore();
}
