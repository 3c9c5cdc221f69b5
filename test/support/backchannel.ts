// The services' back-channel logout endpoints in a test: one server on localhost
// that records each request it gets (path and body) and answers 200. A service
// registers `${receiver.url}/<name>/backchannel` as its backchannel_logout_uri.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LogoutReceiver {
  /** http://localhost:PORT, no trailing slash. */
  url: string;
  /** Every request received, in order; a test may empty it (received.length = 0). */
  received: { path: string; body: string }[];
  close(): Promise<void>;
}

export async function startLogoutReceiver(): Promise<LogoutReceiver> {
  const received: LogoutReceiver['received'] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', body });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://localhost:${(server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
