// What every error page shares: the way forward it offers (back to the service,
// another source, nixa's home) and the URL that shows it again. That URL,
// GET /error/<code> with only public, checked parameters, is where the language
// switch comes back to: showing an error again never re-runs what failed.
import { escapeHtml, renderFragment, renderPage } from './index.js';

export const ERROR_PAGE_PATH = '/error';

/** A service's way back, from its registration only: its name and the origin of a registered web redirect URI. */
export interface ServiceLink {
  name: string;
  url: string;
}

/** The registration fields of a client a page may use (oidc-provider's Client has them). */
export interface ClientLike {
  clientId: string;
  clientName?: string | undefined;
  redirectUris?: readonly string[] | undefined;
}

/**
 * The way back to a registered service: the origin of its first http(s) redirect
 * URI (a native app's custom scheme has no page to go back to). Never a URL the
 * request named: only what the service registered.
 */
export function serviceLink(client: ClientLike | undefined): ServiceLink | undefined {
  if (!client) return undefined;
  for (const uri of client.redirectUris ?? []) {
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      continue;
    }
    if (url.protocol === 'https:' || url.protocol === 'http:') return { name: client.clientName || client.clientId, url: `${url.origin}/` };
  }
  return undefined;
}

export type WayForward =
  | { to: 'another-source'; interaction: string }
  | { to: 'service'; service: ServiceLink }
  | { to: 'account-sign-in' }
  | { to: 'home' };

function wayForward(w: WayForward, first: boolean): string {
  const cls = first ? 'button' : 'button secondary';
  switch (w.to) {
    case 'another-source':
      return `<a class="${cls}" href="/interaction/${encodeURIComponent(w.interaction)}">Chọn nguồn định danh khác <span lang="en">(Choose another identity source)</span></a>`;
    case 'service': {
      const name = escapeHtml(w.service.name);
      return `<a class="${cls}" href="${escapeHtml(w.service.url)}">Quay lại ${name} <span lang="en">(Back to ${name})</span></a>`;
    }
    case 'account-sign-in':
      // A fresh sign-in to the citizen's own account (src/my-account/sign-in.ts), at its default level.
      return `<a class="${cls}" href="/account/sign-in">Đăng nhập lại <span lang="en">(Sign in again)</span></a>`;
    case 'home':
      return `<a class="${cls}" href="/">Về trang chủ nixa <span lang="en">(Go to nixa’s home page)</span></a>`;
  }
}

/** The ways forward as the page's last block; the first is the main one. */
export function waysForward(ways: readonly WayForward[]): string {
  if (!ways.length) return '';
  return `<div class="actions">${ways.map((w, i) => wayForward(w, i === 0)).join('')}</div>`;
}

export interface ErrorPage {
  /** views/error.html, or views/sign-in-failed.html for a failed sign-in at a source. */
  view: 'error' | 'sign-in-failed';
  code: string;
  heading: { vi: string; en: string };
  message: { vi: string; en: string };
  /** For support staff: the problem exactly as nixa stated it (never request input). */
  detail?: string | undefined;
  ways: readonly WayForward[];
}

/** The words a first-time citizen does not know ("nguồn định danh", "mức độ đảm bảo"), as the chooser and /account name them. */
const TERMS = /nguồn định danh|mức độ đảm bảo/iu;

/** The chooser's explanation of those words (views/terms.html) when `words` use them, else nothing. */
export const termsWhereUsed = (...words: string[]): string => (words.some((w) => TERMS.test(w)) ? renderFragment('terms', {}) : '');

export function renderErrorPage(page: ErrorPage): string {
  return renderPage(page.view, {
    title: page.heading.vi,
    headingVi: page.heading.vi,
    headingEn: page.heading.en,
    messageVi: page.message.vi,
    messageEn: page.message.en,
    code: page.code,
    detail: page.detail ? `<p class="code">Chi tiết<span lang="en"> (detail)</span>: <code>${escapeHtml(page.detail)}</code></p>` : '',
    forward: waysForward(page.ways),
    // Explained where the page uses them, after the ways forward (which Tab reaches first).
    terms: termsWhereUsed(page.heading.vi, page.message.vi),
  });
}

/** The public, checked facts an error page is drawn from; the page at errorPageUrl shows the same from them. */
export interface ErrorPageParams {
  client?: string | undefined;
  interaction?: string | undefined;
  source?: string | undefined;
  attributes?: readonly string[] | undefined;
  /** The field of an input error (src/errors/pages.ts, INPUT_PROBLEMS). */
  field?: string | undefined;
}

export function errorPageUrl(code: string, p: ErrorPageParams = {}): string {
  const q = new URLSearchParams();
  if (p.client) q.set('client', p.client);
  if (p.interaction) q.set('interaction', p.interaction);
  if (p.source) q.set('source', p.source);
  if (p.attributes?.length) q.set('attributes', p.attributes.join(','));
  if (p.field) q.set('field', p.field);
  const query = q.toString();
  return `${ERROR_PAGE_PATH}/${encodeURIComponent(code)}${query ? `?${query}` : ''}`;
}
