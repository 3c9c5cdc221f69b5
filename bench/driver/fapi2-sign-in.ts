// A FAPI 2.0 sign-in (issue 15) as a real service does it: openid-client v6 with
// private_key_jwt, a pushed authorization request (RFC 9126) and DPoP (RFC 9449),
// as test/support/fapi.ts does; the browser's part (authorization request, test
// login, resume) is the standard sign-in's. Then one userinfo call with a DPoP
// proof. Each step checks its answer, so a sign-in that quietly went another way
// (tokens not DPoP-bound, a refusal) fails the benchmark instead of being timed.
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import * as oidc from 'openid-client';

import type { Fapi2ClientInfo, TargetInfo } from '../protocol.js';
import { Browser } from './browser.js';
import { preparedFor } from './prepared.js';
import { routed } from './routes.js';
import { REQUESTS_PER_SIGN_IN, testLoginAt } from './sign-in.js';

/**
 * The requests one FAPI 2.0 sign-in makes at nixa: the push (PAR), /auth, the
 * login page, the login, the resume, /token, /me. Without a DPoP nonce
 * (NIXA_DPOP_NONCE off, the default); with it, the push, /token and /me are each
 * answered use_dpop_nonce once and sent again.
 */
export const REQUESTS_PER_FAPI2_SIGN_IN = 7;

/** Its standard counterpart: the test-login sign-in, then one userinfo call with the Bearer token. */
export const REQUESTS_PER_STANDARD_SIGN_IN_WITH_USERINFO = REQUESTS_PER_SIGN_IN + 1;

/**
 * The service's client-authentication key, made for one run: the public half to
 * register, the private half for the driver (which plays the service).
 */
export async function fapi2ServiceKey(alg = 'ES256'): Promise<{ publicJwk: JWK; privateJwk: JWK }> {
  const kid = `bench-fapi2-${Date.now()}`;
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return {
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' },
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg },
  };
}

function fapi2Of(target: TargetInfo): Fapi2ClientInfo {
  if (!target.fapi2) throw new Error(`${target.name} has no FAPI 2.0 service`);
  return target.fapi2;
}

/**
 * openid-client set up as the service, from nixa's discovery document, once per
 * target and kept (prepared.ts): discovery and the JWKS are not part of a sign-in.
 */
export function fapi2Service(target: TargetInfo): Promise<oidc.Configuration> {
  const fapi2 = fapi2Of(target);
  return preparedFor(`${target.origin} fapi2 service ${fapi2.clientId}`, async () => {
    const alg = String(fapi2.privateJwk.alg);
    const key = (await importJWK(fapi2.privateJwk as JWK, alg)) as CryptoKey;
    const config = await oidc.discovery(
      new URL(target.origin),
      fapi2.clientId,
      { id_token_signed_response_alg: fapi2.idTokenSigningAlg },
      oidc.PrivateKeyJwt({ key, kid: String(fapi2.privateJwk.kid) }),
      { execute: [oidc.allowInsecureRequests] },
    );
    // Through the driver's router, as the browser's requests go (routes.ts).
    config[oidc.customFetch] = (url, options) => fetch(routed(new URL(url)), options as RequestInit);
    return config;
  });
}

/** One whole FAPI 2.0 sign-in of `account` by a fresh browser, with one userinfo call. */
export async function fapi2SignIn(target: TargetInfo, config: oidc.Configuration, account: string): Promise<void> {
  const fapi2 = fapi2Of(target);
  // A key of its own for each sign-in's tokens, as a service keeps one per citizen.
  const dpop = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('ES256'));
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = await oidc.buildAuthorizationUrlWithPAR(
    config,
    {
      redirect_uri: fapi2.redirectUri,
      scope: fapi2.scope,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    },
    { DPoP: dpop },
  );
  // What the browser carries is only the pushed request's handle.
  if (!url.searchParams.has('request_uri')) throw new Error('POST /request: expected a request_uri to send the browser with');
  const callback = await testLoginAt(new Browser(), url, account);
  if (!callback.href.startsWith(fapi2.redirectUri)) throw new Error(`expected the redirect URI, was sent to ${callback.origin}${callback.pathname}`);
  const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce }, undefined, {
    DPoP: dpop,
  });
  if (tokens.token_type?.toLowerCase() !== 'dpop') throw new Error(`POST /token: expected a DPoP-bound access token, got token_type ${tokens.token_type}`);
  const sub = tokens.claims()?.sub;
  if (!sub) throw new Error('POST /token: expected an ID token');
  // fetchUserInfo checks that the answer names `sub`.
  await oidc.fetchUserInfo(config, tokens.access_token, sub, { DPoP: dpop });
}
