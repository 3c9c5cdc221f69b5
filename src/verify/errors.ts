// What went wrong, in words a service can pass on: jose's errors about the token
// become an invalid_token description; anything about reaching nixa is thrown as
// NixaUnavailableError, because it says nothing about the token (answer 503, not 401).

/** nixa's discovery document or JWKS could not be fetched or made no sense. Not the token's fault. */
export class NixaUnavailableError extends Error {
  override readonly name = 'NixaUnavailableError';
}

interface JoseLikeError {
  code?: unknown;
  claim?: unknown;
  reason?: unknown;
}

/** The description for a jose error that is about the token, or undefined when it is not. */
export function describeTokenError(err: unknown, kind: string): string | undefined {
  if (!err || typeof err !== 'object') return undefined;
  const { code, claim, reason } = err as JoseLikeError;
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return 'The token has expired';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (reason === 'missing') return `The token lacks the ${String(claim)} claim`;
      switch (claim) {
        case 'iss':
          return 'The token was not issued by this nixa';
        case 'aud':
          return 'The token is meant for another audience';
        case 'nbf':
          return 'The token is not valid yet';
        case 'typ':
          return `The token is not ${kind}`;
        default:
          return `The token's ${String(claim)} claim is malformed`;
      }
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return 'The token signature is invalid';
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return 'The token is signed with a key nixa does not publish';
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return 'The token is signed with an algorithm nixa does not use';
    case 'ERR_JOSE_NOT_SUPPORTED':
      return 'The token uses a header or algorithm that is not supported';
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
      return 'The token is not a well-formed signed JWT';
    default:
      return undefined;
  }
}
