// Entry of the `nixa` command (bin/nixa.js). With DATABASE_URL it works on the
// database directly; on the embedded default it asks the running server to run
// the command (see control-socket.ts), or opens the embedded database itself
// when no server is running.
import { userInfo } from 'node:os';

import { loadConfig, type Config } from '../config/index.js';
import { ConfigError } from '../errors/index.js';
import { Cipher, loadMasterKey } from '../keys/index.js';
import { openDatabase, type Database } from '../storage/index.js';
import { runCli, type CliContext } from './commands.js';
import { controlSocketPath, sendToServer } from './control-socket.js';

export { runCli, type CliContext, type CliIo } from './commands.js';
export { serveControlSocket, controlSocketPath } from './control-socket.js';

export function cliContext(config: Config, actor: string, existing?: Database): CliContext & { close(): Promise<void> } {
  let db: Promise<Database> | undefined = existing ? Promise.resolve(existing) : undefined;
  let cipher: Cipher | undefined;
  return {
    config,
    actor,
    db: () => (db ??= openDatabase(config)),
    cipher: () => (cipher ??= new Cipher(loadMasterKey(config.masterKey))),
    async close() {
      if (db && !existing) await (await db).close();
    },
  };
}

export async function main(argv: string[]): Promise<number> {
  const io = { out: (t: string) => process.stdout.write(t), err: (t: string) => process.stderr.write(t) };
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(`nixa: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const actor = `cli:${userInfo().username}`;
  if (config.database.kind === 'embedded') {
    const res = await sendToServer(controlSocketPath(config.dataDir), { argv, actor, cwd: process.cwd() });
    if (res) {
      io.out(res.stdout);
      io.err(res.stderr);
      return res.code;
    }
  }
  const ctx = cliContext(config, actor);
  try {
    return await runCli(argv, io, ctx);
  } finally {
    await ctx.close();
  }
}
