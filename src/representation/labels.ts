// How representation is named to a person, in Vietnamese and English.
import type { RepresentationRole } from '../registries/contract.js';

type Label = { vi: string; en: string };

const ROLES: Record<RepresentationRole, Label> = {
  legal_representative: { vi: 'Người đại diện theo pháp luật', en: 'legal representative' },
  mandate: { vi: 'Được ủy quyền', en: 'mandated' },
};

const TASKS: Record<string, Label> = {
  tax_filing: { vi: 'khai và nộp thuế', en: 'tax filing' },
  social_insurance: { vi: 'bảo hiểm xã hội', en: 'social insurance' },
  customs: { vi: 'thủ tục hải quan', en: 'customs' },
  business_registration: { vi: 'đăng ký doanh nghiệp', en: 'business registration' },
  invoices: { vi: 'hóa đơn điện tử', en: 'e-invoices' },
};

export const roleLabel = (r: RepresentationRole): Label => ROLES[r];

/** A task a registry names: by its name when nixa knows it, else by its code. */
export const taskLabel = (t: string): Label => TASKS[t] ?? { vi: t, en: t };
