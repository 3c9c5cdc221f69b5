// Fetches a service's jwks_uri at registration when it asks for encrypted responses,
// and checks it holds a public key nixa can encrypt to (encryption.ts). Every failure
// is an InvalidInputError naming jwks_uri, before anything is written: otherwise the
// service would learn of it at its first sign-in, as an error at the token endpoint.
import { InvalidInputError } from '../errors/index.js';
import { asksEncryption, jwksUriProblem, type EncryptionSubject } from './encryption.js';
import { fetchRegistrationDocument } from './fetch-document.js';

/** How long a registration waits for the JWK Set, and the most it reads: a few public keys are small. */
export const JWKS_FETCH_TIMEOUT_MS = 5000;
export const JWKS_MAX_BYTES = 64 * 1024;

/**
 * Checked when the registration asks for encryption and its keys are behind jwks_uri.
 * No redirects are followed (fetch-document.ts). oidc-provider fetches the set again when it encrypts, so a service
 * that later drops its key gets an error then, not a token nixa could not protect.
 */
export async function checkEncryptionKeys(c: EncryptionSubject, opts: { timeoutMs?: number; fetch?: typeof fetch } = {}): Promise<void> {
  if (!c.jwks_uri || !asksEncryption(c)) return;
  const document = await fetchRegistrationDocument(c.jwks_uri, {
    field: 'jwks_uri',
    name: 'the JWK Set',
    expected: "the service's JWK Set",
    timeoutMs: opts.timeoutMs ?? JWKS_FETCH_TIMEOUT_MS,
    maxBytes: JWKS_MAX_BYTES,
    fetch: opts.fetch,
  });
  const problem = jwksUriProblem(c, document);
  if (problem) throw new InvalidInputError('jwks_uri', problem);
}
