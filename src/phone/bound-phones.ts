// Binding a phone to an account: a passkey created on the phone with user
// verification required (factors/passkeys.ts does the ceremony), and a record of
// the binding written in the same transaction, with the level of the session
// that bound it. The phone then holds a signed cookie naming its binding, which
// is how nixa's pages on the phone know whose phone it is; approving anything
// still takes the passkey.
import { randomUUID } from 'node:crypto';

import type { Context } from 'koa';

import type { Level } from '../assurance/index.js';
import { appendAudit, coarseDevice } from '../audit/index.js';
import {
  checkPasskeyName,
  citizen,
  finishPasskeyRegistration,
  startPasskeyRegistration,
  type FactorsContext,
  type PasskeyRegistration,
} from '../factors/index.js';
import type { PublicKeyCredentialCreationOptionsJSON } from '@simplewebauthn/server';
import * as repo from './repository.js';

export type { BoundPhoneRow as BoundPhone } from './repository.js';

/** The cookie on a bound phone naming its binding (signed, httpOnly; a top-level link from a camera app carries it). */
export const PHONE_COOKIE = 'nixa_phone';
/** Browsers keep a cookie at most 400 days; a phone unused that long is asked to bind again. */
const PHONE_COOKIE_DAYS = 400;

/** An account binds at most this many phones: more is a sign of something wrong. */
export const MAX_PHONES = 5;

export interface BindingStart {
  accountId: string;
  /** challengeBinding('session', …) of the phone's session. */
  binding: string;
  userName: string;
}

export async function startBinding(ctx: FactorsContext, b: BindingStart): Promise<PublicKeyCredentialCreationOptionsJSON | 'too-many'> {
  if ((await repo.selectBoundPhones(ctx.db, b.accountId)).length >= MAX_PHONES) return 'too-many';
  return startPasskeyRegistration(ctx, { ...b, userVerification: 'required' });
}

export interface BindingFinish {
  accountId: string;
  binding: string;
  name: unknown;
  response: unknown;
  /** The phone's session level: the binding never vouches above it. */
  level: Level;
  userAgent: string | undefined;
  now?: Date;
}

export type Binding = { ok: true; phoneId: string } | Extract<PasskeyRegistration, { ok: false }> | { ok: false; reason: 'too-many-phones' };

/** Checks the passkey (user verification required) and binds the phone, in one transaction. */
export async function finishBinding(ctx: FactorsContext, f: BindingFinish): Promise<Binding> {
  const now = f.now ?? new Date();
  const phoneId = randomUUID();
  let tooMany = false;
  const r = await finishPasskeyRegistration(ctx, {
    ...f,
    now,
    within: async (tx, passkeyId) => {
      if ((await repo.selectBoundPhones(tx, f.accountId)).length >= MAX_PHONES) {
        tooMany = true;
        throw new TooManyPhones();
      }
      await repo.insertBoundPhone(tx, { id: phoneId, accountId: f.accountId, passkeyId, name: checkPasskeyName(f.name)!, boundLevel: f.level, createdAt: now });
      await appendAudit(tx, {
        event: 'PHONE_BOUND',
        actor: citizen(f.accountId),
        subject: f.accountId,
        details: { phoneId, passkeyId, level: f.level, device: coarseDevice(f.userAgent) },
      });
    },
  }).catch((err: unknown) => {
    if (err instanceof TooManyPhones) return undefined;
    throw err;
  });
  if (!r || tooMany) return { ok: false, reason: 'too-many-phones' };
  return r.ok ? { ok: true, phoneId } : r;
}

class TooManyPhones extends Error {}

export const listBoundPhones = (ctx: Pick<FactorsContext, 'db'>, accountId: string) => repo.selectBoundPhones(ctx.db, accountId);

/** Removes a bound phone and its passkey; false if the account has no such phone. */
export function unbindPhone(ctx: Pick<FactorsContext, 'db'>, accountId: string, phoneId: string, level: Level): Promise<boolean> {
  return ctx.db.transaction(async (tx) => {
    const gone = await repo.deleteBoundPhone(tx, accountId, phoneId);
    if (!gone) return false;
    await appendAudit(tx, { event: 'PHONE_UNBOUND', actor: citizen(accountId), subject: accountId, details: { phoneId, passkeyId: gone.passkeyId, level } });
    return true;
  });
}

const JUST_BOUND = Symbol('nixa phone just bound');

/** Tells this browser it is the bound phone `phoneId`. */
export function rememberPhone(ctx: Context, phoneId: string): void {
  // The page answering this very request already knows it (the cookie comes back only with the next).
  (ctx.state as { [JUST_BOUND]?: string })[JUST_BOUND] = phoneId;
  ctx.cookies.set(PHONE_COOKIE, phoneId, { signed: true, httpOnly: true, sameSite: 'lax', path: '/', maxAge: PHONE_COOKIE_DAYS * 86_400_000 });
}

/** The binding this browser holds, if it still exists. */
export async function thisPhone(ctx: Context, db: FactorsContext['db']): Promise<repo.BoundPhoneRow | undefined> {
  const id = (ctx.state as { [JUST_BOUND]?: string })[JUST_BOUND] ?? ctx.cookies.get(PHONE_COOKIE, { signed: true });
  if (!id || id.length > 64) return undefined;
  return repo.selectBoundPhone(db, id);
}
