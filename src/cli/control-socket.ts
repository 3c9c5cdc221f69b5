// The embedded database (PGlite) can be opened by one process only. While the
// server runs, the `nixa` command therefore sends its arguments to the server
// over a Unix socket in the data directory and the server runs the command on its
// own database handle. The socket is owner-only (0600), like the data it guards.
import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { join } from 'node:path';

import type { Logger } from '../logging/index.js';
import { runCli, type CliContext } from './commands.js';

interface Request {
  argv: string[];
  actor: string;
  /** The command's working directory, so that file names mean what the operator meant. */
  cwd?: string;
}

interface Response {
  code: number;
  stdout: string;
  stderr: string;
}

const MAX_REQUEST_BYTES = 64 * 1024;

export function controlSocketPath(dataDir: string): string {
  return join(dataDir, 'nixa.sock');
}

/** Serves CLI requests inside the server. Returns a function that stops serving. */
export async function serveControlSocket(path: string, ctx: Omit<CliContext, 'actor'>, logger: Logger): Promise<() => Promise<void>> {
  if (existsSync(path)) {
    // A socket left by a server that crashed; a live one would answer.
    if (await isAlive(path)) throw new Error(`another nixa server is already running on this data directory (${path})`);
    unlinkSync(path);
  }
  const server: Server = createServer((socket) => {
    let buf = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > MAX_REQUEST_BYTES) socket.destroy();
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      let req: Request;
      try {
        req = JSON.parse(buf.slice(0, nl)) as Request;
        if (!Array.isArray(req.argv) || !req.argv.every((a) => typeof a === 'string') || typeof req.actor !== 'string') throw new Error();
      } catch {
        socket.end(`${JSON.stringify({ code: 2, stdout: '', stderr: 'nixa: malformed control request\n' })}\n`);
        return;
      }
      const res: Response = { code: 0, stdout: '', stderr: '' };
      runCli(req.argv, { out: (t) => (res.stdout += t), err: (t) => (res.stderr += t) }, { ...ctx, actor: req.actor, ...(typeof req.cwd === 'string' ? { cwd: req.cwd } : {}) })
        .then((code) => {
          res.code = code;
          logger.info({ command: req.argv.slice(0, 2).join(' '), actor: req.actor, code }, 'cli command served');
        })
        .catch((err) => {
          res.code = 1;
          res.stderr += `nixa: ${(err as Error).message}\n`;
        })
        .finally(() => socket.end(`${JSON.stringify(res)}\n`));
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  chmodSync(path, 0o600);
  return () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
    });
}

function isAlive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Client side: runs argv in the server. Resolves undefined if no server is listening. */
export function sendToServer(path: string, req: Request): Promise<Response | undefined> {
  if (!existsSync(path)) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const s = createConnection(path);
    let buf = '';
    let connected = false;
    s.setEncoding('utf8');
    s.once('connect', () => {
      connected = true;
      s.write(`${JSON.stringify(req)}\n`);
    });
    s.on('data', (c: string) => (buf += c));
    s.once('end', () => {
      try {
        resolve(JSON.parse(buf.trim()) as Response);
      } catch {
        reject(new Error('the nixa server closed the control connection without an answer'));
      }
    });
    s.once('error', (err: NodeJS.ErrnoException) => {
      if (!connected && (err.code === 'ECONNREFUSED' || err.code === 'ENOENT')) resolve(undefined);
      else reject(err);
    });
  });
}
