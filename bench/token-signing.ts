// What signing in an HSM costs: the last part of npm run bench (NIXA_BENCH_ONLY=
// token_signing for it alone), or on its own: npm run build && node dist/bench/token-signing.js.
// For each algorithm nixa signs with, the same JWS signing input (an ID token's
// header and claims) is signed through the Signer nixa uses — the one
// oidc-provider's external signing key calls for ID tokens, access tokens and
// logout tokens — with a software key and with a key generated inside a fresh
// SoftHSM2 token, one after the other in this one process, and the ratio printed.
// SoftHSM2 is software too: the ratio shows the cost of the PKCS#11 path (session
// pool, C_SignInit/C_Sign off the event loop), not that of a hardware module.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

import { Pkcs11Token } from '../src/keys/pkcs11.js';
import { generateKey, newKid } from '../src/keys/generate.js';
import { type Signer, softwareSigner } from '../src/keys/signer.js';
import { runWithCleanup, type Cleanup } from './cleanup.js';

const MODULE = '/usr/lib/softhsm/libsofthsm2.so';
const ALGS = ['ES256', 'RS256', 'PS256', 'EdDSA'] as const;
const SECONDS = Number(process.env.NIXA_BENCH_SIGNING_SECONDS ?? '2');
const CONCURRENCIES = [1, 8];

/** An ID token's signing input, as oidc-provider builds it (header.claims, base64url). */
function signingInput(alg: string, kid: string): Buffer {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    iss: 'https://id.example.gov.vn',
    sub: 'Y0FfM2s4d1JoVjNxTmE2WQ',
    aud: 'dich-vu-cong-da-nang',
    exp: now + 600,
    iat: now,
    auth_time: now - 5,
    nonce: 'n-0S6_WzA2Mj',
    acr: 'urn:nixa:loa:substantial',
    amr: ['pwd', 'otp'],
    sid: 'c2Vzc2lvbi1pZC1mb3ItYmVuY2g',
    name: 'Nguyễn Thị Thu Hà',
  };
  return Buffer.from(`${b64({ alg, typ: 'JWT', kid })}.${b64(claims)}`);
}

interface Measured {
  opsPerSecond: number;
  p50Ms: number;
  p95Ms: number;
}

async function measure(signer: Signer, concurrency: number): Promise<Measured> {
  const input = signingInput(signer.alg, signer.kid);
  for (let i = 0; i < 20; i++) await signer.sign(input); // warm-up: sessions opened, handles found
  const latencies: number[] = [];
  const end = performance.now() + SECONDS * 1000;
  const worker = async () => {
    while (performance.now() < end) {
      const t = performance.now();
      await signer.sign(input);
      latencies.push(performance.now() - t);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return { opsPerSecond: latencies.length / elapsed, p50Ms: at(0.5), p95Ms: at(0.95) };
}

/** A fresh token in /tmp/hsm-bench-…, SOFTHSM2_CONF pointing at it before the library is initialised. */
function freshToken(cleanup: Cleanup): { label: string; pin: string } {
  const dir = mkdtempSync(join(tmpdir(), 'hsm-bench-'));
  cleanup.add(`remove ${dir}`, async () => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'tokens'));
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  process.env.SOFTHSM2_CONF = conf;
  const label = 'nixa-bench';
  const pin = '246810';
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', '13579111'], { stdio: 'ignore' });
  return { label, pin };
}

export interface TokenSigningRow {
  alg: string;
  concurrency: number;
  software: Measured;
  hsm: Measured;
  /** software ops/s ÷ HSM ops/s: how many times slower signing in the token is. */
  ratio: number;
}

/** Measures each algorithm with a software key and a key in a fresh SoftHSM2 token; undefined without SoftHSM2. */
export async function measureTokenSigning(cleanup: Cleanup): Promise<{ seconds: number; rows: TokenSigningRow[] } | undefined> {
  if (!existsSync(MODULE)) return undefined;
  const { label, pin } = freshToken(cleanup);
  const token = Pkcs11Token.open({ kind: 'pkcs11', module: MODULE, token: { label }, pin: { from: 'NIXA_PKCS11_PIN', read: () => pin } }, ALGS);
  cleanup.add('close the token', async () => token.close());
  const rows: TokenSigningRow[] = [];
  for (const alg of ALGS) {
    const software = softwareSigner(JSON.parse((await generateKey('sig', alg)).privateMaterial));
    const kid = newKid();
    const { publicJwk } = await token.generate(kid, alg);
    const hsm: Signer = { kid, alg, publicJwk, sign: (input) => token.sign(kid, alg, input) };
    for (const concurrency of CONCURRENCIES) {
      console.log(`  measuring token signing, ${alg} at ${concurrency} concurrent signatures, software then SoftHSM2…`);
      const s = await measure(software, concurrency);
      const h = await measure(hsm, concurrency);
      rows.push({ alg, concurrency, software: s, hsm: h, ratio: s.opsPerSecond / h.opsPerSecond });
    }
  }
  return { seconds: SECONDS, rows };
}

export function formatTokenSigning(result: { seconds: number; rows: TokenSigningRow[] } | undefined): string {
  if (!result) return `Token signing: skipped, ${MODULE} not installed (apt-get install softhsm2)`;
  const rows: string[][] = [['alg', 'concurrency', 'software ops/s', 'HSM ops/s', 'software ÷ HSM', 'HSM p50 ms', 'HSM p95 ms', 'software p95 ms']];
  for (const r of result.rows) {
    rows.push([r.alg, String(r.concurrency), r.software.opsPerSecond.toFixed(0), r.hsm.opsPerSecond.toFixed(0), r.ratio.toFixed(2), r.hsm.p50Ms.toFixed(2), r.hsm.p95Ms.toFixed(2), r.software.p95Ms.toFixed(2)]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return [
    `Token signing (JWS of an ID token, the Signer oidc-provider calls; ${result.seconds} s each; software key vs SoftHSM2 over PKCS#11, same process)`,
    ...rows.map((r) => r.map((c, i) => c.padStart(widths[i]!)).join('  ')),
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runWithCleanup(async (cleanup) => console.log(`\n${formatTokenSigning(await measureTokenSigning(cleanup))}`));
}
