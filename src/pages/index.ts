// Server-rendered pages: HTML templates in views/ with {{escaped}} and {{{raw}}}
// placeholders, inside one bilingual layout (Vietnamese first, English beside).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

import { VIEWS_DIR } from '../paths.js';
import { escapeHtml } from './html.js';

export { escapeHtml } from './html.js';
export { dateHtml, dateTimeHtml, formatCalendarDate, formatDate, formatDateTime, todayInVietnam, VIETNAM_TIME_ZONE } from './dates.js';
export { contactHtml, footerHtml, serviceFooter } from './footer.js';

const cache = new Map<string, string>();

function template(name: string): string {
  let t = cache.get(name);
  if (t === undefined) {
    t = readFileSync(join(VIEWS_DIR, `${name}.html`), 'utf8');
    cache.set(name, t);
  }
  return t;
}

function fill(t: string, values: Record<string, unknown>): string {
  return t
    .replace(/\{\{\{(\w+)\}\}\}/g, (_, k: string) => String(values[k] ?? ''))
    .replace(/\{\{(\w+)\}\}/g, (_, k: string) => escapeHtml(values[k]));
}

/** Renders views/<name>.html alone, to be placed inside another page. */
export function renderFragment(name: string, values: Record<string, unknown>): string {
  return fill(template(name), values);
}

/**
 * Renders views/<name>.html inside views/<layout>.html (as {{{body}}}). The demo
 * service and the simulated sources have layouts of their own.
 */
export function renderInLayout(layout: string, name: string, values: Record<string, unknown>): string {
  return fill(template(layout), { ...values, body: fill(template(name), values) });
}

/** Renders views/<name>.html inside nixa's layout, views/layout.html. */
export function renderPage(name: string, values: Record<string, unknown> & { title: string }): string {
  return renderInLayout('layout', name, values);
}

/** A bilingual notice: Vietnamese, then English; `alert` for errors a screen reader must say at once. */
export const notice = (role: 'status' | 'alert', vi: string, en: string): string =>
  `<div class="notice" role="${role}"><p>${escapeHtml(vi)}</p><p lang="en">${escapeHtml(en)}</p></div>`;

export const STYLESHEET = () => readFileSync(join(VIEWS_DIR, 'nixa.css'), 'utf8');

/**
 * The scripts nixa's pages use, by asset path: the passkey pages, and the page that
 * posts the sign-out on to an identity source (sign-out.js). webauthn.js is
 * @simplewebauthn/browser's own bundle, served as it is shipped.
 */
export const SCRIPTS: Readonly<Record<string, () => string>> = {
  '/assets/sign-out.js': () => readFileSync(join(VIEWS_DIR, 'sign-out.js'), 'utf8'),
  '/assets/passkeys.js': () => readFileSync(join(VIEWS_DIR, 'passkeys.js'), 'utf8'),
  '/assets/cross-device.js': () => readFileSync(join(VIEWS_DIR, 'cross-device.js'), 'utf8'),
  '/assets/phone-push.js': () => readFileSync(join(VIEWS_DIR, 'phone-push.js'), 'utf8'),
  '/assets/webauthn.js': () => readFileSync(join(webauthnBrowserRoot(), 'dist', 'bundle', 'index.umd.min.js'), 'utf8'),
};

function webauthnBrowserRoot(): string {
  // The package exports only its entry points: find its folder from the CommonJS one (script/index.js).
  return dirname(dirname(createRequire(import.meta.url).resolve('@simplewebauthn/browser')));
}

export { language, LANGUAGE_COOKIE, LANGUAGE_PATH, languageReturnsTo } from './language.js';
export {
  ERROR_PAGE_PATH,
  errorPageUrl,
  renderErrorPage,
  serviceLink,
  termsWhereUsed,
  waysForward,
  type ClientLike,
  type ErrorPage,
  type ErrorPageParams,
  type ServiceLink,
  type WayForward,
} from './error-page.js';
