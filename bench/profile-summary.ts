// Summarises a V8 .cpuprofile (from NIXA_BENCH_PROFILE, see profiling.ts): self
// time by package or project folder, by function, and the heaviest inclusive
// times of project and package functions. No dependency: the profile is JSON.
//   node dist/bench/profile-summary.js <file.cpuprofile> [top=25] [--since=<s>] [--stacks=<regex>]
// --since leaves out the first <s> seconds of the profile (start-up, seeding);
// --stacks prints the heaviest call stacks through the functions matching <regex>.
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
}

/** Where a function lives: an npm package, a folder of nixa's (src/keys), node's internals, or V8's pseudo-frames. */
export function packageOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = path.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (path.startsWith('node:')) return `node:${path.slice(5).split('/')[0]}`;
  const m = /\/dist\/((?:src|bench)\/[^/]+)/.exec(path);
  if (m) return m[1]!.replace(/\.js$/, '');
  return path;
}

const shortFile = (url: string) => url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, '').replace(/^.*\/dist\//, '');

export function summarise(profile: Profile, top: number, sinceMs = 0, stacks?: RegExp): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  let t = 0;
  let totalUs = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    t += dt;
    if (t < sinceMs * 1000) return;
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
    totalUs += dt;
  });
  const key = (f: CallFrame) => `${f.functionName || '(anonymous)'} ${shortFile(f.url)}:${f.lineNumber + 1}`;
  const bySelfFn = new Map<string, number>();
  const bySelfPkg = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const through = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    const f = n.callFrame;
    bySelfFn.set(key(f), (bySelfFn.get(key(f)) ?? 0) + us);
    const pkg = packageOf(f.url, f.functionName);
    bySelfPkg.set(pkg, (bySelfPkg.get(pkg) ?? 0) + us);
    // Inclusive: every distinct function on the stack once (recursion counted once).
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const cf = byId.get(cur)!.callFrame;
      if (!cf.url) continue;
      const k = key(cf);
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + us);
    }
    if (stacks) {
      // The stack from the outermost matching frame up to 12 callers above it.
      const frames: string[] = [];
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) frames.push(key(byId.get(cur)!.callFrame));
      const at = frames.findLastIndex((f) => stacks.test(f));
      if (at >= 0) {
        const k = frames.slice(Math.max(0, at - 3), at + 12).join('\n      < ');
        through.set(k, (through.get(k) ?? 0) + us);
      }
    }
  }
  const pct = (us: number) => `${((100 * us) / totalUs).toFixed(1).padStart(5)}%`;
  const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
  const table = (title: string, m: Map<string, number>, n: number) =>
    [title, ...[...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, us]) => `${ms(us)} ${pct(us)}  ${k}`)].join('\n');
  const idle = (bySelfPkg.get('(idle)') ?? 0) + (bySelfPkg.get('(program)') ?? 0);
  return [
    `${(totalUs / 1000).toFixed(0)} ms sampled${sinceMs ? ` after the first ${sinceMs / 1000} s` : ''}; busy (not idle/program) ${((totalUs - idle) / 1000).toFixed(0)} ms`,
    table('\nSelf time by package / folder', bySelfPkg, top),
    table('\nSelf time by function', bySelfFn, top),
    table('\nInclusive time by function (project and packages)', inclusive, top * 2),
    ...(stacks ? [table(`\nHeaviest stacks through /${stacks.source}/ (3 callees, the match, its callers)`, through, 8)] : []),
  ].join('\n');
}

const isMain = process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, ''));
if (isMain) {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith('--') && !/^\d+$/.test(a));
  if (!file) {
    console.error('usage: node dist/bench/profile-summary.js <file.cpuprofile> [top] [--since=<seconds>]');
    process.exit(2);
  }
  const top = Number(args.find((a) => /^\d+$/.test(a)) ?? 25);
  const since = Number(args.find((a) => a.startsWith('--since='))?.slice(8) ?? 0);
  const stacks = args.find((a) => a.startsWith('--stacks='))?.slice(9);
  console.log(summarise(JSON.parse(readFileSync(file, 'utf8')) as Profile, top, since * 1000, stacks ? new RegExp(stacks) : undefined));
}
