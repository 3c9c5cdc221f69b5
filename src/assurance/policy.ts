// The assurance vocabulary and policy: the ordered levels and their acr values, the
// factors nixa accepts with their amr values, and the table saying what a session
// is worth. Pure: the table is data (built in, or the file named by
// NIXA_ASSURANCE_POLICY_FILE, validated once at start-up) passed to every function.
import { z } from 'zod';

import { AMR_FEDERATED, LEVELS, acrFor, atLeast, highest, lowest, rank, type Level } from './levels.js';

export { ACR_VALUES, AMR_FEDERATED, LEVELS, acrFor, atLeast, highest, levelOfAcr, lowest, rank, type Level } from './levels.js';

export interface LevelEquivalent {
  /**
   * The electronic identification account level of Decree 69/2024/ND-CP (which
   * replaced Decree 59/2022/ND-CP) whose identity proofing this level is
   * comparable to; null when no e-ID account level corresponds.
   */
  decree69AccountLevel: 1 | 2 | null;
  /** The eIDAS level of assurance (Regulation (EU) 910/2014, Implementing Regulation 2015/1502). */
  eidas: 'low' | 'substantial' | 'high';
  /** What an account at this level has been through, in one sentence per language. */
  basis: { vi: string; en: string };
}

/**
 * How nixa's levels compare with Vietnam's electronic identification accounts and
 * with eIDAS. A comparison for services choosing which level to ask for, not a
 * certification: nixa does not issue e-ID accounts, and eIDAS "high" in the EU
 * usually also means a certified secure element.
 */
export const LEVEL_EQUIVALENTS: Readonly<Record<Level, LevelEquivalent>> = deepFreeze({
  low: {
    decree69AccountLevel: null,
    eidas: 'low',
    basis: {
      vi: 'Danh tính do nguồn khai báo, chưa được đối chiếu như tài khoản định danh điện tử (ví dụ: thông tin thuê bao di động).',
      en: 'Identity as a source declares it, not checked the way an e-ID account is (e.g. a mobile subscriber record).',
    },
  },
  substantial: {
    decree69AccountLevel: 1,
    eidas: 'substantial',
    basis: {
      vi: 'Như tài khoản định danh điện tử mức độ 1: thông tin đối chiếu trùng khớp với Cơ sở dữ liệu quốc gia về dân cư, ảnh chân dung thu nhận qua thiết bị.',
      en: 'Like a level 1 e-ID account: data matched against the National Population Database, face image captured remotely.',
    },
  },
  high: {
    decree69AccountLevel: 2,
    eidas: 'high',
    basis: {
      vi: 'Như tài khoản định danh điện tử mức độ 2: đăng ký trực tiếp tại cơ quan Công an với thẻ căn cước, xác minh ảnh chân dung và vân tay.',
      en: 'Like a level 2 e-ID account: enrolled in person at the police with the identity card, face and fingerprints verified.',
    },
  },
});

// ── Factors and the policy table ──────────────────────────────────────────────

/**
 * The factors nixa itself can check after a source login. A passkey is two rows
 * because WebAuthn's user-verification flag changes what it proves; a citizen's
 * passkey is listed as passkey_uv when nixa requires user verification for it.
 */
export const FACTORS = ['passkey_uv', 'passkey', 'totp', 'recovery_code'] as const;
export type Factor = (typeof FACTORS)[number];

export interface FactorRule {
  /** The amr values stated when the factor was used (RFC 8176 names). */
  amr: readonly string[];
  /** The authentication level the factor gives on its own, after any source login. */
  level: Level;
  /** Whether it counts as a distinct factor for amr "mfa". */
  countsForMfa: boolean;
}

/** Factors that, used together in one session, are worth more than each alone. */
export interface CombinationRule {
  /** The session's source login must have reached at least this level. */
  sourceAtLeast: Level;
  factors: readonly Factor[];
  level: Level;
}

/**
 * A sign-in approved on the citizen's bound phone (a QR code scanned from another
 * screen, a CIBA request): the phone's passkey with user verification, and no
 * source login in this session. `level` is the most it gives; it is further
 * capped by the level the phone was bound at and by the account's proofing.
 */
export interface BoundPhoneRule {
  level: Level;
  amr: readonly string[];
}

export interface AssurancePolicy {
  /** amr values added for the source login (beside the methods the source itself reports). */
  federated: { amr: readonly string[] };
  boundPhone: BoundPhoneRule;
  factors: Readonly<Record<Factor, FactorRule>>;
  combinations: readonly CombinationRule[];
}

// The file format: the JSON an operator writes, snake_case like a source registration.
const levelField = z.enum(LEVELS, { error: `one of ${LEVELS.join(', ')}` });
const factorName = z.enum(FACTORS, { error: `one of ${FACTORS.join(', ')}` });
const note = z.string().max(2000).optional();

const amrList = z
  .array(
    z
      .string({ error: 'a string' })
      .regex(/^[A-Za-z0-9_.-]{1,32}$/, 'an amr value of 1 to 32 letters, digits, dots, dashes or underscores (RFC 8176 names such as hwk, user, otp)')
      .refine((v) => v !== 'mfa', 'cannot be "mfa": nixa adds mfa itself when two distinct factors were used'),
    { error: 'a list of amr values' },
  )
  .min(1, 'at least one amr value')
  .refine((a) => new Set(a).size === a.length, 'lists a value twice');

const required = (what: string) => (iss: { input: unknown }) => (iss.input === undefined ? `is required (${what})` : undefined);

const factorRow = z
  .object(
    {
      level: levelField,
      amr: amrList,
      counts_for_mfa: z.boolean({ error: 'true or false' }),
      note,
    },
    { error: (iss) => required('every factor needs a row')(iss) ?? 'an object with level, amr and counts_for_mfa' },
  )
  .strict();

const combinationRow = z
  .object(
    {
      source_at_least: levelField,
      factors: z
        .array(factorName, { error: 'a list of factors' })
        .min(1, 'at least one factor')
        .refine((f) => new Set(f).size === f.length, 'lists a factor twice'),
      level: levelField,
      note,
    },
    { error: 'an object with source_at_least, factors and level' },
  )
  .strict();

const policyDocument = z
  .object(
    {
      federated: z
        .object({ amr: amrList, note }, { error: (iss) => required('the amr values of a source login')(iss) ?? 'an object with amr' })
        .strict(),
      factors: z
        .object(
          {
            passkey_uv: factorRow,
            passkey: factorRow,
            totp: factorRow,
            recovery_code: factorRow,
          } satisfies Record<Factor, typeof factorRow>,
          { error: (iss) => required('a row for every factor')(iss) ?? 'an object with a row per factor' },
        )
        .strict(),
      // Optional so that a policy file written before phones could be bound still
      // loads: without it the built-in row applies (BUILT_IN_BOUND_PHONE).
      bound_phone: z
        .object({ level: levelField, amr: amrList, note }, { error: 'an object with level and amr' })
        .strict()
        .optional(),
      combinations: z.array(combinationRow, {
        error: (iss) => required('a list, empty if no combination raises the level')(iss) ?? 'a list of combinations',
      }),
      note,
    },
    { error: 'a JSON object with federated, factors and combinations' },
  )
  .strict()
  .superRefine((p, ctx) => {
    const seen = new Map<string, number>();
    p.combinations.forEach((c, i) => {
      // A row that does not lift the level above what its parts give alone is a
      // mistake (usually a level typed in the wrong row); refuse it rather than
      // ship a table that reads differently from how it works.
      const parts = highest(c.source_at_least, ...c.factors.map((f) => p.factors[f].level));
      if (!(rank(c.level) > rank(parts))) {
        ctx.addIssue({ code: 'custom', path: ['combinations', i, 'level'], message: `does not raise the level: its parts already give ${parts}` });
      }
      const key = `${c.source_at_least}|${[...c.factors].sort().join('+')}`;
      const earlier = seen.get(key);
      if (earlier !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['combinations', i], message: `repeats combinations[${earlier}]` });
      } else seen.set(key, i);
    });
  });

export type AssurancePolicyDocument = z.input<typeof policyDocument>;

export interface PolicyIssue {
  /** Where in the document, e.g. `factors.totp.level` or `combinations[0].factors[1]`. */
  field: string;
  message: string;
}

const fieldOf = (path: readonly PropertyKey[]): string =>
  path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i ? `.${String(p)}` : String(p))).join('') || '(document)';

/** Validates a policy document (parsed JSON); each issue names the field. */
export function parseAssurancePolicy(input: unknown): { ok: true; policy: AssurancePolicy } | { ok: false; issues: PolicyIssue[] } {
  const res = policyDocument.safeParse(input);
  if (!res.success) {
    return {
      ok: false,
      issues: res.error.issues.flatMap((i): PolicyIssue[] =>
        i.code === 'unrecognized_keys'
          ? i.keys.map((k) => ({
              field: fieldOf([...i.path, k]),
              message:
                i.path.length === 1 && i.path[0] === 'factors'
                  ? `is not a factor nixa knows (${FACTORS.join(', ')})`
                  : 'is not a field of the assurance policy',
            }))
          : [{ field: fieldOf(i.path), message: i.message }],
      ),
    };
  }
  const d = res.data;
  const row = (r: (typeof d.factors)[Factor]): FactorRule => ({ amr: r.amr, level: r.level, countsForMfa: r.counts_for_mfa });
  return {
    ok: true,
    // Frozen: one policy object is shared by the whole process through Config.
    policy: deepFreeze({
      federated: { amr: d.federated.amr },
      boundPhone: d.bound_phone ? { level: d.bound_phone.level, amr: d.bound_phone.amr } : BUILT_IN_BOUND_PHONE,
      factors: {
        passkey_uv: row(d.factors.passkey_uv),
        passkey: row(d.factors.passkey),
        totp: row(d.factors.totp),
        recovery_code: row(d.factors.recovery_code),
      },
      combinations: d.combinations.map((c) => ({ sourceAtLeast: c.source_at_least, factors: c.factors, level: c.level })),
    }),
  };
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

/**
 * The built-in row for a sign-in approved on a bound phone. The passkey lives on
 * the phone and is unlocked by its owner (user verification is required), so it
 * is two factors and phishing-resistant; the number matched on both screens and
 * the service shown on the phone stop a relayed QR code. amr: hwk and user as for
 * passkey_uv, and mca (RFC 8176: multiple-channel authentication), since the
 * approval comes over a second device and channel.
 */
const BUILT_IN_BOUND_PHONE: BoundPhoneRule = { level: 'high', amr: ['hwk', 'user', 'mca'] };

/**
 * The built-in policy, in the file format (a starting point for
 * NIXA_ASSURANCE_POLICY_FILE). Every session starts with a source login, whose
 * level comes from the source's registration; a factor's row says what it gives
 * used after that login, whatever the source.
 */
export const DEFAULT_POLICY_DOCUMENT = deepFreeze({
  federated: {
    // Not in RFC 8176: nixa's documented value for "federated from an identity
    // source"; the source's own methods (pwd, otp, sms, face, …) come beside it.
    amr: [AMR_FEDERATED],
  },
  factors: {
    // Phishing-resistant (the key is bound to nixa's origin) and two factors in
    // one: the authenticator holds the key and verified the person (PIN or
    // biometric). The strongest thing a citizen can bring: high.
    // amr: hwk = proof of possession of a key held by an authenticator; user =
    // the authenticator verified the person. RFC 8176 words "user" as a presence
    // test; nixa states it only with the UV flag, because WebAuthn does not say
    // whether a PIN (pin), fingerprint (fpt) or face (face) was used, and every
    // assertion carries presence, so stating it without UV would make the two
    // passkey rows look the same to a service.
    passkey_uv: { level: 'high', amr: ['hwk', 'user'], counts_for_mfa: true },
    // Still phishing-resistant, but only possession: anyone holding the security
    // key can use it. With the source login it makes two factors: substantial.
    passkey: { level: 'substantial', amr: ['hwk'], counts_for_mfa: true },
    // An authenticator-app code (RFC 6238) is a second factor but can be phished
    // in real time, like a password, so it never lifts a session to high.
    totp: { level: 'substantial', amr: ['otp'], counts_for_mfa: true },
    // A recovery code restores access to a citizen who lost an authenticator; it
    // is a secret written down once, so it vouches for nothing beyond the source
    // login and is not counted for mfa. amr: RFC 8176 has no value for it; kba
    // (knowledge-based) is the nearest registered one and its weak connotation
    // matches the level, whereas otp would look like an authenticator app.
    recovery_code: { level: 'low', amr: ['kba'], counts_for_mfa: false },
  },
  bound_phone: { level: BUILT_IN_BOUND_PHONE.level, amr: [...BUILT_IN_BOUND_PHONE.amr] },
  combinations: [
    // A source login at substantial already combined two factors (a bank's
    // password and face match, the citizen-ID app's password and code); a passkey
    // adds a phishing-resistant one bound to nixa: an attacker must both phish the
    // source and hold the key. Comparable to high.
    { source_at_least: 'substantial', factors: ['passkey'], level: 'high' },
    // Deliberately no row with TOTP (a bank login + a code, or a passkey + a code
    // after Telecom): a real-time phishing proxy relays codes, and the devices
    // add possession to possession, so these stay substantial.
  ],
} satisfies AssurancePolicyDocument);

function builtIn(): AssurancePolicy {
  const parsed = parseAssurancePolicy(DEFAULT_POLICY_DOCUMENT);
  if (!parsed.ok) throw new Error(`the built-in assurance policy is invalid: ${parsed.issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`);
  return parsed.policy;
}

export const DEFAULT_POLICY: AssurancePolicy = builtIn();

// ── What a session is worth ──────────────────────────────────────────────────

/**
 * One use of a factor in the session. `enrolledAt` is the level of the session in
 * which the factor was enrolled: a factor never vouches above it, since a means
 * issued on the strength of another can be no stronger than that one (eIDAS,
 * Implementing Regulation 2015/1502, 2.2.4). Otherwise a substantial login could
 * enrol a passkey that later counts as high.
 */
export interface FactorUse {
  factor: Factor;
  enrolledAt: Level;
}

export interface SessionInput {
  /** The identity-proofing level of the account's verified attributes. */
  proofingLevel: Level;
  /** The authentication level the session's source login gave (from the source's registration). */
  sourceAuthLevel: Level;
  /** The methods the source reported (its amr), passed on. */
  sourceAmr: readonly string[];
  /** Factors used in this session since the source login, in order. */
  factors: readonly FactorUse[];
}

export interface SessionAssurance {
  /** The lower of identity proofing and authentication. */
  level: Level;
  acr: string;
  amr: string[];
  /** The authentication level reached, before proofing caps it. */
  authenticationLevel: Level;
}

/**
 * The authentication level a session reached: the highest of its source login,
 * each factor alone, and every combination row it satisfies.
 */
export function sessionAuthenticationLevel(
  s: Pick<SessionInput, 'sourceAuthLevel' | 'factors'>,
  policy: AssurancePolicy,
): Level {
  const best = new Map<Factor, Level>();
  for (const u of s.factors) best.set(u.factor, highest(u.enrolledAt, best.get(u.factor) ?? 'low'));
  const worth = (f: Factor): Level => lowest(policy.factors[f].level, best.get(f)!);

  let level = highest(s.sourceAuthLevel, ...[...best.keys()].map(worth));
  for (const c of policy.combinations) {
    if (!atLeast(s.sourceAuthLevel, c.sourceAtLeast) || !c.factors.every((f) => best.has(f))) continue;
    level = highest(level, lowest(c.level, ...c.factors.map((f) => best.get(f)!)));
  }
  return level;
}

/** The level, acr and amr a session states. */
export function sessionAssurance(s: SessionInput, policy: AssurancePolicy): SessionAssurance {
  const auth = sessionAuthenticationLevel(s, policy);
  const level = lowest(s.proofingLevel, auth);
  // The source login is one factor; each distinct factor nixa checked that counts
  // for mfa is another. Using the same factor twice is still one.
  const distinct = new Set(s.factors.filter((u) => policy.factors[u.factor].countsForMfa).map((u) => u.factor));
  const amr = [
    ...s.sourceAmr,
    ...policy.federated.amr,
    ...s.factors.flatMap((u) => policy.factors[u.factor].amr),
    ...(1 + distinct.size >= 2 ? ['mfa'] : []),
  ];
  return { level, acr: acrFor(level), amr: [...new Set(amr)], authenticationLevel: auth };
}

// ── Step-up: what can raise a session ────────────────────────────────────────

/** A source the citizen could sign in through now, as step-up sees it. */
export interface SourceOffer {
  id: string;
  /** The proofing level its attributes would give the account (when it can link to it). */
  proofingLevel: Level;
  /** The highest authentication level a login there gives (auth_level, else max_auth_level). */
  authLevel: Level;
}

export interface ReachInput<F extends FactorUse, S extends SourceOffer> {
  proofingLevel: Level;
  /** The session so far: combination rows depend on which login gave which level. */
  sourceAuthLevel: Level;
  /** Factors already used in this session. */
  factors: readonly FactorUse[];
  /** Factors the account holds and could use now (e.g. its passkeys, its authenticator app). */
  availableFactors: readonly F[];
  /** Sources the citizen could sign in through now. */
  availableSources?: readonly S[];
}

/** One way to reach the target: use all these factors and sign in through all these sources. */
export interface StepUpOption<F, S> {
  factors: F[];
  sources: S[];
  reaches: Level;
}

export type Reach<F, S> =
  | { met: true; level: Level }
  /** `options` empty: nothing can reach the target (unmet_authentication_requirements). */
  | { met: false; level: Level; options: StepUpOption<F, S>[] };

/** More steps than this is not a step-up a citizen would finish. */
const MAX_STEPS = 3;

/**
 * Whether the session already stands at `target`, and if not, every minimal set of
 * factors and sources that would raise it there (fewest steps first, factors before
 * sources, in the policy's factor order). Raising proofing needs a source.
 */
export function canReach<F extends FactorUse, S extends SourceOffer>(
  target: Level,
  input: ReachInput<F, S>,
  policy: AssurancePolicy,
): Reach<F, S> {
  const levelOf = (proofing: Level, sourceAuth: Level, factors: readonly FactorUse[]) =>
    lowest(proofing, sessionAuthenticationLevel({ sourceAuthLevel: sourceAuth, factors }, policy));

  const level = levelOf(input.proofingLevel, input.sourceAuthLevel, input.factors);
  if (atLeast(level, target)) return { met: true, level };

  // One candidate per factor: the credential enrolled at the highest level, and
  // only if it would be worth more than the uses of that factor already made.
  const usedBest = (f: Factor) => input.factors.filter((u) => u.factor === f).map((u) => u.enrolledAt);
  const factorCandidates: F[] = [];
  for (const f of FACTORS) {
    const mine = input.availableFactors.filter((u) => u.factor === f);
    if (!mine.length) continue;
    const best = mine.reduce((a, b) => (rank(b.enrolledAt) > rank(a.enrolledAt) ? b : a));
    const used = usedBest(f);
    if (used.length && rank(highest(...used)) >= rank(best.enrolledAt)) continue;
    factorCandidates.push(best);
  }
  type Step = { kind: 'factor'; use: F } | { kind: 'source'; source: S };
  const steps: Step[] = [
    ...factorCandidates.map((use): Step => ({ kind: 'factor', use })),
    ...(input.availableSources ?? []).map((source): Step => ({ kind: 'source', source })),
  ];

  const found: number[][] = [];
  const options: StepUpOption<F, S>[] = [];
  for (let size = 1; size <= Math.min(MAX_STEPS, steps.length); size++) {
    for (const pick of subsets(steps.length, size)) {
      if (found.some((f) => f.every((i) => pick.includes(i)))) continue; // not minimal
      const chosen = pick.map((i) => steps[i]!);
      const factors = chosen.flatMap((s) => (s.kind === 'factor' ? [s.use] : []));
      const sources = chosen.flatMap((s) => (s.kind === 'source' ? [s.source] : []));
      const reaches = levelOf(
        highest(input.proofingLevel, ...sources.map((s) => s.proofingLevel)),
        highest(input.sourceAuthLevel, ...sources.map((s) => s.authLevel)),
        [...input.factors, ...factors],
      );
      if (!atLeast(reaches, target)) continue;
      found.push(pick);
      options.push({ factors, sources, reaches });
    }
  }
  return { met: false, level, options };
}

/** The k-element index subsets of 0..n-1, in lexicographic order. */
function* subsets(n: number, k: number, start = 0, prefix: number[] = []): Generator<number[]> {
  if (prefix.length === k) {
    yield prefix;
    return;
  }
  for (let i = start; i < n; i++) yield* subsets(n, k, i + 1, [...prefix, i]);
}

// ── Raising a session that already stands ───────────────────────────────────

/**
 * A signed-in session as nixa knows it at step-up. The session itself keeps only
 * its acr and amr; what its source login alone was worth is recorded beside it
 * (and assumed low when unknown), because combination rows depend on it and the
 * acr of a session already raised by a factor would overstate it.
 */
export interface SessionSoFar {
  proofingLevel: Level;
  /** The level the session stands at now (its acr). */
  level: Level;
  /** The authentication level of the session's source login alone. */
  sourceAuthLevel: Level;
  amr: readonly string[];
}

/**
 * The session after one more factor: never lower than it stood, and otherwise
 * what the source login and this factor give together (factors used earlier in
 * the session are not known individually, so they are not combined with this one:
 * a conservative reading). Capped by identity proofing as always.
 */
export function raiseSession(s: SessionSoFar, use: FactorUse, policy: AssurancePolicy): SessionAssurance {
  const withFactor = sessionAssurance(
    { proofingLevel: s.proofingLevel, sourceAuthLevel: s.sourceAuthLevel, sourceAmr: s.amr, factors: [use] },
    policy,
  );
  const level = highest(withFactor.level, lowest(s.level, s.proofingLevel));
  return { ...withFactor, level, acr: acrFor(level), authenticationLevel: highest(withFactor.authenticationLevel, s.level) };
}

// ── A sign-in approved on a bound phone ───────────────────────────────────────

/**
 * What a sign-in approved on the citizen's bound phone is worth: the policy's
 * bound_phone row, never above the level the phone was bound at (a means issued on
 * the strength of a session is no stronger than it) nor the account's proofing.
 * Always mfa: approval needs the passkey with user verification.
 */
export function boundPhoneAssurance(p: { boundLevel: Level; proofingLevel: Level }, policy: AssurancePolicy): SessionAssurance {
  const authenticationLevel = lowest(policy.boundPhone.level, p.boundLevel);
  const level = lowest(authenticationLevel, p.proofingLevel);
  return { level, acr: acrFor(level), amr: [...new Set([...policy.boundPhone.amr, 'mfa'])], authenticationLevel };
}
