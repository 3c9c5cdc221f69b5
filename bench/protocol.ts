// What the orchestrator (run.ts) and the load driver (driver/main.ts) say to each
// other over the child_process IPC channel. Plain JSON: no functions, no classes.

export type ScenarioName =
  | 'discovery'
  | 'jwks'
  | 'client_credentials'
  | 'authorization_code'
  | 'sso_sign_in'
  | 'refresh'
  | 'userinfo'
  | 'introspection'
  | 'federated_sign_in'
  | 'cross_device'
  | 'fapi2_sign_in';

/** The scenarios nixa and the bare baseline both run, compared nixa/baseline. */
export const SCENARIOS = [
  'discovery',
  'jwks',
  'client_credentials',
  'authorization_code',
  'sso_sign_in',
  'refresh',
  'userinfo',
  'introspection',
] as const satisfies readonly ScenarioName[];

export type ComparedScenario = (typeof SCENARIOS)[number];

/** Whole sign-ins, by concurrent users (sign-in loops). */
export type SignInScenario = Extract<ScenarioName, 'authorization_code' | 'sso_sign_in' | 'federated_sign_in'>;

export const isSignIn = (s: ScenarioName): s is SignInScenario => s === 'authorization_code' || s === 'sso_sign_in' || s === 'federated_sign_in';

/** Driven by loops that each wait for their answer before the next request (the rest by autocannon). */
export type LoopScenario = SignInScenario | 'refresh' | 'cross_device' | 'fapi2_sign_in';

export const isLoop = (s: ScenarioName): s is LoopScenario => isSignIn(s) || s === 'refresh' || s === 'cross_device' || s === 'fapi2_sign_in';

/**
 * How the computer learns that the phone approved (cross_device):
 *   page       as the waiting page's script does: a status request POLL_MILLISECONDS
 *              after the page loaded and after each answer, the phone approving at a
 *              random moment of that cycle (the citizen's own time on the phone)
 *   immediate  one status request the moment the approval returns: nixa's own part
 *              (status, finish, resume), without the interval
 */
export type CrossDevicePoll = 'page' | 'immediate';

/**
 * nixa's side of the federated sign-in: an upstream identity source registered in
 * nixa, the seeded citizens it lets the picker choose, and a service asking for
 * attributes that need the citizen's consent. Only nixa has one.
 */
export interface FederationInfo {
  /** nixa's id of the source: the chooser button's value. */
  sourceId: string;
  /** http://127.0.0.1:<port>, the source's issuer. */
  sourceOrigin: string;
  /** Picker keys of the citizens the source knows; loop i signs in citizens[i % length]. */
  citizens: string[];
  /** A confidential service registered with `scope`, so that consent is asked once per citizen. */
  client: { clientId: string; secret: string; redirectUri: string };
  scope: string;
}

/**
 * nixa's FAPI 2.0 service (issue 15): registered `fapi2`, authenticating with
 * private_key_jwt by the key whose private half is given here (a throw-away key of
 * the run, passed to the driver, which plays the service). Only nixa has one.
 */
export interface Fapi2ClientInfo {
  clientId: string;
  redirectUri: string;
  /** The service's client-authentication key, private JWK with its kid and alg. */
  privateJwk: Record<string, unknown>;
  scope: string;
  /** As registered (a fapi2 service's default: nixa's first FAPI algorithm), for openid-client to expect. */
  idTokenSigningAlg: string;
}

/** A provider under test, as the driver needs to know it. */
export interface TargetInfo {
  /** "federated baseline": the bare provider federating to a bare upstream (targets/bare-federated.ts). */
  name: 'nixa' | 'baseline' | 'federated baseline';
  /** http://127.0.0.1:<port>, which is also the issuer. */
  origin: string;
  /** Confidential relying party for the authorization-code round trip. */
  webClient: { clientId: string; secret: string; redirectUri: string };
  /** Confidential client allowed only the client_credentials grant. */
  serviceClient: { clientId: string; secret: string };
  federation?: FederationInfo;
  /** nixa only: the FAPI 2.0 service of fapi2_sign_in. */
  fapi2?: Fapi2ClientInfo;
  /**
   * nixa only: where its passkeys are valid, for the software authenticator of the
   * cross-device sign-in's phones (WebAuthn signs the RP ID and the page's origin).
   */
  passkeys?: { rpId: string; origin: string };
  /**
   * Several instances serving this one issuer (bench/two-instances.ts): the
   * driver sends each request for `origin` to one of these addresses in turn, as
   * a load balancer without stickiness would, so that the requests of one
   * sign-in land on different instances (driver/routes.ts).
   */
  instances?: string[];
}

/** Every job stops by itself: after a number of seconds or of completed operations. */
export type Limit = { seconds: number } | { count: number };

export interface Job {
  scenario: ScenarioName;
  target: TargetInfo;
  /** Connections for a single-request scenario, sign-in loops for the round trips. */
  concurrency: number;
  limit: Limit;
  /**
   * federated_sign_in only. Seeding: operation n signs citizens[n] in for the first
   * time and must meet (and accept) nixa's consent page. Otherwise a consent page
   * fails the sign-in: the citizens are returning ones whose consent is remembered.
   */
  seedConsent?: boolean;
  /** cross_device only: how the computer follows the phone. */
  poll?: CrossDevicePoll;
  /**
   * authorization_code only: the service then calls userinfo once with the access
   * token (Bearer), as fapi2_sign_in does with DPoP, so that the two compare like for like.
   */
  userinfo?: boolean;
}

export interface Measurement {
  /** Operations that succeeded: HTTP requests, or whole sign-ins for the round trips. */
  completed: number;
  seconds: number;
  perSecond: number;
  /** Of each operation's time; cross_device: of the time from the phone's approval to the computer continuing. */
  p50Ms: number;
  p99Ms: number;
}

export type DriverReply = { ok: true; measurement: Measurement } | { ok: false; error: string };
