#!/usr/bin/env node
// The `nixa` operator command. The TypeScript sources are compiled by `npm run build`
// (run automatically by `npm install` and `npm start`).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('nixa: not built yet — run `npm run build` first\n');
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
