// The console's home: who is signed in, their roles and what each allows.
import { escapeHtml as e } from '../pages/index.js';
import type { ConsoleRoute } from './app.js';
import { t } from './pages.js';

export const ROLE_WORDS: Record<string, [string, string]> = {
  'source-operator': ['Vận hành nguồn định danh', 'Source operator'],
  'service-operator': ['Vận hành dịch vụ', 'Service operator'],
  'security-officer': ['Cán bộ an ninh', 'Security officer'],
  auditor: ['Kiểm toán viên', 'Auditor'],
};

export const PERMISSION_WORDS: Record<string, [string, string]> = {
  'sources:read': ['Xem các nguồn định danh và kiểm tra kết nối', 'See identity sources and test their connection'],
  'sources:write': ['Thêm nguồn định danh, bật, tắt và sửa chúng', 'Onboard identity sources, enable, disable and change them'],
  'clients:read': ['Xem các dịch vụ đã đăng ký', 'See registered services'],
  'clients:write': ['Đăng ký dịch vụ và đặt mức độ đảm bảo tối thiểu', 'Register services and set their minimum level'],
  'keys:read': ['Xem khóa ký và vòng đời của chúng', 'See signing keys and their lifecycle'],
  'keys:write': ['Xoay vòng và thu hồi khóa ký', 'Rotate and revoke signing keys'],
  'accounts:read': ['Tra cứu tài khoản công dân (có ghi lý do)', 'Look citizens’ accounts up (with a stated reason)'],
  'accounts:write': ['Tạm khóa và khôi phục tài khoản công dân', 'Suspend and reinstate citizens’ accounts'],
  'operators:read': ['Xem người vận hành và vai trò của họ', 'See operators and their roles'],
  'operators:write': ['Cấp và thu hồi vai trò của người khác', 'Grant and take away other people’s roles'],
  'audit:read': ['Tìm kiếm và kiểm tra nhật ký kiểm toán', 'Search and verify the audit trail'],
};

export const words = (table: Record<string, [string, string]>, key: string) => {
  const w = table[key];
  return w ? t(w[0], w[1]) : e(key);
};

export const HOME_ROUTES: ConsoleRoute[] = [
  {
    method: 'GET',
    path: '',
    handle: async (c) => {
      c.page('console-home', {
        title: 'Tổng quan',
        name: c.session.name,
        accountId: c.session.accountId,
        roles: `<ul>${c.me.roles.map((r) => `<li>${words(ROLE_WORDS, r)} <code>${e(r)}</code></li>`).join('')}</ul>`,
        permissions: `<ul>${c.me.permissions.map((p) => `<li>${words(PERMISSION_WORDS, p)} <code>${e(p)}</code></li>`).join('')}</ul>`,
      });
    },
  },
];
