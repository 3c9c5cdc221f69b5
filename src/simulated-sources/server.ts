// The HTTP server every simulated party (the identity sources, the business
// registry) runs on: listening first, since with port 0 the issuer's port is known
// only once bound, and closing without waiting on a request held by "delay".
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SimulatedServer {
  server: Server;
  /** e.g. http://localhost:4001 — the name the issuer uses. */
  issuer: string;
  /** The address actually listened on, e.g. http://127.0.0.1:4001. */
  url: string;
  /** Stops listening (once; later calls get the same promise), then runs `after`. */
  close(): Promise<void>;
}

export async function listenSimulated(o: { port?: number | undefined; host?: string | undefined; issuerHost?: string | undefined }, after: () => void): Promise<SimulatedServer> {
  const server = createServer();
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    server,
    issuer: `http://${o.issuerHost ?? 'localhost'}:${addr.port}`,
    url: `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // A request held by "delay" must not keep a test run or a shutdown waiting.
        setTimeout(() => server.closeAllConnections(), 1_000).unref();
      }).then(after)),
  };
}
