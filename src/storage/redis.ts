// The Redis (or Valkey) connection that carries short-lived protocol state when
// NIXA_SHORT_LIVED_STORE=redis. One connection per instance (Redis pipelines
// commands on it). Nothing durable lives there: a Redis restart only restarts
// the sign-ins in flight and sends services to their refresh tokens.
//
// A command never waits for a lost connection to come back: it fails at once
// (StorageUnavailableError, HTTP 503, like a lost database connection), while
// the client reconnects in the background.
import { Redis } from 'ioredis';

import { StorageError, StorageUnavailableError } from '../errors/index.js';
import { silentLogger, type Logger } from '../logging/index.js';
import { redactUrl } from './postgres.js';

/** Backoff between reconnection attempts: from 100 ms, doubling, never above 2 s. */
const RECONNECT_FIRST_MS = 100;
const RECONNECT_MAX_MS = 2_000;
/** A command that has no answer by then is reported as unavailable rather than holding the request. */
const COMMAND_TIMEOUT_MS = 2_000;

/** Every script nixa defines (RedisStore.script): kept out of auto-pipelining. */
const SCRIPT_NAMES = new Set(['nixaUpsert', 'nixaConsume', 'nixaRevokeGrant', 'nixaUpstreamSave', 'nixaUpstreamTake', 'nixaUpstreamRefused']);

export interface RedisStore {
  /** The client; every command must go through run() so that failures are typed. */
  readonly client: Redis;
  /** A key in nixa's namespace (NIXA_REDIS_PREFIX; tests use their own). */
  key(...parts: string[]): string;
  /** Runs commands, turning a lost or refused connection into StorageUnavailableError. */
  run<T>(fn: (client: Redis) => Promise<T>): Promise<T>;
  /**
   * A Lua script as a command: sent by its SHA1 (EVALSHA), its source only the
   * first time on a connection and again after a Redis restart flushed it.
   * KEYS come first in the arguments, then ARGV; with numberOfKeys null the
   * first argument is the number of keys (a script whose keys vary).
   */
  script<T>(name: string, lua: string, numberOfKeys: number | null): (...args: string[]) => Promise<T>;
  /** 'ok', or what is wrong (for /readyz). */
  health(): Promise<string>;
  close(): Promise<void>;
}

export async function openRedis(url: string, prefix: string, logger: Logger = silentLogger): Promise<RedisStore> {
  const client = new Redis(url, {
    lazyConnect: true,
    // Fail a command at once while disconnected instead of queueing it until some
    // later reconnection: the citizen gets an answer now, not a hung page.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 5_000,
    commandTimeout: COMMAND_TIMEOUT_MS,
    retryStrategy: (attempt) => Math.min(RECONNECT_MAX_MS, RECONNECT_FIRST_MS * 2 ** Math.min(attempt, 10)),
    connectionName: 'nixa',
    // Plain commands issued in the same tick by concurrent requests (finds) leave
    // in one socket write. Not the scripts (every write): ioredis's auto-pipeline
    // loses replies of scripts run in one (results[i] is not iterable, seen with
    // two redemptions of one code at the same instant).
    enableAutoPipelining: true,
    autoPipeliningIgnoredCommands: [...SCRIPT_NAMES],
  });
  let lastError: string | undefined;
  client.on('error', (err: Error) => {
    // ioredis emits an error per failed reconnection attempt; say it once per outage.
    if (lastError !== err.message) logger.warn({ err: { message: err.message } }, 'short-lived store (Redis) connection error');
    lastError = err.message;
  });
  client.on('ready', () => {
    if (lastError) logger.info('short-lived store (Redis) connection re-established');
    lastError = undefined;
  });
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    client.disconnect();
    throw new StorageError(`cannot reach Redis at ${redactUrl(url)}: ${(err as Error).message}`);
  }

  const run = async <T>(fn: (c: Redis) => Promise<T>): Promise<T> => {
    try {
      return await fn(client);
    } catch (err) {
      if (isRedisUnavailable(err, client)) {
        throw new StorageUnavailableError(`the short-lived store (Redis) is unreachable: ${(err as Error).message}`, { cause: err });
      }
      throw err;
    }
  };

  const scripts = new Map<string, string>();
  const script = <T>(name: string, lua: string, numberOfKeys: number | null) => {
    if (!SCRIPT_NAMES.has(name)) throw new Error(`Redis script ${name} is not in SCRIPT_NAMES`);
    const known = scripts.get(name);
    if (known !== undefined && known !== lua) throw new Error(`two Redis scripts named ${name}`);
    if (known === undefined) {
      client.defineCommand(name, numberOfKeys === null ? { lua } : { lua, numberOfKeys });
      scripts.set(name, lua);
    }
    const command = (client as unknown as Record<string, (...args: string[]) => Promise<T>>)[name]!;
    return (...args: string[]) => run(() => command.apply(client, args));
  };

  return {
    client,
    key: (...parts) => prefix + parts.join(':'),
    run,
    script,
    async health() {
      if (client.status !== 'ready') return `redis ${client.status}`;
      try {
        await client.ping();
        return 'ok';
      } catch (err) {
        return `redis: ${(err as Error).message}`;
      }
    },
    async close() {
      if (client.status === 'end') return;
      await client.quit().catch(() => client.disconnect());
    },
  };
}

/**
 * A failure of the connection rather than of the command (a script error is a
 * bug and stays one): not connected, closed, timed out, or the server going away.
 */
function isRedisUnavailable(err: unknown, client: Redis): boolean {
  if (client.status !== 'ready') return true;
  const e = err as { message?: unknown; code?: unknown; name?: unknown } | null;
  const message = typeof e?.message === 'string' ? e.message : '';
  const code = typeof e?.code === 'string' ? e.code : '';
  if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT'].includes(code)) return true;
  return /Stream isn't writeable|Connection is closed|Command timed out|LOADING|MASTERDOWN|max retries per request/i.test(message);
}
