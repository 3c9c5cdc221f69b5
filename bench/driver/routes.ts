// A load balancer without stickiness, inside the driver: requests for an issuer
// served by several instances (TargetInfo.instances) go to each instance in turn.
// Cookies stay keyed by the issuer's origin (browser.ts), as a browser in front
// of a real load balancer would keep them, so a sign-in whose steps land on
// different instances works only if the instances share all of its state.
import type { TargetInfo } from '../protocol.js';

const routes = new Map<string, string[]>();
let next = 0;

/** Routes the job's target: only one job runs at a time in the driver. */
export function routeTarget(target: TargetInfo): void {
  routes.clear();
  if (target.instances?.length) routes.set(new URL(target.origin).origin, target.instances);
}

/** A fresh starting point for a browser's alternation, so that loops do not move in step. */
export const nextTurn = (): number => next++;

/**
 * The address that serves `url`: itself, or for a spread issuer the instance
 * whose turn it is (`turn` given: a browser's own alternation; else round robin).
 */
export function routed(url: URL, turn: number = next++): URL {
  const instances = routes.get(url.origin);
  if (!instances) return url;
  const to = new URL(url);
  const instance = new URL(instances[turn % instances.length]!);
  to.host = instance.host;
  return to;
}

/** The addresses autocannon spreads its connections over for `path` at `origin`. */
export function routedUrls(origin: string, path: string): string | string[] {
  const instances = routes.get(new URL(origin).origin);
  return instances ? instances.map((i) => new URL(path, i).toString()) : new URL(path, origin).toString();
}
