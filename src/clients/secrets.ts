// Client secrets: 256 random bits shown once, stored only as an argon2id hash.
// Because the secret is random (not a password), OWASP's minimum argon2id cost is
// enough; a short-lived cache of successful checks keeps the token endpoint fast
// without keeping any secret in memory (only a keyed digest of it).
import { createHmac, randomBytes } from 'node:crypto';

import argon2 from 'argon2';

const HASH_OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;
const CACHE_TTL_MS = 5 * 60_000;
const CACHE_MAX = 10_000;

export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function hashSecret(secret: string): Promise<string> {
  return argon2.hash(secret, HASH_OPTIONS);
}

const cacheKey = randomBytes(32);
const verified = new Map<string, number>();

/** Constant-cost check of a presented secret against its stored argon2 hash. */
export async function verifySecret(storedHash: string, presented: string): Promise<boolean> {
  const digest = createHmac('sha256', cacheKey).update(storedHash).update('\0').update(presented).digest('base64url');
  const until = verified.get(digest);
  if (until && until > Date.now()) return true;
  let ok = false;
  try {
    ok = await argon2.verify(storedHash, presented);
  } catch {
    ok = false;
  }
  if (ok) {
    if (verified.size >= CACHE_MAX) verified.clear();
    verified.set(digest, Date.now() + CACHE_TTL_MS);
  }
  return ok;
}
