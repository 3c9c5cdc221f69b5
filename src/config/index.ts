// Configuration: read once at start-up from the environment (and optionally a JSON
// file), validated into a typed object that is passed down. Nothing below src/config
// reads process.env.
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';

import { DEFAULT_POLICY, parseAssurancePolicy, type AssurancePolicy } from '../assurance/index.js';
import { ConfigError } from '../errors/index.js';

export const SIGNING_ALGS = ['ES256', 'RS256', 'PS256', 'EdDSA'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];

const seconds = (fallback: number) =>
  z.coerce
    .number({ error: 'a whole number of seconds' })
    .int('a whole number of seconds')
    .positive('a positive number of seconds')
    .default(fallback);

const boolean = z
  .enum(['true', 'false', '1', '0', 'on', 'off', 'yes', 'no'], {
    error: 'one of true/false, on/off, 1/0, yes/no',
  })
  .transform((v) => ['true', '1', 'on', 'yes'].includes(v));
const flag = (fallback: boolean) => boolean.default(fallback);

const DAY = 86_400;

const agencyName = (fallback: string) =>
  z
    .string()
    .trim()
    .min(1, 'a name of 1 to 200 characters')
    .max(200, 'a name of 1 to 200 characters')
    .refine((v) => !/[\u0000-\u001f\u007f<>]/.test(v), { message: 'a name without control characters or < >' })
    .default(fallback);

/** A link shown on every page: https elsewhere, or a path on this site (never http, javascript: or //host). */
export function isPageLink(v: string): boolean {
  if (/[\u0000-\u0020\u007f\\]/.test(v)) return false;
  if (v.startsWith('/')) return !v.startsWith('//');
  if (!URL.canParse(v)) return false;
  const u = new URL(v);
  return u.protocol === 'https:' && !u.username && !u.password && u.hostname !== '';
}

/** A VAPID subject (RFC 8292 §2.1): mailto: with an address, or an https URL without credentials. */
export function isPushSubject(v: string): boolean {
  if (/[\u0000-\u0020\u007f\\<>]/.test(v)) return false;
  if (v.startsWith('mailto:')) return /^mailto:[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+$/.test(v);
  if (!URL.canParse(v)) return false;
  const u = new URL(v);
  return u.protocol === 'https:' && !u.username && !u.password && u.hostname !== '' && u.hostname !== 'localhost';
}

const pageLink = (fallback: string) =>
  z
    .string()
    .max(2000, 'at most 2000 characters')
    .refine(isPageLink, { message: 'an https:// URL or a path on this site such as /privacy' })
    .default(fallback);

// Every variable nixa reads, with its default. README documents the same table;
// test/config checks that they agree.
const schema = z
  .object({
    NIXA_ENV: z.enum(['development', 'test', 'production'], {
      error: 'one of development, test, production',
    }).default('development'),
    NIXA_ISSUER: z
      .url({ error: 'an absolute http(s) URL without query or fragment, e.g. https://id.example.vn' })
      .refine((u) => /^https?:\/\//.test(u) && !u.includes('?') && !u.includes('#'), {
        message: 'an absolute http(s) URL without query or fragment, e.g. https://id.example.vn',
      })
      .transform((u) => u.replace(/\/+$/, ''))
      .optional(),
    NIXA_HOST: z.string().min(1).default('127.0.0.1'),
    PORT: z.coerce.number({ error: 'a TCP port (1-65535)' }).int().min(0).max(65535, 'a TCP port (1-65535)').default(3000),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'a postgres:// connection URL')
      .optional(),
    NIXA_DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
    NIXA_SHORT_LIVED_STORE: z.enum(['postgres', 'redis'], { error: 'postgres or redis' }).default('postgres'),
    NIXA_REDIS_URL: z
      .string()
      .regex(/^rediss?:\/\//, 'a redis:// or rediss:// connection URL')
      .optional(),
    NIXA_REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'letters, digits and _.:- (at most 64), e.g. nixa:').default('nixa:'),
    NIXA_DATA_DIR: z.string().min(1).default('./data'),
    NIXA_MASTER_KEY: z
      .string()
      .refine((v) => Buffer.from(v, 'base64').length === 32, {
        message: '32 bytes encoded in base64 (generate one with: openssl rand -base64 32)',
      })
      .optional(),
    NIXA_MASTER_KEY_FILE: z.string().min(1).optional(),
    NIXA_LOG_LEVEL: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
        error: 'one of fatal, error, warn, info, debug, trace, silent',
      })
      .default('info'),
    NIXA_TRUST_PROXY: flag(false),
    NIXA_TEST_LOGIN: flag(false),
    // RFC 9449 §8: DPoP proofs must carry a nonce nixa handed out (use_dpop_nonce), so a
    // proof made ahead of time on a stolen key is worthless. Costs a client one extra round trip.
    NIXA_DPOP_NONCE: flag(false),
    // Unset: on outside production, off in production (which refuses it), so that
    // the documented container run needs no NIXA_DEMO=false.
    NIXA_DEMO: boolean.optional(),

    NIXA_TTL_SESSION: seconds(8 * 3600),
    NIXA_TTL_INTERACTION: seconds(600),
    NIXA_TTL_GRANT: seconds(14 * DAY),
    NIXA_TTL_AUTHORIZATION_CODE: seconds(60),
    NIXA_TTL_ACCESS_TOKEN: seconds(600),
    NIXA_TTL_ID_TOKEN: seconds(600),
    NIXA_TTL_REFRESH_TOKEN: seconds(14 * DAY),
    NIXA_TTL_CLIENT_CREDENTIALS: seconds(300),
    NIXA_TTL_PUSHED_AUTHORIZATION_REQUEST: seconds(60),
    NIXA_TTL_BACKCHANNEL_AUTHENTICATION_REQUEST: seconds(600),

    NIXA_SIGNING_ALGS: z
      .string()
      .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
      .pipe(
        z
          .array(z.enum(SIGNING_ALGS, { error: `a comma-separated list of ${SIGNING_ALGS.join(', ')}` }))
          .min(1, 'at least one algorithm')
          .refine((a) => a.includes('RS256'), {
            message: 'must include RS256 (the OpenID Connect default every relying party supports)',
          }),
      )
      .default(['ES256', 'RS256']),
    NIXA_KEY_ROTATION_DAYS: z.coerce.number().positive('a positive number of days').default(30),
    NIXA_COOKIE_KEY_ROTATION_DAYS: z.coerce.number().positive('a positive number of days').default(30),
    NIXA_KEYS_REFRESH_SECONDS: seconds(10),
    // Where signing keys live (src/keys/pkcs11.ts): in the database under the
    // master key, or generated inside a PKCS#11 token (an HSM) that never lets them out.
    NIXA_KEY_BACKEND: z.enum(['software', 'pkcs11'], { error: 'software or pkcs11' }).default('software'),
    NIXA_PKCS11_MODULE: z
      .string()
      .min(1)
      .refine((v) => isAbsolute(v), { message: 'the absolute path of the PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so' })
      .optional(),
    NIXA_PKCS11_TOKEN_LABEL: z.string().min(1).max(32, 'a token label of at most 32 characters').optional(),
    NIXA_PKCS11_SLOT: z.coerce.number({ error: 'a slot number' }).int('a slot number').min(0, 'a slot number').optional(),
    NIXA_PKCS11_PIN: z.string().min(1).optional(),
    NIXA_PKCS11_PIN_FILE: z.string().min(1).optional(),
    NIXA_SOURCE_HEALTH_SECONDS: seconds(30),
    NIXA_PURGE_INTERVAL_SECONDS: seconds(60),
    NIXA_PURGE_BATCH_SIZE: z.coerce.number().int().min(1).max(100_000).default(1000),
    NIXA_AUDIT_CHECKPOINT_SECONDS: seconds(600).pipe(z.number().min(10, 'at least 10 seconds').max(DAY, 'at most 86400 seconds (a day)')),
    NIXA_SHUTDOWN_GRACE_SECONDS: seconds(10),
    NIXA_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(300).default(15),
    NIXA_ASSURANCE_POLICY_FILE: z.string().min(1).optional(),
    NIXA_PASSKEY_RP_ID: z.string().min(1).optional(),
    NIXA_PASSKEY_ORIGINS: z.string().min(1).optional(),
    NIXA_METRICS_TOKEN: z.string().min(24, 'at least 24 characters (a random bearer token for the Prometheus scraper)').optional(),

    // Who runs this nixa and where citizens find help: the footer of every page
    // (src/pages/footer.ts). The defaults suit the demo; the links default to
    // plain pages nixa serves itself.
    NIXA_AGENCY_NAME: agencyName('Đơn vị vận hành nixa (bản trình diễn)'),
    NIXA_AGENCY_NAME_EN: agencyName('nixa operator (demonstration)'),
    NIXA_CONTACT_EMAIL: z
      .string()
      .regex(/^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+$/, 'an email address such as hotro@dinhdanh.gov.vn')
      .default('hotro@nixa.example'),
    NIXA_CONTACT_PHONE: z
      .string()
      .regex(/^\+?[0-9][0-9 .-]{2,19}$/, 'a telephone number: digits, spaces, dots or dashes, optionally starting with +, e.g. 1900 0368')
      .optional(),
    NIXA_HELP_URL: pageLink('/help'),
    NIXA_PRIVACY_URL: pageLink('/privacy'),
    NIXA_ACCESSIBILITY_URL: pageLink('/accessibility'),
    NIXA_TERMS_URL: pageLink('/terms'),

    // Web Push to a citizen's bound phone (src/push). The subject is who push
    // services contact about nixa's messages (RFC 8292 §2.1): by default the
    // agency's contact email.
    NIXA_PUSH_SUBJECT: z
      .string()
      .max(2000, 'at most 2000 characters')
      .refine(isPushSubject, { message: 'a mailto: address or an https:// URL of the operating agency, e.g. mailto:hotro@dinhdanh.gov.vn' })
      .optional(),
    NIXA_PUSH_TIMEOUT_SECONDS: seconds(5).pipe(z.number().max(30, 'at most 30 seconds (a push that slow would hold a sign-in)')),
    // Only for tests and a developer's machine: a push service on http://127.0.0.1.
    NIXA_PUSH_INSECURE_ENDPOINTS: flag(false),
  })
  .superRefine((c, ctx) => {
    if (c.NIXA_SHORT_LIVED_STORE === 'redis' && !c.NIXA_REDIS_URL) {
      ctx.addIssue({ code: 'custom', path: ['NIXA_REDIS_URL'], message: 'is required when NIXA_SHORT_LIVED_STORE=redis (e.g. redis://127.0.0.1:6379)' });
    }
    if (c.NIXA_ENV === 'production') {
      if (c.NIXA_TEST_LOGIN) {
        ctx.addIssue({ code: 'custom', path: ['NIXA_TEST_LOGIN'], message: 'cannot be enabled when NIXA_ENV=production' });
      }
      if (!c.DATABASE_URL) {
        ctx.addIssue({ code: 'custom', path: ['DATABASE_URL'], message: 'is required when NIXA_ENV=production (the embedded database is for development)' });
      }
      if (!c.NIXA_MASTER_KEY && !c.NIXA_MASTER_KEY_FILE) {
        ctx.addIssue({ code: 'custom', path: ['NIXA_MASTER_KEY'], message: 'is required when NIXA_ENV=production (or set NIXA_MASTER_KEY_FILE)' });
      }
      if (!c.NIXA_ISSUER?.startsWith('https://')) {
        ctx.addIssue({ code: 'custom', path: ['NIXA_ISSUER'], message: 'must be an https:// URL when NIXA_ENV=production' });
      }
      if (c.NIXA_DEMO) {
        ctx.addIssue({ code: 'custom', path: ['NIXA_DEMO'], message: 'must be false when NIXA_ENV=production' });
      }
      if (c.NIXA_PUSH_INSECURE_ENDPOINTS) {
        ctx.addIssue({ code: 'custom', path: ['NIXA_PUSH_INSECURE_ENDPOINTS'], message: 'cannot be enabled when NIXA_ENV=production' });
      }
    }
    if (c.NIXA_KEY_BACKEND === 'pkcs11') {
      const need = (name: keyof typeof c, message: string) => ctx.addIssue({ code: 'custom', path: [name], message });
      if (!c.NIXA_PKCS11_MODULE) need('NIXA_PKCS11_MODULE', 'is required when NIXA_KEY_BACKEND=pkcs11 (e.g. /usr/lib/softhsm/libsofthsm2.so)');
      if (!c.NIXA_PKCS11_TOKEN_LABEL && c.NIXA_PKCS11_SLOT === undefined) {
        need('NIXA_PKCS11_TOKEN_LABEL', 'is required when NIXA_KEY_BACKEND=pkcs11 (the label of the token holding the keys, or set NIXA_PKCS11_SLOT)');
      }
      if (c.NIXA_PKCS11_TOKEN_LABEL && c.NIXA_PKCS11_SLOT !== undefined) need('NIXA_PKCS11_SLOT', 'cannot be set together with NIXA_PKCS11_TOKEN_LABEL; choose one');
      if (!c.NIXA_PKCS11_PIN && !c.NIXA_PKCS11_PIN_FILE) need('NIXA_PKCS11_PIN', 'is required when NIXA_KEY_BACKEND=pkcs11 (or set NIXA_PKCS11_PIN_FILE)');
      if (c.NIXA_PKCS11_PIN && c.NIXA_PKCS11_PIN_FILE) need('NIXA_PKCS11_PIN_FILE', 'cannot be set together with NIXA_PKCS11_PIN; choose one');
    }
    if (c.NIXA_MASTER_KEY && c.NIXA_MASTER_KEY_FILE) {
      ctx.addIssue({ code: 'custom', path: ['NIXA_MASTER_KEY_FILE'], message: 'cannot be set together with NIXA_MASTER_KEY; choose one' });
    }
  });

export type RawConfig = z.input<typeof schema>;

export interface Ttl {
  Session: number;
  Interaction: number;
  Grant: number;
  AuthorizationCode: number;
  AccessToken: number;
  IdToken: number;
  RefreshToken: number;
  ClientCredentials: number;
  PushedAuthorizationRequest: number;
  BackchannelAuthenticationRequest: number;
}

export interface Config {
  env: 'development' | 'test' | 'production';
  issuer: string;
  host: string;
  port: number;
  database: { kind: 'postgres'; url: string; poolSize: number } | { kind: 'embedded'; dataDir: string };
  /**
   * Where protocol state that lives minutes (interactions, codes, access tokens,
   * upstream logins in flight, replay records) is kept: UNLOGGED tables of the
   * database, or a Redis shared by every instance (src/protocol/short-lived.ts).
   */
  shortLived: { kind: 'postgres' } | { kind: 'redis'; url: string };
  /** What every key nixa writes to Redis begins with (several deployments can share one Redis). */
  redisPrefix: string;
  dataDir: string;
  masterKey: { kind: 'value'; base64: string } | { kind: 'file'; path: string; createIfMissing: boolean };
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  trustProxy: boolean;
  testLogin: boolean;
  /** Every DPoP proof must carry a nonce nixa provided (RFC 9449 §8). */
  dpopNonce: boolean;
  demo: boolean;
  ttl: Ttl;
  keys: {
    signingAlgs: SigningAlg[];
    rotationSeconds: number;
    cookieRotationSeconds: number;
    refreshSeconds: number;
    /** Where signing keys are generated and used; cookie keys are always software keys. */
    backend: KeyBackendConfig;
  };
  purge: { intervalSeconds: number; batchSize: number };
  /** How often a signed checkpoint of the audit trail is made (when there are new events). */
  audit: { checkpointSeconds: number };
  /** How often each instance checks that identity sources answer. */
  sourceHealthSeconds: number;
  shutdownGraceSeconds: number;
  clockToleranceSeconds: number;
  /** What sessions are worth: factors, their amr values and levels, combinations (built in, or NIXA_ASSURANCE_POLICY_FILE). */
  assurance: AssurancePolicy;
  /**
   * Where passkeys are valid (WebAuthn RP ID and the origins of nixa's pages);
   * undefined when the issuer is an IP address and no RP ID is configured, since
   * an IP address cannot be an RP ID: nixa then offers no passkeys.
   */
  passkeys: PasskeyConfig | undefined;
  /** The bearer token Prometheus must send to GET /metrics; unset: loopback only, and nothing in production. */
  metricsToken: string | undefined;
  /** Who runs this nixa and where citizens find help, on every page. */
  service: ServiceIdentity;
  /** Web Push to bound phones (src/push). */
  push: PushConfig;
}

/**
 * The key backend (NIXA_KEY_BACKEND). For pkcs11, the token is found by label or
 * slot; the PIN is read when the token is opened, through read(), so that the
 * value never appears when the configuration is printed or logged.
 */
export type KeyBackendConfig =
  | { kind: 'software' }
  | {
      kind: 'pkcs11';
      module: string;
      token: { label: string } | { slot: number };
      pin: { from: 'NIXA_PKCS11_PIN' | 'NIXA_PKCS11_PIN_FILE'; path?: string; read: () => string };
    };

function pkcs11Pin(value: string | undefined, file: string | undefined): Extract<KeyBackendConfig, { kind: 'pkcs11' }>['pin'] {
  if (value !== undefined) return { from: 'NIXA_PKCS11_PIN', read: () => value };
  const path = file!;
  return {
    from: 'NIXA_PKCS11_PIN_FILE',
    path,
    read: () => {
      try {
        return readFileSync(path, 'utf8').trim();
      } catch (err) {
        throw new ConfigError('NIXA_PKCS11_PIN_FILE', `a readable file holding the token's user PIN (${(err as Error).message})`);
      }
    },
  };
}

export interface PushConfig {
  /** The VAPID subject: a mailto: or https: contact of the operating agency (RFC 8292 §2.1). */
  subject: string;
  /** How long one push may take before nixa gives up on it (the sign-in goes on without it). */
  timeoutMs: number;
  /** Whether http://127.0.0.1, http://[::1] and http://localhost endpoints are accepted (tests, development). */
  allowInsecureEndpoints: boolean;
}

/** The operating agency and its links (NIXA_AGENCY_NAME … NIXA_TERMS_URL). */
export interface ServiceIdentity {
  agency: { vi: string; en: string };
  contactEmail: string;
  contactPhone: string | undefined;
  /** Each an https:// URL or a path on this site. */
  helpUrl: string;
  privacyUrl: string;
  accessibilityUrl: string;
  termsUrl: string;
}

export interface PasskeyConfig {
  rpId: string;
  rpName: string;
  origins: string[];
}

const DOMAIN = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;
const isIpAddress = (host: string) => /^[0-9.]+$/.test(host) || host.includes(':') || host.startsWith('[');

/**
 * The passkey settings from NIXA_PASSKEY_RP_ID and NIXA_PASSKEY_ORIGINS, by
 * default the issuer's host name and origin. A browser accepts a passkey only on
 * an origin whose host is the RP ID or under it, over https (or http on localhost).
 */
export function passkeyConfig(
  issuer: string,
  env: Config['env'],
  rpIdInput: string | undefined,
  originsInput: string | undefined,
): PasskeyConfig | undefined {
  const issuerUrl = new URL(issuer);
  const rpId = (rpIdInput ?? issuerUrl.hostname).toLowerCase();
  if (!rpIdInput && isIpAddress(rpId)) {
    if (originsInput) throw new ConfigError('NIXA_PASSKEY_RP_ID', 'is required with NIXA_PASSKEY_ORIGINS when the issuer is an IP address');
    return undefined;
  }
  if (isIpAddress(rpId) || !DOMAIN.test(rpId)) {
    throw new ConfigError('NIXA_PASSKEY_RP_ID', `a domain name such as id.gov.vn, not an IP address or a URL (got "${rpIdInput}")`);
  }
  const origins = (originsInput ?? issuerUrl.origin).split(',').map((o) => o.trim()).filter(Boolean);
  if (!origins.length) throw new ConfigError('NIXA_PASSKEY_ORIGINS', 'a comma-separated list of origins such as https://id.gov.vn');
  for (const o of origins) {
    let u: URL;
    try {
      u = new URL(o);
    } catch {
      throw new ConfigError('NIXA_PASSKEY_ORIGINS', `"${o}" is not an origin such as https://id.gov.vn`);
    }
    if (u.origin !== o) throw new ConfigError('NIXA_PASSKEY_ORIGINS', `"${o}" must be an origin only: scheme, host and port, no path or slash (${u.origin})`);
    const httpOk = u.protocol === 'http:' && u.hostname === 'localhost' && env !== 'production';
    if (u.protocol !== 'https:' && !httpOk) {
      throw new ConfigError('NIXA_PASSKEY_ORIGINS', `"${o}" must use https${env === 'production' ? '' : ' (http only on localhost)'}`);
    }
    if (u.hostname !== rpId && !u.hostname.endsWith(`.${rpId}`)) {
      throw new ConfigError('NIXA_PASSKEY_ORIGINS', `"${o}" is not on the RP ID ${rpId} or a subdomain of it (NIXA_PASSKEY_RP_ID)`);
    }
  }
  return { rpId, rpName: 'nixa', origins: [...new Set(origins)] };
}

/** Variables nixa reads, for documentation checks and `nixa config`. */
export const CONFIG_VARIABLES = Object.keys(schema.shape) as (keyof RawConfig)[];

function readConfigFile(path: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError('NIXA_CONFIG_FILE', `a readable JSON file (${(err as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError('NIXA_CONFIG_FILE', 'a JSON object of VARIABLE: value pairs (the file is not valid JSON)');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError('NIXA_CONFIG_FILE', 'a JSON object of VARIABLE: value pairs');
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed)) {
    if (!(CONFIG_VARIABLES as string[]).includes(k)) {
      throw new ConfigError(`NIXA_CONFIG_FILE: ${k}`, `one of the documented variables (unknown name "${k}")`);
    }
    out[k] = Array.isArray(v) ? v.join(',') : String(v);
  }
  return out;
}

/** The assurance policy file, validated whole; the error names the field inside it. */
function readAssurancePolicy(path: string): AssurancePolicy {
  const variable = 'NIXA_ASSURANCE_POLICY_FILE';
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(variable, `a readable JSON file (${(err as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError(variable, 'a JSON assurance policy (the file is not valid JSON)');
  }
  const result = parseAssurancePolicy(parsed);
  if (!result.ok) {
    const [first, ...others] = result.issues.map((i) => `${i.field}: ${i.message}`);
    throw new ConfigError(variable, `is not a valid assurance policy (${path}): ${first}`, others);
  }
  return result.policy;
}

/**
 * Parse and validate configuration. Variables from the environment win over the
 * file named by NIXA_CONFIG_FILE. Throws a ConfigError naming the first bad variable.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const fromFile = env.NIXA_CONFIG_FILE ? readConfigFile(resolve(cwd, env.NIXA_CONFIG_FILE)) : {};
  const input: Record<string, string> = { ...fromFile };
  for (const key of CONFIG_VARIABLES) {
    const v = env[key];
    // An empty variable counts as unset, as in most shells' `VAR= cmd`.
    if (v !== undefined && v !== '') input[key] = v;
  }

  const result = schema.safeParse(input);
  if (!result.success) {
    const issues = result.error.issues.map((i) => {
      const name = String(i.path[0] ?? 'configuration');
      return { name, message: i.message, got: input[name] };
    });
    const first = issues[0]!;
    throw new ConfigError(first.name, first.message, issues.slice(1).map((i) => `${i.name}: ${i.message}`));
  }
  const c = result.data;
  const port = c.PORT;
  const dataDir = isAbsolute(c.NIXA_DATA_DIR) ? c.NIXA_DATA_DIR : resolve(cwd, c.NIXA_DATA_DIR);
  const issuer = c.NIXA_ISSUER ?? `http://localhost:${port}`;

  return {
    env: c.NIXA_ENV,
    issuer,
    host: c.NIXA_HOST,
    port,
    database: c.DATABASE_URL
      ? { kind: 'postgres', url: c.DATABASE_URL, poolSize: c.NIXA_DATABASE_POOL_SIZE }
      : { kind: 'embedded', dataDir: resolve(dataDir, 'pglite') },
    shortLived: c.NIXA_SHORT_LIVED_STORE === 'redis' ? { kind: 'redis', url: c.NIXA_REDIS_URL! } : { kind: 'postgres' },
    redisPrefix: c.NIXA_REDIS_PREFIX,
    dataDir,
    masterKey: c.NIXA_MASTER_KEY
      ? { kind: 'value', base64: c.NIXA_MASTER_KEY }
      : {
          kind: 'file',
          path: c.NIXA_MASTER_KEY_FILE ? resolve(cwd, c.NIXA_MASTER_KEY_FILE) : resolve(cwd, 'keys', 'master.key'),
          // Only a development machine may mint its own master key; a production
          // deployment must be given one, or it would silently encrypt under a key
          // nobody backed up.
          createIfMissing: c.NIXA_ENV !== 'production',
        },
    logLevel: c.NIXA_LOG_LEVEL,
    trustProxy: c.NIXA_TRUST_PROXY,
    testLogin: c.NIXA_TEST_LOGIN,
    dpopNonce: c.NIXA_DPOP_NONCE,
    demo: c.NIXA_DEMO ?? c.NIXA_ENV !== 'production',
    ttl: {
      Session: c.NIXA_TTL_SESSION,
      Interaction: c.NIXA_TTL_INTERACTION,
      Grant: c.NIXA_TTL_GRANT,
      AuthorizationCode: c.NIXA_TTL_AUTHORIZATION_CODE,
      AccessToken: c.NIXA_TTL_ACCESS_TOKEN,
      IdToken: c.NIXA_TTL_ID_TOKEN,
      RefreshToken: c.NIXA_TTL_REFRESH_TOKEN,
      ClientCredentials: c.NIXA_TTL_CLIENT_CREDENTIALS,
      PushedAuthorizationRequest: c.NIXA_TTL_PUSHED_AUTHORIZATION_REQUEST,
      BackchannelAuthenticationRequest: c.NIXA_TTL_BACKCHANNEL_AUTHENTICATION_REQUEST,
    },
    keys: {
      signingAlgs: [...new Set(c.NIXA_SIGNING_ALGS)],
      rotationSeconds: Math.round(c.NIXA_KEY_ROTATION_DAYS * DAY),
      cookieRotationSeconds: Math.round(c.NIXA_COOKIE_KEY_ROTATION_DAYS * DAY),
      refreshSeconds: c.NIXA_KEYS_REFRESH_SECONDS,
      backend:
        c.NIXA_KEY_BACKEND === 'pkcs11'
          ? {
              kind: 'pkcs11',
              module: c.NIXA_PKCS11_MODULE!,
              token: c.NIXA_PKCS11_TOKEN_LABEL ? { label: c.NIXA_PKCS11_TOKEN_LABEL } : { slot: c.NIXA_PKCS11_SLOT! },
              pin: pkcs11Pin(c.NIXA_PKCS11_PIN, c.NIXA_PKCS11_PIN_FILE && resolve(cwd, c.NIXA_PKCS11_PIN_FILE)),
            }
          : { kind: 'software' },
    },
    purge: { intervalSeconds: c.NIXA_PURGE_INTERVAL_SECONDS, batchSize: c.NIXA_PURGE_BATCH_SIZE },
    audit: { checkpointSeconds: c.NIXA_AUDIT_CHECKPOINT_SECONDS },
    sourceHealthSeconds: c.NIXA_SOURCE_HEALTH_SECONDS,
    shutdownGraceSeconds: c.NIXA_SHUTDOWN_GRACE_SECONDS,
    clockToleranceSeconds: c.NIXA_CLOCK_TOLERANCE_SECONDS,
    assurance: c.NIXA_ASSURANCE_POLICY_FILE ? readAssurancePolicy(resolve(cwd, c.NIXA_ASSURANCE_POLICY_FILE)) : DEFAULT_POLICY,
    passkeys: passkeyConfig(issuer, c.NIXA_ENV, c.NIXA_PASSKEY_RP_ID, c.NIXA_PASSKEY_ORIGINS),
    metricsToken: c.NIXA_METRICS_TOKEN,
    service: {
      agency: { vi: c.NIXA_AGENCY_NAME, en: c.NIXA_AGENCY_NAME_EN },
      contactEmail: c.NIXA_CONTACT_EMAIL,
      contactPhone: c.NIXA_CONTACT_PHONE,
      helpUrl: c.NIXA_HELP_URL,
      privacyUrl: c.NIXA_PRIVACY_URL,
      accessibilityUrl: c.NIXA_ACCESSIBILITY_URL,
      termsUrl: c.NIXA_TERMS_URL,
    },
    push: {
      subject: c.NIXA_PUSH_SUBJECT ?? `mailto:${c.NIXA_CONTACT_EMAIL}`,
      timeoutMs: c.NIXA_PUSH_TIMEOUT_SECONDS * 1000,
      allowInsecureEndpoints: c.NIXA_PUSH_INSECURE_ENDPOINTS,
    },
  };
}

/**
 * How long a signing key must stay published after it stops signing: the longest
 * lifetime of anything it signs (ID tokens; JWT-formatted access tokens later),
 * plus clock tolerance, so that a relying party can still verify the last token.
 */
export function signedArtifactMaxLifetime(config: Config): number {
  return Math.max(config.ttl.IdToken, config.ttl.AccessToken, config.ttl.ClientCredentials) + config.clockToleranceSeconds;
}
