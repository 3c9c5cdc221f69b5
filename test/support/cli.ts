// Runs `nixa` commands in-process against a test database, capturing what they print.
import { cliContext, runCli } from '../../src/cli/main.js';
import type { Database } from '../../src/storage/index.js';
import { testConfig } from './nixa.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function cliRunner(db: () => Database, env: Record<string, string> = {}) {
  return async function nixa(...argv: string[]): Promise<CliRun> {
    let stdout = '';
    let stderr = '';
    const code = await runCli(argv, { out: (t) => (stdout += t), err: (t) => (stderr += t) }, cliContext(testConfig(env), 'cli:test', db()));
    return { code, stdout, stderr };
  };
}
