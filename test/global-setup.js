// Tests that run the real `nixa` command need the compiled output; build it once
// per test run so that they never exercise a stale dist/.
import { execFileSync } from 'node:child_process';

export default function globalSetup() {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
}
