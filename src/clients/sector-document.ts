// Fetches a service's sector document (its sector_identifier_uri) at registration
// and checks it lists the service's redirect URIs. Every failure is an
// InvalidInputError naming sector_identifier_uri, before anything is written.
import { InvalidInputError } from '../errors/index.js';
import { sectorDocumentProblem } from './sector.js';

/** How long a registration waits for the document, and the most it reads: a list of URLs is small. */
export const SECTOR_FETCH_TIMEOUT_MS = 5000;
export const SECTOR_DOCUMENT_MAX_BYTES = 64 * 1024;

const refuse = (problem: string) => new InvalidInputError('sector_identifier_uri', problem);

function networkProblem(uri: string, err: unknown, timeoutMs: number): InvalidInputError {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return refuse(`"${uri}" did not answer within ${timeoutMs} ms`);
  return refuse(`"${uri}" could not be fetched (${e.cause?.code ?? e.cause?.message ?? e.message})`);
}

/** The body, refused beyond maxBytes without reading the rest. */
async function boundedText(res: Response, uri: string, maxBytes: number): Promise<string> {
  const tooLarge = () => refuse(`the document at "${uri}" is larger than ${maxBytes} bytes`);
  if (Number(res.headers.get('content-length') ?? 0) > maxBytes) {
    await res.body?.cancel();
    throw tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body!.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Fetches `uri` and checks it lists every one of `redirectUris`. No redirects are
 * followed (one could lead from https to plain http or elsewhere): the operator
 * gives the document's own URL. Only the registration depends on the document;
 * sign-ins do not fetch it again (see src/protocol/provider.ts).
 */
export async function checkSectorDocument(
  uri: string,
  redirectUris: readonly string[],
  opts: { timeoutMs?: number; maxBytes?: number; fetch?: typeof fetch } = {},
): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? SECTOR_FETCH_TIMEOUT_MS;
  const signal = AbortSignal.timeout(timeoutMs);
  let text: string;
  try {
    const res = await (opts.fetch ?? fetch)(uri, { headers: { accept: 'application/json' }, redirect: 'manual', signal });
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel();
      throw refuse(`"${uri}" answered ${res.status}, a redirect: give the URL of the document itself`);
    }
    if (res.status !== 200) {
      await res.body?.cancel();
      throw refuse(`"${uri}" answered ${res.status}, not 200 with the document`);
    }
    text = await boundedText(res, uri, opts.maxBytes ?? SECTOR_DOCUMENT_MAX_BYTES);
  } catch (err) {
    if (err instanceof InvalidInputError) throw err;
    throw networkProblem(uri, err, timeoutMs);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw refuse(`the document at "${uri}" is not JSON`);
  }
  const problem = sectorDocumentProblem(document, redirectUris);
  if (problem) throw refuse(problem);
}
