// The demo service's own API, as a FAPI 2.0 service's back end would protect it:
// DPoP-bound JWT access tokens from nixa (RFC 9449), checked with nixa/verify — the
// proof of the caller's key at every call, then the token — for this API's resource
// indicator only, at assurance level high. A token below that level is answered
// with the RFC 9470 challenge (DPoP scheme) that tells the caller which acr to ask nixa for.
//
//   GET /api/records   Authorization: DPoP <JWT access token, aud = the demo's api_resource>
//                      DPoP: <a proof for GET of this URL, by the key the token is bound to>
import type { Context } from 'koa';

import { createVerifier, NixaUnavailableError, requireLevel } from '../verify/index.js';

export const RECORDS_PATH = '/api/records';

/** One of the citizen's records, as the API returns it (sample data: the demo has no real back office). */
export interface RecordEntry {
  number: string;
  kind: { vi: string; en: string };
  status: { vi: string; en: string };
  date: string;
}

/** The API's answer: the records, and how the citizen signed in, as the token said. */
export interface RecordsAnswer {
  sub: string;
  acr: string;
  amr: string[];
  auth_time?: number;
  records: RecordEntry[];
}

const SAMPLE_RECORDS: RecordEntry[] = [
  {
    number: 'HT-2024-001853',
    kind: { vi: 'Trích lục khai sinh (bản sao)', en: 'Birth registration extract (copy)' },
    status: { vi: 'Đã trả kết quả', en: 'Issued' },
    date: '2024-11-04',
  },
  {
    number: 'CT-2025-004417',
    kind: { vi: 'Đăng ký thường trú', en: 'Permanent residence registration' },
    status: { vi: 'Đang xử lý', en: 'In progress' },
    date: '2025-03-18',
  },
  {
    number: 'DD-2025-010262',
    kind: { vi: 'Cấp giấy chứng nhận quyền sử dụng đất', en: 'Land use right certificate' },
    status: { vi: 'Chờ bổ sung giấy tờ', en: 'Waiting for documents' },
    date: '2025-06-02',
  },
];

export function createRecordsApi(o: { issuer: string; apiResource: string; origin: string }): (ctx: Context) => Promise<void> {
  // Only tokens issued for this API (aud): an ID token, or an access token for
  // another service's API, is refused as invalid_token. One demo instance: the
  // verifier's own memory is its DPoP replay store (several instances share one).
  const verifier = createVerifier({ issuer: o.issuer, audience: o.apiResource, dpop: {} });
  const guard = requireLevel(verifier, 'high', { dpop: 'required' });

  return async function records(ctx: Context): Promise<void> {
    ctx.set('Cache-Control', 'no-store');
    let outcome;
    try {
      // The URL the caller signed (htu) is the API's public one, not what a proxy in front made of it.
      outcome = await guard({ authorization: ctx.headers.authorization, dpop: ctx.headers.dpop, method: ctx.method, url: new URL(ctx.path, o.origin) });
    } catch (err) {
      if (!(err instanceof NixaUnavailableError)) throw err;
      ctx.status = 503;
      ctx.body = { error: 'temporarily_unavailable', error_description: 'nixa could not be reached to check the token' };
      return;
    }
    if (outcome.dpopNonce) ctx.set('DPoP-Nonce', outcome.dpopNonce);
    if (outcome.status !== 200) {
      ctx.status = outcome.status;
      ctx.set('WWW-Authenticate', outcome.wwwAuthenticate);
      ctx.body = outcome.failure ? { error: outcome.failure.error, error_description: outcome.failure.description } : { error: 'invalid_request' };
      return;
    }
    const { claims } = outcome;
    const answer: RecordsAnswer = {
      sub: claims.sub,
      acr: outcome.acr,
      amr: Array.isArray(claims.amr) ? claims.amr : [],
      ...(typeof claims.auth_time === 'number' ? { auth_time: claims.auth_time } : {}),
      records: SAMPLE_RECORDS,
    };
    ctx.body = answer;
  };
}
