// The pairwise sector of a service (OIDC Core §8.1): whom a citizen's `sub` is
// shared with. Pure; sector-document.ts fetches the document this checks.

/**
 * The sector a service's pairwise subjects are computed for: the service itself
 * (its client id), unless it registered a sector_identifier_uri, whose document
 * lists it among the services of one sector. Not the host of the redirect URIs
 * (oidc-provider's default): services of a ministry portal share that host, and a
 * service registered on another's host would receive its subjects.
 *
 * The whole URL, not only its host as §8.1 suggests: services of one portal host
 * that publish separate documents stay separate sectors; joining a sector takes
 * being listed in that very document by whoever runs it.
 *
 * The two kinds are prefixed so that a client id can never name a URL's sector.
 */
export function pairwiseSector(client: { clientId: string; sectorIdentifierUri?: string | undefined }): string {
  return client.sectorIdentifierUri ? `sector:${new URL(client.sectorIdentifierUri).href}` : `client:${client.clientId}`;
}

/**
 * What is wrong with a fetched sector document for a service with these redirect
 * URIs, or undefined: it must be a JSON array of URLs listing every one of them
 * (OIDC Core §8.1; OpenID Connect Registration §5).
 */
export function sectorDocumentProblem(document: unknown, redirectUris: readonly string[]): string | undefined {
  if (!Array.isArray(document) || document.some((x) => typeof x !== 'string')) {
    return 'the document must be a JSON array of URLs: the redirect URIs of the services of its sector';
  }
  const missing = redirectUris.find((u) => !document.includes(u));
  if (missing !== undefined) return `the document does not list the redirect URI "${missing}": it must list every redirect URI of the service`;
  return undefined;
}
