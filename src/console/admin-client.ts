// The console calls the admin API over HTTP with the operator's bearer token:
// the same API, the same checks and the same audit trail as a machine's calls.
import { ADMIN_API_PREFIX } from '../admin/index.js';

export interface ApiAnswer<T = Record<string, unknown>> {
  status: number;
  body: T & ApiError;
  /** The record's version as the API sent it (ETag), for If-Match. */
  etag: string | null;
}

export interface ApiError {
  error?: string;
  message?: string;
  field?: string;
}

export class AdminApiClient {
  constructor(
    private readonly issuer: string,
    private readonly timeoutMs = 15_000,
  ) {}

  async call<T = Record<string, unknown>>(
    token: string,
    method: 'GET' | 'POST',
    path: string,
    o: { body?: unknown; ifMatch?: string; query?: Record<string, string | undefined> } = {},
  ): Promise<ApiAnswer<T>> {
    const url = new URL(`${this.issuer}${ADMIN_API_PREFIX}${path}`);
    for (const [k, v] of Object.entries(o.query ?? {})) if (v) url.searchParams.set(k, v);
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
    if (method === 'POST') headers['content-type'] = 'application/json';
    if (o.ifMatch) headers['if-match'] = o.ifMatch;
    const res = await fetch(url, {
      method,
      headers,
      ...(method === 'POST' ? { body: JSON.stringify(o.body ?? {}) } : {}),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await res.text();
    let body: T & ApiError;
    try {
      body = JSON.parse(text) as T & ApiError;
    } catch {
      body = { error: 'not-json', message: `the admin API answered ${res.status} without JSON` } as T & ApiError;
    }
    return { status: res.status, body, etag: res.headers.get('etag') };
  }
}

/** The admin API's path segment for an id (encoded; the API refuses anything odd). */
export const seg = (id: string) => encodeURIComponent(id);
