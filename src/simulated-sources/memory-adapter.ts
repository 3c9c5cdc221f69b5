// Storage for one simulated source, in memory. oidc-provider's bundled memory
// adapter keeps a single store for the whole process; several sources (and test
// files) run in one process, must not see each other's sessions, and close()
// must leave nothing behind. Sources are for development: nothing survives a restart.
import type { Adapter, AdapterFactory, AdapterPayload } from 'oidc-provider';

interface Entry {
  payload: AdapterPayload;
  expiresAt: number;
}

/** Above this many entries, an upsert first sweeps out the expired ones (a long `npm start` demo). */
const SWEEP_ABOVE = 5_000;

/** The models revoked together when their grant is (as oidc-provider's own memory adapter does). */
const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest', 'PreAuthorizedCode']);

export class MemoryStore {
  readonly entries = new Map<string, Entry>();
  readonly sessionsByUid = new Map<string, string>();
  readonly grantMembers = new Map<string, Set<string>>();

  clear(): void {
    this.entries.clear();
    this.sessionsByUid.clear();
    this.grantMembers.clear();
  }

  sweep(now = Date.now()): void {
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
    for (const [uid, id] of this.sessionsByUid) if (!this.entries.has(`Session:${id}`)) this.sessionsByUid.delete(uid);
    for (const [grantId, members] of this.grantMembers) {
      for (const key of members) if (!this.entries.has(key)) members.delete(key);
      if (!members.size) this.grantMembers.delete(grantId);
    }
  }
}

export function memoryAdapter(store: MemoryStore): AdapterFactory {
  return (model: string): Adapter => {
    const keyOf = (id: string) => `${model}:${id}`;
    const find = async (id: string | undefined): Promise<AdapterPayload | undefined> => {
      if (id === undefined) return undefined;
      const entry = store.entries.get(keyOf(id));
      if (!entry) return undefined;
      if (entry.expiresAt <= Date.now()) {
        store.entries.delete(keyOf(id));
        return undefined;
      }
      return entry.payload;
    };
    return {
      async upsert(id, payload, expiresIn) {
        if (store.entries.size > SWEEP_ABOVE) store.sweep();
        const key = keyOf(id);
        store.entries.set(key, { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : Infinity });
        if (model === 'Session' && payload.uid) store.sessionsByUid.set(payload.uid, id);
        if (payload.grantId && GRANTABLE.has(model)) {
          const members = store.grantMembers.get(payload.grantId) ?? new Set<string>();
          members.add(key);
          store.grantMembers.set(payload.grantId, members);
        }
      },
      find,
      findByUid: async (uid) => find(store.sessionsByUid.get(uid)),
      // The device flow, the only user of user codes, is not enabled on the sources.
      findByUserCode: async () => undefined,
      async consume(id) {
        const payload = await find(id);
        if (payload) payload.consumed = Math.floor(Date.now() / 1000);
      },
      async destroy(id) {
        store.entries.delete(keyOf(id));
      },
      async revokeByGrantId(grantId) {
        for (const key of store.grantMembers.get(grantId) ?? []) store.entries.delete(key);
        store.grantMembers.delete(grantId);
      },
    };
  };
}
