// nixa/verify: what a public service needs to check nixa tokens. Published with
// nixa and kept light on purpose: it imports jose and nothing else from nixa or npm.
//
//   const verifier = createVerifier({ issuer: 'https://id.example.gov.vn', audience: 'my-client-id', minimumAcr: 'substantial' });
//   const result = await verifier.verifyIdToken(idToken);
//   if (!result.ok) res.setHeader('WWW-Authenticate', verifier.challenge(result));
// A FAPI 2.0 API takes DPoP-bound access tokens (RFC 9449) only:
//   const guard = requireLevel(apiVerifier, 'high', { dpop: 'required' });
//   const outcome = await guard({ authorization, dpop, method, url });
export { createVerifier } from './verifier.js';
export { requireLevel, type DPoPGuardOutcome, type DPoPMode, type GuardOptions, type GuardOutcome, type ProtectedRequest } from './require-level.js';
export { bearerChallenge, dpopChallenge } from './challenge.js';
export { DPOP_ALGORITHMS, dpopNonces, memoryReplayStore, type DPoPAlgorithm, type DPoPNonces, type DPoPReplayStore } from './dpop.js';
export { NixaUnavailableError } from './errors.js';
export type {
  Actor,
  DPoPFailure,
  DPoPOptions,
  DPoPPresentation,
  DPoPVerifyResult,
  InvalidDPoPProof,
  UseDPoPNonce,
  Organisation,
  InsufficientUserAuthentication,
  InvalidToken,
  LevelOrAcr,
  NixaClaims,
  Requirements,
  Verifier,
  VerifierOptions,
  VerifyFailure,
  VerifyResult,
  VerifySuccess,
} from './types.js';
export { LEVELS, acrFor, levelOfAcr, type Level } from './levels.js';
