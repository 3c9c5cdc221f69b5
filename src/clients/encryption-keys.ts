// Fetches a service's jwks_uri at registration when it asks for encrypted responses,
// and checks it holds a public key nixa can encrypt to (encryption.ts). Every failure
// is an InvalidInputError naming jwks_uri, before anything is written: otherwise the
// service would learn of it at its first sign-in, as an error at the token endpoint.
import { InvalidInputError } from '../errors/index.js';
import { asksEncryption, jwksUriProblem, type EncryptionSubject } from './encryption.js';

/** How long a registration waits for the JWK Set, and the most it reads: a few public keys are small. */
export const JWKS_FETCH_TIMEOUT_MS = 5000;
export const JWKS_MAX_BYTES = 64 * 1024;

const refuse = (problem: string) => new InvalidInputError('jwks_uri', problem);

/** The body, refused beyond JWKS_MAX_BYTES without reading the rest. */
async function boundedText(res: Response, uri: string): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body!.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > JWKS_MAX_BYTES) {
      await reader.cancel();
      throw refuse(`the JWK Set at "${uri}" is larger than ${JWKS_MAX_BYTES} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Checked when the registration asks for encryption and its keys are behind jwks_uri.
 * No redirects are followed, as for the sector document: the operator gives the URL of
 * the set itself. oidc-provider fetches the set again when it encrypts, so a service
 * that later drops its key gets an error then, not a token nixa could not protect.
 */
export async function checkEncryptionKeys(c: EncryptionSubject, opts: { timeoutMs?: number; fetch?: typeof fetch } = {}): Promise<void> {
  if (!c.jwks_uri || !asksEncryption(c)) return;
  const uri = c.jwks_uri;
  const timeoutMs = opts.timeoutMs ?? JWKS_FETCH_TIMEOUT_MS;
  let text: string;
  try {
    const res = await (opts.fetch ?? fetch)(uri, { headers: { accept: 'application/json' }, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    if (res.status !== 200) {
      await res.body?.cancel();
      throw refuse(`"${uri}" answered ${res.status}, not 200 with the service's JWK Set`);
    }
    text = await boundedText(res, uri);
  } catch (err) {
    if (err instanceof InvalidInputError) throw err;
    const e = err as Error & { cause?: { code?: string; message?: string } };
    if (e.name === 'TimeoutError' || e.name === 'AbortError') throw refuse(`"${uri}" did not answer within ${timeoutMs} ms`);
    throw refuse(`"${uri}" could not be fetched (${e.cause?.code ?? e.cause?.message ?? e.message})`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw refuse(`the JWK Set at "${uri}" is not JSON`);
  }
  const problem = jwksUriProblem(c, document);
  if (problem) throw refuse(problem);
}
