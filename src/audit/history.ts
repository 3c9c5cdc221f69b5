// A citizen's history is their part of the audit trail, read as it is: which
// events are theirs (HISTORY_EVENTS, all with the account as subject) and the
// bilingual line each becomes. Nothing of it is stored a second time. Pure: the
// names of services and sources come in through `HistoryNames`.
// Dates as every nixa page writes them (dd/mm/yyyy HH:mm, Vietnam time). src/pages imports nothing of src/audit.
import { formatCalendarDate, formatDateTime } from '../pages/index.js';
import { deviceWords, storedDevice } from './device.js';
import type { AuditEventName } from './events.js';
import type { ChainRow } from './chain.js';

type StoredAuditEvent = Pick<ChainRow, 'seq' | 'at' | 'event' | 'actor' | 'subject' | 'reason' | 'details'>;

/** The events a citizen sees about their account, newest first. Each is written with the account id as subject. */
export const HISTORY_EVENTS = [
  'SIGN_IN',
  'SIGN_IN_REFUSED',
  'ACCOUNT_CREATED',
  'ACCOUNT_LINKED',
  'LINK_CONFLICT',
  'STEP_UP',
  'CONSENT_GIVEN',
  'CONSENT_REFUSED',
  'CONSENT_WITHDRAWN',
  'FACTOR_ENROLLED',
  'FACTOR_REMOVED',
  'FACTOR_FAILED',
  'ACCOUNT_LOCKED',
  'ACCOUNT_UNLOCKED',
  'RECOVERY_CODES_ISSUED',
  'PASSKEY_COUNTER_REGRESSION',
  'ACCOUNT_LOOKED_UP',
  'ACCOUNT_SUSPENDED',
  'ACCOUNT_REINSTATED',
  'OPERATOR_ROLE_GRANTED',
  'OPERATOR_ROLE_REVOKED',
  'ACCOUNT_SESSIONS_ENDED',
  'ACCOUNT_ACTIVITY_DISPUTED',
  'PHONE_BOUND',
  'PHONE_UNBOUND',
  'BOUND_PHONE_SIGN_IN',
  'CROSS_DEVICE_APPROVED',
  'CROSS_DEVICE_DENIED',
  'REPRESENTATION_CHOSEN',
  'REPRESENTATION_ENDED',
  'ACTING_FOR_CHOSEN',
  'ACTED_FOR_BY',
  'ACTING_FOR_ENDED',
  'DELEGATION_GRANTED',
  'DELEGATION_REVOKED',
] as const satisfies readonly AuditEventName[];

export type HistoryEventName = (typeof HISTORY_EVENTS)[number];

/** Display names, looked up by the caller (a service or source removed since: undefined, and its id is shown). */
export interface HistoryNames {
  service(clientId: string): string | undefined;
  source(sourceId: string): { vi: string; en: string } | undefined;
  /** A person's name by account id (the other person of a helper's authorisation); undefined: not known. */
  person?(accountId: string): string | undefined;
}

export interface Words {
  vi: string;
  en: string;
}

export interface HistoryLine {
  seq: number;
  event: string;
  /** dd/mm/yyyy HH:mm, Vietnam time (UTC+7 all year). */
  when: string;
  /** ISO 8601, for a <time datetime>. */
  at: string;
  what: Words;
  /** Who acted, when it was not the citizen or a source: an operator as the trail records them. */
  by?: Words;
  /** The reason the operator stated. */
  reason?: string;
  /** A security event the citizen should look at. */
  alert: boolean;
  /** Whether "this wasn't me" is offered for it (not for the citizen's own report). */
  disputable: boolean;
}

const LEVELS: Record<string, Words> = {
  low: { vi: 'thấp', en: 'low' },
  substantial: { vi: 'đáng kể', en: 'substantial' },
  high: { vi: 'cao', en: 'high' },
};

// RFC 8176 method references a source or nixa reports; 'fed', 'mfa' and 'user' say nothing a citizen would recognise.
const AMR: Record<string, Words> = {
  pwd: { vi: 'mật khẩu', en: 'password' },
  otp: { vi: 'mã dùng một lần', en: 'one-time code' },
  sms: { vi: 'mã qua tin nhắn SMS', en: 'code by text message' },
  face: { vi: 'nhận diện khuôn mặt', en: 'face recognition' },
  fpt: { vi: 'vân tay', en: 'fingerprint' },
  hwk: { vi: 'khóa truy cập', en: 'passkey' },
  swk: { vi: 'khóa phần mềm', en: 'software key' },
  pin: { vi: 'mã PIN', en: 'PIN' },
};

const METHODS: Record<string, Words> = {
  totp: { vi: 'mã từ ứng dụng xác thực', en: 'a code from the authenticator app' },
  'recovery-code': { vi: 'mã khôi phục', en: 'a recovery code' },
  passkey: { vi: 'khóa truy cập', en: 'a passkey' },
};

const FACTORS: Record<string, Words> = {
  totp: { vi: 'ứng dụng xác thực', en: 'an authenticator app' },
  passkey: { vi: 'khóa truy cập', en: 'a passkey' },
};

const DENIALS: Record<string, Words> = {
  citizen: { vi: 'đã bị bạn từ chối', en: 'refused by you' },
  'wrong-number': { vi: 'bị từ chối vì chọn sai số', en: 'refused: the wrong number was picked' },
  'second-scan': { vi: 'bị hủy vì mã được quét từ một điện thoại khác', en: 'cancelled: its code was scanned by another phone' },
  'other-account': { vi: 'bị từ chối vì máy tính đang đăng nhập tài khoản khác', en: 'refused: the computer is signed in to another account' },
  level: { vi: 'bị từ chối vì điện thoại chưa đủ mức độ đảm bảo dịch vụ cần', en: 'refused: the phone cannot give the level the service needs' },
};

const ROLES: Record<string, Words> = {
  'source-operator': { vi: 'cán bộ vận hành nguồn định danh', en: 'source operator' },
  'service-operator': { vi: 'cán bộ vận hành dịch vụ', en: 'service operator' },
  'security-officer': { vi: 'cán bộ an ninh', en: 'security officer' },
  auditor: { vi: 'kiểm toán viên', en: 'auditor' },
};

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const same = (s: string): Words => ({ vi: s, en: s });

function words(map: Record<string, Words>, key: unknown, fallback: Words): Words {
  return (typeof key === 'string' && map[key]) || fallback;
}

/** "A, B và C" / "A, B and C". */
function list(items: Words[]): Words {
  const join = (xs: string[], and: string) => (xs.length <= 1 ? (xs[0] ?? '') : `${xs.slice(0, -1).join(', ')} ${and} ${xs[xs.length - 1]}`);
  return { vi: join(items.map((i) => i.vi), 'và'), en: join(items.map((i) => i.en), 'and') };
}

/** Who acted, as the trail records them; undefined for the citizen themself and for sources (named in the line). */
function actorWords(actor: string, accountId: string | null): Words | undefined {
  const [kind, ...rest] = actor.split(':');
  const id = rest.join(':');
  switch (kind) {
    case 'operator':
      return { vi: `cán bộ vận hành có mã tài khoản ${id}`, en: `the operator with account id ${id}` };
    case 'client':
      return { vi: `hệ thống quản trị ${id}`, en: `the administration system ${id}` };
    case 'cli':
      return { vi: `quản trị viên trên máy chủ (${id})`, en: `an administrator on the server (${id})` };
    case 'system':
      return { vi: 'hệ thống nixa', en: 'the nixa system' };
    case 'account':
      return id === accountId ? undefined : { vi: `tài khoản ${id}`, en: `account ${id}` };
    case 'source':
      return undefined;
    default:
      return same(actor);
  }
}

/** The words for one event of a citizen's history. */
export function historyLine(e: StoredAuditEvent, names: HistoryNames): HistoryLine {
  const d = e.details ?? {};
  const sourceId = e.actor.startsWith('source:') ? e.actor.slice('source:'.length) : str(d.source);
  const source = sourceId ? (names.source(sourceId) ?? same(sourceId)) : { vi: 'một nguồn định danh', en: 'an identity source' };
  const clientId = str(d.client);
  const service = clientId ? same(names.service(clientId) ?? clientId) : undefined;
  const level = words(LEVELS, d.level, { vi: 'không rõ', en: 'unknown' });
  const device = storedDevice(d.device);
  const on = device ? deviceWords(device) : undefined;
  const onDevice = on ? { vi: `, trên ${on.vi}`, en: `, on ${on.en}` } : { vi: '', en: '' };
  const to = service ? { vi: ` vào «${service.vi}»`, en: ` to “${service.en}”` } : { vi: ' vào nixa', en: ' to nixa' };
  let what: Words;
  let alert = false;
  switch (e.event as HistoryEventName) {
    case 'SIGN_IN': {
      const factors = Array.isArray(d.amr) ? d.amr.flatMap((m) => (typeof m === 'string' && AMR[m] ? [AMR[m]] : [])) : [];
      const by = factors.length ? list(factors) : undefined;
      what = {
        vi: `Đăng nhập${to.vi} qua «${source.vi}», mức độ đảm bảo «${level.vi}»${by ? `, bằng ${by.vi}` : ''}${onDevice.vi}`,
        en: `Signed in${to.en} through “${source.en}”, assurance level “${level.en}”${by ? `, with ${by.en}` : ''}${onDevice.en}`,
      };
      break;
    }
    case 'CROSS_DEVICE_APPROVED':
      what =
        d.kind === 'ciba'
          ? {
              vi: `Xác nhận trên điện thoại yêu cầu của «${service?.vi ?? '?'}», mức độ đảm bảo «${level.vi}»`,
              en: `Approved on your phone a request of “${service?.en ?? '?'}”, assurance level “${level.en}”`,
            }
          : {
              vi: `Đăng nhập${to.vi} bằng điện thoại đã liên kết, mức độ đảm bảo «${level.vi}»${onDevice.vi}`,
              en: `Signed in${to.en} with your bound phone, assurance level “${level.en}”${onDevice.en}`,
            };
      break;
    case 'CROSS_DEVICE_DENIED': {
      alert = d.reason !== 'citizen';
      const why = words(DENIALS, d.reason, { vi: 'bị từ chối', en: 'refused' });
      what = { vi: `Một lần đăng nhập${to.vi} bằng điện thoại ${why.vi}`, en: `A sign-in${to.en} with your phone was ${why.en}` };
      break;
    }
    case 'BOUND_PHONE_SIGN_IN':
      what = {
        vi: `Đăng nhập${to.vi} trên điện thoại đã liên kết, bằng khóa truy cập của điện thoại, mức độ đảm bảo «${level.vi}»${onDevice.vi}`,
        en: `Signed in${to.en} on your bound phone, with its passkey, assurance level “${level.en}”${onDevice.en}`,
      };
      break;
    case 'PHONE_BOUND':
      what = { vi: `Liên kết một điện thoại để đăng nhập${onDevice.vi}`, en: `Bound a phone for signing in${onDevice.en}` };
      break;
    case 'PHONE_UNBOUND':
      what = { vi: 'Gỡ một điện thoại đã liên kết', en: 'Removed a bound phone' };
      break;
    case 'SIGN_IN_REFUSED':
      alert = true;
      what = {
        vi: `Một lần đăng nhập qua «${source.vi}» bị từ chối vì tài khoản đang bị tạm khóa`,
        en: `A sign-in through “${source.en}” was refused because the account is suspended`,
      };
      break;
    case 'ACCOUNT_CREATED':
      // A child's account is made by their parent's first act for them (accounts/wards.ts), not by a sign-in of theirs.
      what =
        d.by === 'guardian'
          ? {
              vi: `Tài khoản nixa được tạo khi cha mẹ (người đại diện theo pháp luật) lần đầu làm thủ tục thay bạn, theo thông tin của «${source.vi}»`,
              en: `Your nixa account was created when your parent (legal representative) first acted for you, from what “${source.en}” records`,
            }
          : { vi: `Tài khoản nixa được tạo khi bạn đăng nhập lần đầu qua «${source.vi}»`, en: `Your nixa account was created at your first sign-in, through “${source.en}”` };
      break;
    case 'ACCOUNT_LINKED':
      what = { vi: `«${source.vi}» được liên kết với tài khoản của bạn`, en: `“${source.en}” was linked to your account` };
      break;
    case 'LINK_CONFLICT':
      alert = true;
      what = {
        vi: `Một lần đăng nhập qua «${source.vi}» bị từ chối: thông tin nguồn gửi không khớp với tài khoản của bạn`,
        en: `A sign-in through “${source.en}” was refused: what the source sent does not match your account`,
      };
      break;
    case 'STEP_UP': {
      const method = words(METHODS, d.method, { vi: 'một phương thức xác thực', en: 'a second factor' });
      what = {
        vi: `Nâng mức độ đảm bảo lên «${level.vi}» bằng ${method.vi}${service ? ` cho «${service.vi}»` : ''}${onDevice.vi}`,
        en: `Raised the assurance level to “${level.en}” with ${method.en}${service ? ` for “${service.en}”` : ''}${onDevice.en}`,
      };
      break;
    }
    case 'CONSENT_GIVEN':
      what = { vi: `Đồng ý chia sẻ thông tin với «${service?.vi ?? '?'}»`, en: `Agreed to share information with “${service?.en ?? '?'}”` };
      break;
    case 'REPRESENTATION_CHOSEN': {
      // The organisation's name as the registry gave it at that time, and its code.
      const code = typeof d.enterprise === 'string' ? d.enterprise : undefined;
      const name = typeof d.name === 'string' ? d.name : undefined;
      const org = name && code ? { vi: `${name} (${code})`, en: `${name} (${code})` } : { vi: code ?? 'một tổ chức', en: code ?? 'an organisation' };
      what = { vi: `Đăng nhập vào «${service?.vi ?? '?'}» thay mặt ${org.vi}`, en: `Signed in to “${service?.en ?? '?'}” acting for ${org.en}` };
      break;
    }
    case 'REPRESENTATION_ENDED': {
      const code = typeof d.enterprise === 'string' ? ` ${d.enterprise}` : '';
      what = {
        vi: `Bạn không còn được làm việc thay mặt doanh nghiệp${code} tại «${service?.vi ?? '?'}»: cơ quan đăng ký không còn xác nhận`,
        en: `You may no longer act for company${code} at “${service?.en ?? '?'}”: the registry no longer vouches for it`,
      };
      break;
    }
    case 'ACTING_FOR_CHOSEN': {
      // Names looked up when shown (HistoryNames.person), never kept in the trail.
      const whom = (typeof d.represented_account === 'string' ? names.person?.(d.represented_account) : undefined) ?? 'một người khác';
      const as = d.relation === 'guardian' ? { vi: 'với tư cách cha mẹ', en: 'as their parent' } : { vi: 'với tư cách người giúp', en: 'as their helper' };
      what = { vi: `Đăng nhập vào «${service?.vi ?? '?'}» thay mặt ${whom} (${as.vi})`, en: `Signed in to “${service?.en ?? '?'}” for ${whom === 'một người khác' ? 'another person' : whom} (${as.en})` };
      break;
    }
    case 'ACTED_FOR_BY': {
      const who = typeof d.actor_account === 'string' ? names.person?.(d.actor_account) : undefined;
      const as = d.relation === 'guardian' ? { vi: 'cha mẹ của bạn', en: 'your parent' } : { vi: 'người giúp bạn đã cho phép', en: 'the helper you authorised' };
      what = {
        vi: `${who ?? 'Một người'} (${as.vi}) đã đăng nhập vào «${service?.vi ?? '?'}» thay mặt bạn`,
        en: `${who ?? 'Someone'} (${as.en}) signed in to “${service?.en ?? '?'}” for you`,
      };
      break;
    }
    case 'ACTING_FOR_ENDED':
      what = {
        vi: `Quyền thay mặt bạn tại «${service?.vi ?? '?'}» đã chấm dứt; các phiên làm việc thay mặt đã bị thu hồi`,
        en: `Acting for you at “${service?.en ?? '?'}” has ended; the sessions acting for you were revoked`,
      };
      break;
    case 'DELEGATION_GRANTED':
    case 'DELEGATION_REVOKED': {
      // One event, two readers: the grantor (subject = grantor_account) and the helper (subject = helper_account).
      const clients = Array.isArray(d.clients) ? d.clients.filter((c): c is string => typeof c === 'string') : [];
      const named = clients.map((c) => names.service(c) ?? c);
      const services = list(named.map((n) => ({ vi: `«${n}»`, en: `“${n}”` })));
      const at = named.length ? { vi: ` tại ${services.vi}`, en: ` at ${services.en}` } : { vi: '', en: '' };
      const lastDay = str(d.valid_until);
      const until = lastDay ? { vi: ` đến hết ngày ${formatCalendarDate(lastDay)}`, en: ` until ${formatCalendarDate(lastDay)}` } : { vi: '', en: '' };
      const helper = str(d.helper);
      const grantorId = str(d.grantor_account);
      const grantorName = grantorId ? names.person?.(grantorId) : undefined;
      const asHelper = e.subject !== null && e.subject === str(d.helper_account) && e.subject !== grantorId;
      // The other person: for the helper, the grantor by name; for the grantor, the helper by masked number.
      const them = asHelper
        ? grantorName
          ? { vi: grantorName, en: grantorName, Vi: grantorName, En: grantorName }
          : { vi: 'một người', en: 'someone', Vi: 'Một người', En: 'Someone' }
        : helper
          ? { vi: `người có số định danh ${helper}`, en: `the person with ID number ${helper}`, Vi: `Người có số định danh ${helper}`, En: `The person with ID number ${helper}` }
          : { vi: 'một người', en: 'someone', Vi: 'Một người', En: 'Someone' };
      if (e.event === 'DELEGATION_GRANTED') {
        what = asHelper
          ? { vi: `${them.Vi} cho phép bạn làm thay họ${at.vi}${until.vi}`, en: `${them.En} authorised you to act for them${at.en}${until.en}` }
          : { vi: `Bạn cho phép ${them.vi} làm thay bạn${at.vi}${until.vi}`, en: `You authorised ${them.en} to act for you${at.en}${until.en}` };
      } else {
        const byHelper = d.by === 'helper';
        what = asHelper
          ? byHelper
            ? { vi: `Bạn thôi giúp ${them.vi}${at.vi}`, en: `You stopped acting for ${them.en}${at.en}` }
            : { vi: `${them.Vi} thu hồi quyền bạn làm thay họ${at.vi}`, en: `${them.En} revoked your authorisation to act for them${at.en}` }
          : byHelper
            ? { vi: `${them.Vi} thôi làm thay bạn${at.vi}`, en: `${them.En} stopped acting for you${at.en}` }
            : { vi: `Bạn thu hồi quyền ${them.vi} làm thay bạn${at.vi}`, en: `You revoked the authorisation of ${them.en} to act for you${at.en}` };
      }
      break;
    }
    case 'CONSENT_REFUSED':
      what = { vi: `Từ chối chia sẻ thông tin với «${service?.vi ?? '?'}»`, en: `Refused to share information with “${service?.en ?? '?'}”` };
      break;
    case 'CONSENT_WITHDRAWN':
      what = { vi: `Rút lại đồng ý chia sẻ thông tin với «${service?.vi ?? '?'}»`, en: `Withdrew consent from “${service?.en ?? '?'}”` };
      break;
    case 'FACTOR_ENROLLED': {
      const f = words(FACTORS, d.method, { vi: 'phương thức xác thực', en: 'a second factor' });
      what = { vi: `Thêm ${f.vi}`, en: `Added ${f.en}` };
      break;
    }
    case 'FACTOR_REMOVED': {
      const f = words(FACTORS, d.method, { vi: 'phương thức xác thực', en: 'a second factor' });
      what = { vi: `Gỡ ${f.vi}`, en: `Removed ${f.en}` };
      break;
    }
    case 'FACTOR_FAILED':
      alert = true;
      what = {
        vi: `Một lần nhập ${words(METHODS, d.method, { vi: 'mã', en: 'a code' }).vi} bị từ chối`,
        en: `An attempt with ${words(METHODS, d.method, { vi: 'mã', en: 'a code' }).en} was refused`,
      };
      break;
    case 'ACCOUNT_LOCKED':
      alert = true;
      what = { vi: 'Xác thực bước hai bị tạm khóa vì nhập sai quá nhiều lần', en: 'Second factors were locked after too many failed attempts' };
      break;
    case 'ACCOUNT_UNLOCKED':
      what = { vi: 'Xác thực bước hai được mở khóa', en: 'Second factors were unlocked' };
      break;
    case 'RECOVERY_CODES_ISSUED':
      what = { vi: 'Tạo bộ mã khôi phục mới; các mã cũ không còn dùng được', en: 'A new set of recovery codes was issued; the old codes no longer work' };
      break;
    case 'PASSKEY_COUNTER_REGRESSION':
      alert = true;
      what = {
        vi: 'Một khóa truy cập trả lời bất thường (có thể đã bị sao chép); nixa đã từ chối',
        en: 'A passkey answered abnormally (it may have been copied); nixa refused it',
      };
      break;
    case 'ACCOUNT_LOOKED_UP':
      what = { vi: 'Tài khoản của bạn được tra cứu', en: 'Your account was looked up' };
      break;
    case 'ACCOUNT_SUSPENDED':
      alert = true;
      what = { vi: 'Tài khoản của bạn bị tạm khóa; mọi phiên đăng nhập đã kết thúc', en: 'Your account was suspended; every sign-in session was ended' };
      break;
    case 'ACCOUNT_REINSTATED':
      what = { vi: 'Tài khoản của bạn được mở lại', en: 'Your account was reinstated' };
      break;
    case 'OPERATOR_ROLE_GRANTED': {
      const r = words(ROLES, d.role, same(String(d.role ?? '?')));
      what = { vi: `Tài khoản của bạn được giao vai trò «${r.vi}»`, en: `Your account was given the role “${r.en}”` };
      break;
    }
    case 'OPERATOR_ROLE_REVOKED': {
      const r = words(ROLES, d.role, same(String(d.role ?? '?')));
      what = { vi: `Vai trò «${r.vi}» của tài khoản được thu hồi`, en: `Your account's role “${r.en}” was taken away` };
      break;
    }
    case 'ACCOUNT_SESSIONS_ENDED':
      what = { vi: 'Bạn đã kết thúc mọi phiên đăng nhập nixa', en: 'You ended every nixa sign-in session' };
      break;
    case 'ACCOUNT_ACTIVITY_DISPUTED':
      alert = true;
      what = {
        vi: `Bạn báo hoạt động số ${String(d.seq ?? '?')} không phải do mình: mọi phiên đăng nhập đã kết thúc, mọi quyền truy cập của dịch vụ đã bị thu hồi`,
        en: `You reported activity no. ${String(d.seq ?? '?')} as not yours: every sign-in session was ended and every service's access revoked`,
      };
      break;
    default:
      what = same(e.event);
  }
  // A helper's authorisation names both people in its line: no "by account …" under it.
  const by = e.event === 'DELEGATION_GRANTED' || e.event === 'DELEGATION_REVOKED' ? undefined : actorWords(e.actor, e.subject);
  return {
    seq: e.seq,
    event: e.event,
    when: formatDateTime(new Date(e.at)),
    at: e.at,
    what,
    ...(by ? { by } : {}),
    ...(e.reason ? { reason: e.reason } : {}),
    alert,
    disputable: e.event !== 'ACCOUNT_ACTIVITY_DISPUTED',
  };
}
