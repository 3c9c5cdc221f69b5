// The footer of every nixa page: who runs this nixa and where a citizen finds
// help, contact, the privacy notice, the accessibility statement and the terms,
// as the operator configured them (NIXA_AGENCY_NAME … NIXA_TERMS_URL). The
// layout carries a marker; one middleware fills it for every page of the app,
// error pages included, so no page renders the footer itself.
import type { Context, Next } from 'koa';

import type { ServiceIdentity } from '../config/index.js';
import { escapeHtml as e } from './html.js';

const MARKER = '<!-- nixa:footer -->';

/** The contact lines (email, and telephone when configured), also used by the help pages. */
export function contactHtml(s: ServiceIdentity): string {
  const phone = s.contactPhone
    ? `<li>Điện thoại<span lang="en"> (Telephone)</span>: <a href="tel:${e(s.contactPhone.replace(/[ .-]/g, ''))}">${e(s.contactPhone)}</a></li>`
    : '';
  return `<ul class="contact"><li>Thư điện tử<span lang="en"> (Email)</span>: <a href="mailto:${e(s.contactEmail)}">${e(s.contactEmail)}</a></li>${phone}</ul>`;
}

export function footerHtml(s: ServiceIdentity): string {
  const link = (href: string, vi: string, en: string) => `<li><a href="${e(href)}">${vi} <span lang="en">(${en})</span></a></li>`;
  return `<footer class="site">
    <p>Dịch vụ do <strong>${e(s.agency.vi)}</strong> vận hành. <span lang="en">(Run by ${e(s.agency.en)}.)</span></p>
    <nav aria-label="Thông tin về dịch vụ (About this service)">
    <ul>
      ${link(s.helpUrl, 'Trợ giúp', 'Help')}
      <li>Liên hệ<span lang="en"> (Contact)</span>: <a href="mailto:${e(s.contactEmail)}">${e(s.contactEmail)}</a>${s.contactPhone ? `, <a href="tel:${e(s.contactPhone.replace(/[ .-]/g, ''))}">${e(s.contactPhone)}</a>` : ''}</li>
      ${link(s.privacyUrl, 'Quyền riêng tư', 'Privacy notice')}
      ${link(s.accessibilityUrl, 'Khả năng tiếp cận', 'Accessibility statement')}
      ${link(s.termsUrl, 'Điều khoản sử dụng', 'Terms of use')}
    </ul></nav>
  </footer>`;
}

/** Fills the layout's footer marker in every HTML page the app answers with. */
export function serviceFooter(s: ServiceIdentity) {
  const html = footerHtml(s);
  return async function footer(ctx: Context, next: Next): Promise<void> {
    await next();
    if (typeof ctx.body === 'string' && ctx.body.includes(MARKER)) ctx.body = ctx.body.replace(MARKER, html);
  };
}
