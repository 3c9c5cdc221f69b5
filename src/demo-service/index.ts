// The demo public service ("Cổng dịch vụ công mẫu"): a small, real relying party
// that `npm start` runs beside nixa in development, so that a sign-in can be
// tried end to end. It is registered by seedDemo (src/app/demo.ts) and talks to
// nixa only over HTTP, exactly as a public service would.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { DemoCredentials } from '../app/demo.js';
import type { Logger } from '../logging/index.js';
import { createDemoApp } from './app.js';
import { NixaClient } from './nixa-client.js';

export interface DemoServiceOptions {
  /** nixa's issuer identifier (discovery starts there). */
  issuer: string;
  /** The demo client's registration, as seedDemo returns it. */
  credentials: DemoCredentials;
  /** Port to listen on; defaults to the port of credentials.origin, which the redirect URI names. */
  port?: number;
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  logger: Logger;
  /** Seconds to wait for nixa on each request (default 5). */
  timeoutSeconds?: number;
}

export interface DemoService {
  /** Where a browser should open the demo: the origin its redirect URI names. */
  url: string;
  /** The address actually listened on. */
  listening: string;
  close(): Promise<void>;
}

export async function startDemoService(opts: DemoServiceOptions): Promise<DemoService> {
  const { issuer, credentials } = opts;
  const logger = opts.logger.child({ component: 'demo-service' });
  const origin = new URL(credentials.origin);
  const port = opts.port ?? Number(origin.port || 80);
  const host = opts.host ?? '127.0.0.1';

  const nixa = new NixaClient({
    issuer,
    clientId: credentials.clientId,
    privateJwk: credentials.privateJwk,
    logger,
    timeoutSeconds: opts.timeoutSeconds ?? 5,
  });
  const app = createDemoApp({ issuer, credentials, nixa, logger });

  const server = createServer(app.callback());
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const listening = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
  if (addr.port !== Number(origin.port || 80)) {
    logger.warn({ listening, redirectUri: credentials.redirectUri }, 'demo service: listening on a port its redirect URI does not name');
  }
  logger.info({ url: origin.origin, listening, issuer }, 'demo service listening');
  // Discover in the background so the first page is quick; failures are retried on demand.
  void nixa.get();

  let closing: Promise<void> | undefined;
  return {
    url: origin.origin,
    listening,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 2_000).unref();
      }).then(() => logger.info('demo service stopped'))),
  };
}
