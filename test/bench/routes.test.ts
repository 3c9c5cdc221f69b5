import { describe, expect, it } from '@jest/globals';

import { routed, routedUrls, routeTarget } from '../../bench/driver/routes.js';
import type { TargetInfo } from '../../bench/protocol.js';

const target = (instances?: string[]): TargetInfo => ({
  name: 'nixa',
  origin: 'http://127.0.0.1:4000',
  webClient: { clientId: 'web', secret: 's', redirectUri: 'http://127.0.0.1:9/cb' },
  serviceClient: { clientId: 'svc', secret: 's' },
  ...(instances ? { instances } : {}),
});

describe('the driver spreading an issuer over instances', () => {
  it('sends consecutive turns of a browser to different instances, keeping path and query', () => {
    routeTarget(target(['http://127.0.0.1:4000', 'http://127.0.0.1:4001']));
    const url = new URL('http://127.0.0.1:4000/interaction/abc/login?x=1');
    expect(routed(url, 6).href).toBe('http://127.0.0.1:4000/interaction/abc/login?x=1');
    expect(routed(url, 7).href).toBe('http://127.0.0.1:4001/interaction/abc/login?x=1');
  });

  it('leaves other origins (the identity source) alone', () => {
    routeTarget(target(['http://127.0.0.1:4000', 'http://127.0.0.1:4001']));
    const source = new URL('http://127.0.0.1:5000/auth');
    expect(routed(source, 1).href).toBe(source.href);
  });

  it('routes nothing for a single-instance target, and gives autocannon one URL', () => {
    routeTarget(target(['http://127.0.0.1:4000', 'http://127.0.0.1:4001']));
    routeTarget(target());
    expect(routed(new URL('http://127.0.0.1:4000/token'), 1).href).toBe('http://127.0.0.1:4000/token');
    expect(routedUrls('http://127.0.0.1:4000', '/token')).toBe('http://127.0.0.1:4000/token');
  });

  it('gives autocannon every instance', () => {
    routeTarget(target(['http://127.0.0.1:4000', 'http://127.0.0.1:4001']));
    expect(routedUrls('http://127.0.0.1:4000', '/token')).toEqual(['http://127.0.0.1:4000/token', 'http://127.0.0.1:4001/token']);
  });
});
