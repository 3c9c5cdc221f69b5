// SQL for the device grant's counters: unknown user codes per client address and
// the last answered poll per device code. They are short-lived protocol state, so
// they live beside the device codes in the UNLOGGED table short_lived_payloads
// (under model names of their own, expiring with expires_at, deleted by the same
// purge); with NIXA_SHORT_LIVED_STORE=redis they still live there, since every
// instance shares the database. Every statement is one atomic upsert: parallel
// requests cannot slip past a count. Times are the database's clock, the same for
// every instance.
import type { Queryable } from '../storage/index.js';

const GUESSES = 'DeviceCodeGuesses';
const POLLS = 'DeviceCodePoll';

export type GuessTaken = { taken: true; count: number } | { taken: false; retryAfterSeconds: number };

/**
 * Takes one attempt from the address's allowance: a window that has closed starts
 * afresh; within a window, the count rises unless `allowed` is reached (then
 * nothing is written, and the wait until the window closes is returned).
 */
export async function takeGuess(db: Queryable, key: string, windowSeconds: number, allowed: number): Promise<GuessTaken> {
  const { rows } = await db.query<{ n: number }>(
    `INSERT INTO short_lived_payloads AS t (model, id, payload, expires_at)
     VALUES ($1, $2, jsonb_build_object('n', 1, 'since', extract(epoch FROM now())::float8), now() + make_interval(secs => $3::float8))
     ON CONFLICT (model, id) DO UPDATE SET
       payload = CASE WHEN t.expires_at <= now() THEN EXCLUDED.payload
                      ELSE jsonb_set(t.payload, '{n}', to_jsonb((t.payload->>'n')::int + 1)) END,
       expires_at = CASE WHEN t.expires_at <= now() THEN EXCLUDED.expires_at ELSE t.expires_at END
     WHERE t.expires_at <= now() OR (t.payload->>'n')::int < $4
     RETURNING (payload->>'n')::int AS n`,
    [GUESSES, key, windowSeconds, allowed],
  );
  if (rows[0]) return { taken: true, count: Number(rows[0].n) };
  const wait = await db.query<{ s: number }>(
    `SELECT greatest(ceil(extract(epoch FROM expires_at - now())), 1)::int AS s FROM short_lived_payloads WHERE model = $1 AND id = $2`,
    [GUESSES, key],
  );
  return { taken: false, retryAfterSeconds: Number(wait.rows[0]?.s ?? 1) };
}

/** Gives back an attempt that turned out not to be a guess (the code existed, or none was typed). */
export async function giveBackGuess(db: Queryable, key: string): Promise<void> {
  await db.query(
    `UPDATE short_lived_payloads SET payload = jsonb_set(payload, '{n}', to_jsonb(greatest((payload->>'n')::int - 1, 0)))
     WHERE model = $1 AND id = $2 AND expires_at > now()`,
    [GUESSES, key],
  );
}

/**
 * Records a poll of the device code (or, under `model`, the CIBA request) named by `key` if the last recorded one is at
 * least `intervalSeconds` old (or there is none); false, writing nothing, otherwise.
 */
export async function recordPoll(db: Queryable, key: string, intervalSeconds: number, model = POLLS): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO short_lived_payloads AS t (model, id, payload, expires_at)
     VALUES ($1, $2, '{}'::jsonb, now() + make_interval(secs => $3::float8))
     ON CONFLICT (model, id) DO UPDATE SET expires_at = EXCLUDED.expires_at
     WHERE t.expires_at <= now()`,
    [model, key, intervalSeconds],
  );
  return rowCount === 1;
}
