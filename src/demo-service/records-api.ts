// The demo service's own API, as a public service's back end would protect it:
// JWT access tokens from nixa, checked with nixa/verify, for this API's resource
// indicator only, at assurance level high. A token below that level is answered
// with the RFC 9470 challenge that tells the caller which acr to ask nixa for.
//
//   GET /api/records   Authorization: Bearer <JWT access token, aud = the demo's api_resource>
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

export function createRecordsApi(o: { issuer: string; apiResource: string }): (ctx: Context) => Promise<void> {
  // Only tokens issued for this API (aud): an ID token, or an access token for
  // another service's API, is refused as invalid_token.
  const verifier = createVerifier({ issuer: o.issuer, audience: o.apiResource });
  const guard = requireLevel(verifier, 'high');

  return async function records(ctx: Context): Promise<void> {
    ctx.set('Cache-Control', 'no-store');
    let outcome;
    try {
      outcome = await guard(ctx.headers.authorization);
    } catch (err) {
      if (!(err instanceof NixaUnavailableError)) throw err;
      ctx.status = 503;
      ctx.body = { error: 'temporarily_unavailable', error_description: 'nixa could not be reached to check the token' };
      return;
    }
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

/** The parameters of a `Bearer …` challenge (RFC 6750 §3), e.g. error and acr_values. */
export function challengeParams(header: string | null): Record<string, string> {
  const params: Record<string, string> = {};
  if (!header || !/^Bearer\b/i.test(header)) return params;
  for (const m of header.matchAll(/([a-z_]+)="([^"]*)"/gi)) params[m[1]!.toLowerCase()] = m[2]!;
  return params;
}
