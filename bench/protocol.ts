// What the orchestrator (run.ts) and the load driver (driver/main.ts) say to each
// other over the child_process IPC channel. Plain JSON: no functions, no classes.

export type ScenarioName = 'discovery' | 'jwks' | 'client_credentials' | 'authorization_code';

export const SCENARIOS: readonly ScenarioName[] = ['discovery', 'jwks', 'client_credentials', 'authorization_code'];

/** A provider under test, as the driver needs to know it. */
export interface TargetInfo {
  name: 'nixa' | 'baseline';
  /** http://127.0.0.1:<port>, which is also the issuer. */
  origin: string;
  /** Confidential relying party for the authorization-code round trip. */
  webClient: { clientId: string; secret: string; redirectUri: string };
  /** Confidential client allowed only the client_credentials grant. */
  serviceClient: { clientId: string; secret: string };
}

/** Every job stops by itself: after a number of seconds or of completed operations. */
export type Limit = { seconds: number } | { count: number };

export interface Job {
  scenario: ScenarioName;
  target: TargetInfo;
  /** Connections for a single-request scenario, sign-in loops for the round trip. */
  concurrency: number;
  limit: Limit;
}

export interface Measurement {
  /** Operations that succeeded: HTTP requests, or whole sign-ins for the round trip. */
  completed: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

export type DriverReply = { ok: true; measurement: Measurement } | { ok: false; error: string };
