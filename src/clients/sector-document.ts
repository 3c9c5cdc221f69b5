// Fetches a service's sector document (its sector_identifier_uri) at registration
// and checks it lists the service's redirect URIs. Every failure is an
// InvalidInputError naming sector_identifier_uri, before anything is written.
import { InvalidInputError } from '../errors/index.js';
import { fetchRegistrationDocument } from './fetch-document.js';
import { sectorDocumentProblem } from './sector.js';

/** How long a registration waits for the document, and the most it reads: a list of URLs is small. */
export const SECTOR_FETCH_TIMEOUT_MS = 5000;
export const SECTOR_DOCUMENT_MAX_BYTES = 64 * 1024;

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
  const document = await fetchRegistrationDocument(uri, {
    field: 'sector_identifier_uri',
    name: 'the document',
    expected: 'the document',
    timeoutMs: opts.timeoutMs ?? SECTOR_FETCH_TIMEOUT_MS,
    maxBytes: opts.maxBytes ?? SECTOR_DOCUMENT_MAX_BYTES,
    fetch: opts.fetch,
  });
  const problem = sectorDocumentProblem(document, redirectUris);
  if (problem) throw new InvalidInputError('sector_identifier_uri', problem);
}
