// The citizen's history in words, without HTTP or a database: each event of the
// trail becomes one bilingual line, the device is told coarsely and only from the
// fixed lists, an operator's identifier and reason are shown as recorded.
import * as audit from '../../src/audit/index.js';
import { coarseDevice, deviceWords, historyLine, HISTORY_EVENTS, storedDevice, type HistoryNames } from '../../src/audit/index.js';
import { formatDateTime } from '../../src/pages/index.js';

const ACCOUNT = '6f1c2a9e-3b7d-4e0a-9c58-2d41f0b7a913';
const names: HistoryNames = {
  service: (id) => ({ 'dvc-hanoi': 'Cổng dịch vụ công Hà Nội', thue: 'Cổng dịch vụ thuế' })[id],
  source: (id) => ({ citizen_id: { vi: 'Ứng dụng định danh điện tử', en: 'Citizen ID app' } })[id],
};

const event = (e: Partial<Parameters<typeof historyLine>[0]> & { event: string }) => ({
  seq: 42,
  at: '2026-12-02T17:30:00.000Z',
  actor: `account:${ACCOUNT}`,
  subject: ACCOUNT,
  reason: null,
  details: {},
  ...e,
});

const CHROME_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const SAFARI_IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
const SAMSUNG_ANDROID =
  'Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36';
const EDGE_MAC = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0';
const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0';

describe('coarseDevice', () => {
  it('names the browser family and the system family, nothing else', () => {
    expect(coarseDevice(CHROME_WINDOWS)).toEqual({ browser: 'Chrome', os: 'Windows' });
    expect(coarseDevice(SAFARI_IPHONE)).toEqual({ browser: 'Safari', os: 'iOS' });
    // Samsung Internet and Edge also say "Chrome"; Android also says "Linux".
    expect(coarseDevice(SAMSUNG_ANDROID)).toEqual({ browser: 'Samsung Internet', os: 'Android' });
    expect(coarseDevice(EDGE_MAC)).toEqual({ browser: 'Edge', os: 'macOS' });
    expect(coarseDevice(FIREFOX_LINUX)).toEqual({ browser: 'Firefox', os: 'Linux' });
    expect(coarseDevice('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36')).toEqual({ browser: 'Chrome', os: 'Linux' });
  });

  it('says "other" for what is not on its lists, and keeps no part of the User-Agent (no model, no version)', () => {
    expect(coarseDevice(undefined)).toEqual({ browser: 'other', os: 'other' });
    expect(coarseDevice('curl/8.5.0')).toEqual({ browser: 'other', os: 'other' });
    expect(coarseDevice('Nguyễn Văn An 079203001234')).toEqual({ browser: 'other', os: 'other' });
    expect(JSON.stringify(coarseDevice(SAMSUNG_ANDROID))).not.toMatch(/SM-S918B|14|25\.0/);
  });

  it('reads back from the trail only names on its lists: anything else stored there is "other"', () => {
    expect(storedDevice({ browser: 'Chrome', os: 'Windows' })).toEqual({ browser: 'Chrome', os: 'Windows' });
    expect(storedDevice({ browser: '<script>', os: 'SM-S918B' })).toEqual({ browser: 'other', os: 'other' });
    expect(storedDevice('Chrome')).toBeUndefined();
    expect(deviceWords({ browser: 'Chrome', os: 'Windows' })).toEqual({ vi: 'Chrome trên Windows', en: 'Chrome on Windows' });
    expect(deviceWords({ browser: 'other', os: 'Android' })).toEqual({ vi: 'trình duyệt khác trên Android', en: 'another browser on Android' });
  });
});

describe('historyLine', () => {
  it('dates in dd/mm/yyyy HH:mm, Vietnam time (UTC+7, across midnight)', () => {
    expect(historyLine(event({ event: 'FACTOR_ENROLLED', details: { method: 'passkey' } }), names).when).toBe('03/12/2026 00:30');
  });

  it('dates with nixa’s one date format (pages/dates.ts), not one of its own', () => {
    // Across midnight, a year's end, a leap day, and a time given with an offset.
    for (const at of ['2026-12-02T17:30:00.000Z', '2026-01-05T02:04:00.000Z', '2026-12-31T16:59:59.999Z', '2028-02-28T17:00:00.000Z', '2026-06-15T23:45:00+07:00']) {
      expect({ at, when: historyLine(event({ at, event: 'FACTOR_ENROLLED', details: { method: 'passkey' } }), names).when }).toEqual({ at, when: formatDateTime(new Date(at)) });
    }
    expect(formatDateTime(new Date('2026-12-31T16:59:59.999Z'))).toBe('31/12/2026 23:59');
    expect(formatDateTime(new Date('2028-02-28T17:00:00.000Z'))).toBe('29/02/2028 00:00');
    expect(Object.keys(audit)).not.toContain('vietnamTime');
  });

  it('a sign-in: service, source, level, factors and device, in Vietnamese and English', () => {
    const line = historyLine(
      event({
        event: 'SIGN_IN',
        actor: 'source:citizen_id',
        details: { level: 'high', amr: ['pwd', 'otp', 'fed'], client: 'dvc-hanoi', device: { browser: 'Chrome', os: 'Windows' }, created: false, linked: false },
      }),
      names,
    );
    expect(line.what).toEqual({
      vi: 'Đăng nhập vào «Cổng dịch vụ công Hà Nội» qua «Ứng dụng định danh điện tử», mức độ đảm bảo «cao», bằng mật khẩu và mã dùng một lần, trên Chrome trên Windows',
      en: 'Signed in to “Cổng dịch vụ công Hà Nội” through “Citizen ID app”, assurance level “high”, with password and one-time code, on Chrome on Windows',
    });
    expect(line.by).toBeUndefined();
    expect(line).toMatchObject({ seq: 42, alert: false, disputable: true });
  });

  it('a sign-in written before devices were recorded, through a source and to a service since removed: their ids, no device', () => {
    const line = historyLine(event({ event: 'SIGN_IN', actor: 'source:old-bank', details: { level: 'low', amr: ['sms'], client: 'gone-portal' } }), names);
    expect(line.what.vi).toBe('Đăng nhập vào «gone-portal» qua «old-bank», mức độ đảm bảo «thấp», bằng mã qua tin nhắn SMS');
    expect(line.what.en).toBe('Signed in to “gone-portal” through “old-bank”, assurance level “low”, with code by text message');
  });

  it('a step-up names the method, the level reached and the service', () => {
    const line = historyLine(
      event({ event: 'STEP_UP', details: { method: 'passkey', from: 'low', level: 'high', client: 'thue', device: { browser: 'Safari', os: 'iOS' } } }),
      names,
    );
    expect(line.what.vi).toBe('Nâng mức độ đảm bảo lên «cao» bằng khóa truy cập cho «Cổng dịch vụ thuế», trên Safari trên iOS');
    expect(line.what.en).toBe('Raised the assurance level to “high” with a passkey for “Cổng dịch vụ thuế”, on Safari on iOS');
  });

  it('consents given and withdrawn, factors added and removed', () => {
    expect(historyLine(event({ event: 'CONSENT_GIVEN', details: { client: 'thue', claims: ['name'] } }), names).what.vi).toBe(
      'Đồng ý chia sẻ thông tin với «Cổng dịch vụ thuế»',
    );
    expect(historyLine(event({ event: 'CONSENT_WITHDRAWN', details: { client: 'thue', claims: [] } }), names).what.en).toBe('Withdrew consent from “Cổng dịch vụ thuế”');
    expect(historyLine(event({ event: 'FACTOR_ENROLLED', details: { method: 'totp' } }), names).what).toEqual({
      vi: 'Thêm ứng dụng xác thực',
      en: 'Added an authenticator app',
    });
    expect(historyLine(event({ event: 'FACTOR_REMOVED', details: { method: 'passkey' } }), names).what).toEqual({ vi: 'Gỡ khóa truy cập', en: 'Removed a passkey' });
  });

  it('a child’s account made by a parent’s first act for them says so, and names the parent’s account as who acted', () => {
    const PARENT = '2b7e1f0a-5c3d-4e8f-a1b2-c3d4e5f60718';
    const line = historyLine(
      event({ event: 'ACCOUNT_CREATED', actor: `account:${PARENT}`, details: { nationalId: '*********942', by: 'guardian', source: 'citizen_id', level: 'high' } }),
      names,
    );
    expect(line.what).toEqual({
      vi: 'Tài khoản nixa được tạo khi cha mẹ (người đại diện theo pháp luật) lần đầu làm thủ tục thay bạn, theo thông tin của «Ứng dụng định danh điện tử»',
      en: 'Your nixa account was created when your parent (legal representative) first acted for you, from what “Citizen ID app” records',
    });
    expect(line.by).toEqual({ vi: `tài khoản ${PARENT}`, en: `account ${PARENT}` });
    expect(historyLine(event({ event: 'ACCOUNT_CREATED', actor: 'source:citizen_id', details: { nationalId: '*********217', level: 'high' } }), names).what.en).toBe(
      'Your nixa account was created at your first sign-in, through “Citizen ID app”',
    );
  });

  it("an operator's lookup shows the operator as the trail records them and the reason they stated", () => {
    const line = historyLine(
      event({
        event: 'ACCOUNT_LOOKED_UP',
        actor: 'operator:0b8e4c1d-77aa-4f2e-b1c3-5e9d2a6f8c04',
        reason: 'Yêu cầu hỗ trợ số 2026-1187 của công dân',
        details: { by: 'national_id', nationalId: '*********217', found: true },
      }),
      names,
    );
    expect(line.what).toEqual({ vi: 'Tài khoản của bạn được tra cứu', en: 'Your account was looked up' });
    expect(line.by).toEqual({
      vi: 'cán bộ vận hành có mã tài khoản 0b8e4c1d-77aa-4f2e-b1c3-5e9d2a6f8c04',
      en: 'the operator with account id 0b8e4c1d-77aa-4f2e-b1c3-5e9d2a6f8c04',
    });
    expect(line.reason).toBe('Yêu cầu hỗ trợ số 2026-1187 của công dân');
    // A suspension from the server's command line names the OS user.
    const cli = historyLine(event({ event: 'ACCOUNT_SUSPENDED', actor: 'cli:lan.nguyen', reason: 'Tài khoản bị chiếm, công dân báo qua tổng đài' }), names);
    expect(cli.by?.vi).toBe('quản trị viên trên máy chủ (lan.nguyen)');
    expect(cli.alert).toBe(true);
  });

  it('signing in with the bound phone, a service request approved on it, refusals, and binding', () => {
    const qr = historyLine(event({ event: 'CROSS_DEVICE_APPROVED', actor: 'phone:p1', details: { kind: 'qr', client: 'thue', level: 'high', device: { browser: 'Chrome', os: 'Windows' } } }), names);
    expect(qr.what).toEqual({
      vi: 'Đăng nhập vào «Cổng dịch vụ thuế» bằng điện thoại đã liên kết, mức độ đảm bảo «cao», trên Chrome trên Windows',
      en: 'Signed in to “Cổng dịch vụ thuế” with your bound phone, assurance level “high”, on Chrome on Windows',
    });
    expect(historyLine(event({ event: 'CROSS_DEVICE_APPROVED', details: { kind: 'ciba', client: 'thue', level: 'substantial' } }), names).what.vi).toBe(
      'Xác nhận trên điện thoại yêu cầu của «Cổng dịch vụ thuế», mức độ đảm bảo «đáng kể»',
    );
    const relayed = historyLine(event({ event: 'CROSS_DEVICE_DENIED', details: { reason: 'second-scan', client: 'thue' } }), names);
    expect(relayed.alert).toBe(true);
    expect(relayed.what.en).toBe('A sign-in to “Cổng dịch vụ thuế” with your phone was cancelled: its code was scanned by another phone');
    // The citizen's own refusal is not an alert.
    expect(historyLine(event({ event: 'CROSS_DEVICE_DENIED', details: { reason: 'citizen', client: 'thue' } }), names).alert).toBe(false);
    expect(historyLine(event({ event: 'PHONE_BOUND', details: { level: 'high', device: { browser: 'Safari', os: 'iOS' } } }), names).what.vi).toBe(
      'Liên kết một điện thoại để đăng nhập, trên Safari trên iOS',
    );
  });

  it("the citizen's own report is shown, marked, and cannot itself be disputed", () => {
    const line = historyLine(event({ event: 'ACCOUNT_ACTIVITY_DISPUTED', details: { seq: 17, disputed: 'SIGN_IN' } }), names);
    expect(line.what.vi).toContain('hoạt động số 17 không phải do mình');
    expect(line).toMatchObject({ alert: true, disputable: false });
    expect(line.by).toBeUndefined();
  });

  describe("a helper's authorisation, one event read by both people", () => {
    const HELPER = '0b6d7e21-8c3f-4a59-b1d2-5e7f9a0c4d36';
    const both = { delegation: 'd-1', helper: '*********396', helper_account: HELPER, grantor_account: ACCOUNT, clients: ['thue', 'dvc-hanoi'], valid_until: '2027-06-30' };
    const withNames: HistoryNames = { ...names, person: (id) => (id === ACCOUNT ? 'Nguyễn Văn An' : undefined) };

    it('the grantor reads whom (the masked number), where and until when', () => {
      const line = historyLine(event({ event: 'DELEGATION_GRANTED', details: { ...both, by: 'grantor' } }), withNames);
      expect(line.what).toEqual({
        vi: 'Bạn cho phép người có số định danh *********396 làm thay bạn tại «Cổng dịch vụ thuế» và «Cổng dịch vụ công Hà Nội» đến hết ngày 30/06/2027',
        en: 'You authorised the person with ID number *********396 to act for you at “Cổng dịch vụ thuế” and “Cổng dịch vụ công Hà Nội” until 30/06/2027',
      });
      expect(line).toMatchObject({ alert: false, disputable: true });
      expect(line.by).toBeUndefined();
    });

    it('the helper reads the grantor by name (their own row: subject = helper_account)', () => {
      const granted = historyLine(event({ event: 'DELEGATION_GRANTED', subject: HELPER, details: { ...both, by: 'grantor' } }), withNames);
      expect(granted.what.vi).toBe('Nguyễn Văn An cho phép bạn làm thay họ tại «Cổng dịch vụ thuế» và «Cổng dịch vụ công Hà Nội» đến hết ngày 30/06/2027');
      expect(granted.what.en).toBe('Nguyễn Văn An authorised you to act for them at “Cổng dịch vụ thuế” and “Cổng dịch vụ công Hà Nội” until 30/06/2027');
      // The actor is the grantor's account: the line names them, no "by account …" under it.
      expect(granted.by).toBeUndefined();
      const stopped = historyLine(event({ event: 'DELEGATION_REVOKED', actor: `account:${HELPER}`, subject: HELPER, details: { ...both, by: 'helper' } }), withNames);
      expect(stopped.what.vi).toBe('Bạn thôi giúp Nguyễn Văn An tại «Cổng dịch vụ thuế» và «Cổng dịch vụ công Hà Nội»');
      const revoked = historyLine(event({ event: 'DELEGATION_REVOKED', subject: HELPER, details: { ...both, by: 'grantor' } }), withNames);
      expect(revoked.what.en).toBe('Nguyễn Văn An revoked your authorisation to act for them at “Cổng dịch vụ thuế” and “Cổng dịch vụ công Hà Nội”');
    });

    it('a revocation reads who revoked it, for the grantor too', () => {
      const byHelper = historyLine(event({ event: 'DELEGATION_REVOKED', actor: `account:${HELPER}`, details: { ...both, by: 'helper' } }), withNames);
      expect(byHelper.what.vi).toBe('Người có số định danh *********396 thôi làm thay bạn tại «Cổng dịch vụ thuế» và «Cổng dịch vụ công Hà Nội»');
      expect(byHelper.by).toBeUndefined();
      const byGrantor = historyLine(event({ event: 'DELEGATION_REVOKED', details: { ...both, by: 'grantor' } }), withNames);
      expect(byGrantor.what.en).toBe('You revoked the authorisation of the person with ID number *********396 to act for you at “Cổng dịch vụ thuế” and “Cổng dịch vụ công Hà Nội”');
    });

    it('without the grantor’s name on record, the helper reads "someone"', () => {
      expect(historyLine(event({ event: 'DELEGATION_GRANTED', subject: HELPER, details: { ...both, by: 'grantor' } }), names).what.vi).toMatch(/^Một người cho phép bạn làm thay họ/);
    });
  });

  it('every history event has words of its own (none falls through to its catalogue name)', () => {
    for (const name of HISTORY_EVENTS) {
      const line = historyLine(event({ event: name, actor: 'source:citizen_id', details: { client: 'thue', level: 'low', method: 'totp', role: 'auditor', seq: 17 } }), names);
      expect(line.what.vi).not.toBe(name);
      expect(line.what.en).not.toBe(name);
      expect(line.what.vi).not.toMatch(/undefined|\?/);
    }
  });
});
