// A small JSON document a registration names and nixa reads once, at registration:
// a sector document (sector-document.ts) or a service's JWK Set (encryption-keys.ts).
// No redirects are followed (one could lead from https to plain http or elsewhere):
// the operator gives the document's own URL. Every failure is an InvalidInputError
// naming the registration's field, before anything is written.
import { InvalidInputError } from '../errors/index.js';

export interface DocumentFetch {
  /** The registration field the refusal names. */
  field: string;
  /** What the document is, in refusals: "the document", "the JWK Set". */
  name: string;
  /** What a 200 would have carried, in refusals: "the document", "the service's JWK Set". */
  expected: string;
  timeoutMs: number;
  maxBytes: number;
  fetch?: typeof fetch | undefined;
}

/** The body, refused beyond maxBytes without reading the rest. */
async function boundedText(res: Response, tooLarge: () => Error, maxBytes: number): Promise<string> {
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

/** The parsed JSON at `uri`, or an InvalidInputError naming `o.field` that says what went wrong. */
export async function fetchRegistrationDocument(uri: string, o: DocumentFetch): Promise<unknown> {
  const refuse = (problem: string) => new InvalidInputError(o.field, problem);
  let text: string;
  try {
    const res = await (o.fetch ?? fetch)(uri, { headers: { accept: 'application/json' }, redirect: 'manual', signal: AbortSignal.timeout(o.timeoutMs) });
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel();
      throw refuse(`"${uri}" answered ${res.status}, a redirect: give the URL of ${o.name} itself`);
    }
    if (res.status !== 200) {
      await res.body?.cancel();
      throw refuse(`"${uri}" answered ${res.status}, not 200 with ${o.expected}`);
    }
    text = await boundedText(res, () => refuse(`${o.name} at "${uri}" is larger than ${o.maxBytes} bytes`), o.maxBytes);
  } catch (err) {
    if (err instanceof InvalidInputError) throw err;
    const e = err as Error & { cause?: { code?: string; message?: string } };
    if (e.name === 'TimeoutError' || e.name === 'AbortError') throw refuse(`"${uri}" did not answer within ${o.timeoutMs} ms`);
    throw refuse(`"${uri}" could not be fetched (${e.cause?.code ?? e.cause?.message ?? e.message})`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw refuse(`${o.name} at "${uri}" is not JSON`);
  }
}
