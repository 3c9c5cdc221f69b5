// nixa's own front door: the home page (what nixa is, who runs it, the way into
// the citizen's account), the help, privacy, accessibility and terms pages when
// the operator left their links on nixa's own, and the favicon.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { Context, Next } from 'koa';

import type { ServiceIdentity } from '../config/index.js';
import { SIGN_IN_PATH } from '../my-account/index.js';
import { contactHtml, renderPage } from '../pages/index.js';
import { VIEWS_DIR } from '../paths.js';

export const HOME_PATH = '/';
const FAVICON_PATH = '/favicon.svg';

/** The pages nixa serves itself, each only while its link points here (an operator may publish their own). */
const INFO_PAGES = [
  { path: '/help', view: 'info-help', title: 'Trợ giúp', link: (s: ServiceIdentity) => s.helpUrl },
  { path: '/privacy', view: 'info-privacy', title: 'Thông báo về quyền riêng tư', link: (s: ServiceIdentity) => s.privacyUrl },
  { path: '/accessibility', view: 'info-accessibility', title: 'Tuyên bố về khả năng tiếp cận', link: (s: ServiceIdentity) => s.accessibilityUrl },
  { path: '/terms', view: 'info-terms', title: 'Điều khoản sử dụng', link: (s: ServiceIdentity) => s.termsUrl },
] as const;

export function frontDoor(service: ServiceIdentity) {
  const served = new Map<string, { view: string; title: string }>(INFO_PAGES.filter((p) => p.link(service) === p.path).map((p) => [p.path, p]));
  const agency = { agencyVi: service.agency.vi, agencyEn: service.agency.en };
  return async function frontDoorRoutes(ctx: Context, next: Next): Promise<void> {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    if (ctx.path === HOME_PATH) {
      ctx.type = 'html';
      ctx.body = renderPage('home', { title: 'Định danh quốc gia', ...agency, signIn: SIGN_IN_PATH });
      return;
    }
    if (ctx.path === FAVICON_PATH || ctx.path === '/favicon.ico') {
      // Browsers ask for /favicon.ico by themselves; the SVG is served there too
      // (every browser nixa supports reads an SVG icon whatever its path).
      ctx.type = 'image/svg+xml';
      ctx.set('Cache-Control', 'public, max-age=86400');
      ctx.body = readFileSync(join(VIEWS_DIR, 'favicon.svg'), 'utf8');
      return;
    }
    const page = served.get(ctx.path);
    if (!page) return next();
    ctx.type = 'html';
    ctx.body = renderPage(page.view, { title: page.title, ...agency, contact: contactHtml(service) });
  };
}
