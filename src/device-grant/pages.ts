// The verification pages a citizen meets at /device (RFC 8628 §3.3), rendered in
// nixa's layout for oidc-provider's deviceFlow: the code form (with what went
// wrong), the confirmation naming the service, the result, and the wait after too
// many wrong codes. The forms carry oidc-provider's own xsrf token (bound to the
// browser's session); no script, no inline style.
import { dateTimeHtml, notice, renderPage } from '../pages/index.js';

export const CODE_VERIFICATION_PATH = '/device';

/** Why the code form is shown again: oidc-provider's re-render errors, by name, or any other failure. */
export type CodeProblem = 'no-code' | 'unknown' | 'expired' | 'used' | 'failed';

const PROBLEMS: Record<CodeProblem, { vi: string; en: string }> = {
  'no-code': { vi: 'Hãy nhập mã đang hiển thị trên màn hình thiết bị.', en: 'Please enter the code shown on the device’s screen.' },
  unknown: {
    vi: 'Không có mã này. Hãy kiểm tra lại mã trên màn hình thiết bị rồi nhập lại.',
    en: 'There is no such code. Check the code on the device’s screen and type it again.',
  },
  expired: {
    vi: 'Mã này đã hết hạn. Hãy bắt đầu lại trên thiết bị để nhận mã mới.',
    en: 'This code has expired. Start again on the device to get a new one.',
  },
  used: {
    vi: 'Mã này đã được dùng. Mỗi mã chỉ dùng được một lần; hãy bắt đầu lại trên thiết bị để nhận mã mới.',
    en: 'This code was already used. Each code works once; start again on the device to get a new one.',
  },
  failed: {
    vi: 'nixa chưa xử lý được yêu cầu. Hãy thử lại sau giây lát, hoặc bắt đầu lại trên thiết bị.',
    en: 'nixa could not handle the request. Try again in a moment, or start again on the device.',
  },
};

const TITLE = 'Đăng nhập cho thiết bị';

export function codeFormPage(o: { action: string; xsrf: string; code?: string; problem?: CodeProblem; errorCode?: string }): string {
  const p = o.problem ? PROBLEMS[o.problem] : undefined;
  const suffix = o.problem === 'failed' && o.errorCode ? ` (${o.errorCode})` : '';
  return renderPage('device-code', {
    title: TITLE,
    action: o.action,
    xsrf: o.xsrf,
    code: o.code ?? '',
    notice: p ? notice('alert', p.vi + suffix, p.en + suffix) : '',
  });
}

export function confirmPage(o: { action: string; xsrf: string; userCode: string; clientName: string; requestedAt?: Date }): string {
  return renderPage('device-confirm', {
    title: 'Xác nhận thiết bị',
    action: o.action,
    xsrf: o.xsrf,
    userCode: o.userCode,
    clientName: o.clientName,
    requestedAt: o.requestedAt ? dateTimeHtml(o.requestedAt) : '—',
  });
}

export function donePage(clientName: string): string {
  return renderPage('device-done', { title: 'Thiết bị đã được đăng nhập', clientName });
}

export function deniedPage(action: string, clientName?: string): string {
  return renderPage('device-denied', {
    title: 'Đã từ chối',
    action,
    clientNameVi: clientName ? ` (dịch vụ: ${clientName})` : '',
    clientNameEn: clientName ? ` (service: ${clientName})` : '',
  });
}

export function waitPage(wait: { vi: string; en: string }): string {
  return renderPage('device-wait', { title: 'Đã nhập sai mã quá nhiều lần', waitVi: wait.vi, waitEn: wait.en });
}
