// Notifications on a bound phone, in Chromium emulating a phone: the citizen
// binds the phone at /account (virtual authenticator), the page offers "Nhận
// thông báo trên điện thoại này" without asking anything on load, and a press
// asks permission, subscribes with nixa's VAPID key and hands nixa the
// subscription — through Chromium's real fetch, so that the Origin nixa requires
// is what a browser sends from nixa's no-referrer pages. Offline Chromium cannot
// reach a real push service, so the page's pushManager answers with a
// subscription of the local push service (test/support/push-service.ts); the
// push nixa then sends reaches it and decrypts with that subscription's keys.
import { notifyPhone, vapidPublicKey } from '../../src/push/index.js';
import { startPushService, type PushServiceHandle } from '../support/push-service.js';
import { addVirtualAuthenticator, axeViolations, describeInChromium, nixaInChromium, PHONE, screenshot, signInToDemo, stepper } from './chromium.js';

describeInChromium(import.meta.url, 'notifications on a bound phone, in Chromium', () => {
  let pushService: PushServiceHandle;
  const rig = nixaInChromium({
    demo: true,
    env: { NIXA_PUSH_INSECURE_ENDPOINTS: 'true' },
    async setUp(r) {
      pushService = await startPushService();
      r.closeWith('push service', () => pushService.close());
    },
  });
  const step = stepper('phone-push-', () => rig.contexts.at(-1)?.problems);

  it('asks permission only on the button, subscribes with nixa’s key and gives nixa the subscription, which a push then reaches', async () => {
    const key = await vapidPublicKey(rig.fed.nixa.push);
    const subscription = pushService.subscribe(key);
    const { context, problems } = await rig.newContext(PHONE);
    await context.grantPermissions(['notifications'], { origin: rig.nixa });
    // Counts permission requests, and stands in for the push service behind pushManager.
    await context.addInitScript({
      content: `(() => {
        window.nixaTest = { asked: 0, subscribed: [] };
        const ask = Notification.requestPermission.bind(Notification);
        Notification.requestPermission = () => { window.nixaTest.asked++; return ask(); };
        const json = ${JSON.stringify(subscription.json)};
        PushManager.prototype.getSubscription = () => Promise.resolve(null);
        PushManager.prototype.subscribe = (options) => {
          window.nixaTest.subscribed.push({ userVisibleOnly: options.userVisibleOnly, key: Array.from(new Uint8Array(options.applicationServerKey)) });
          return Promise.resolve({ options, toJSON: () => json });
        };
      })();`,
    });
    const phone = await context.newPage();
    const { cdp, authenticatorId } = await addVirtualAuthenticator(phone);

    await step(phone, '01-signs-in', () => signInToDemo(phone, rig.demo.url, /^Cơ sở dữ liệu quốc gia về dân cư/, 'Hoàng Minh Đức'));
    const button = phone.getByRole('button', { name: /^Nhận thông báo trên điện thoại này/ });
    await step(phone, '02-binds', async () => {
      await phone.goto(`${rig.nixa}/account`);
      // Not offered before the phone is bound.
      await phone.getByRole('heading', { level: 2, name: /^Điện thoại của bạn/ }).waitFor();
      expect(await button.count()).toBe(0);
      await phone.getByLabel(/^Tên điện thoại này/).fill('Điện thoại của Đức');
      await phone.getByRole('button', { name: /^Dùng điện thoại này để đăng nhập/ }).tap();
      await phone.getByText(/^Đã liên kết điện thoại này/).waitFor();
    });
    expect((await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials).toHaveLength(1);

    await step(phone, '03-offered', async () => {
      await phone.goto(`${rig.nixa}/account`);
      await button.waitFor();
      await screenshot(phone, 'phone-push-01-offered');
      expect(await axeViolations(phone)).toEqual([]);
      // Nothing asked on load.
      expect(await phone.evaluate('window.nixaTest.asked')).toBe(0);
    });

    await step(phone, '04-turned-on', async () => {
      await button.tap();
      await phone.getByRole('status').filter({ hasText: /^Đã bật thông báo trên điện thoại này/ }).waitFor();
      await screenshot(phone, 'phone-push-02-on');
      expect(await phone.evaluate('window.nixaTest.asked')).toBe(1);
      expect(await phone.evaluate('window.nixaTest.subscribed')).toEqual([{ userVisibleOnly: true, key: [...Buffer.from(key, 'base64url')] }]);
    });

    const { rows } = await rig.tdb.db.query<{ id: string }>('SELECT b.id FROM bound_phones b JOIN push_subscriptions p ON p.bound_phone_id = b.id');
    expect(rows).toHaveLength(1);
    expect(await notifyPhone(rig.fed.nixa.push, rows[0]!.id, { type: 'ciba', id: 'auth-req-7Hq2xLw9' })).toEqual({ status: 'sent' });
    expect(pushService.received.map((r) => [r.path, JSON.parse(r.payload)])).toEqual([[subscription.path, { type: 'ciba', id: 'auth-req-7Hq2xLw9' }]]);

    // Permission withdrawn in the browser's settings: the press says so, and nothing is sent.
    await step(phone, '05-denied', async () => {
      await context.clearPermissions();
      await phone.reload();
      await button.tap();
      await phone.getByRole('status').filter({ hasText: /^Trình duyệt không cho phép thông báo/ }).waitFor();
      expect(await phone.evaluate('window.nixaTest.subscribed.length')).toBe(0);
    });
    expect(problems.consoleErrors).toEqual([]);
    expect(problems.cspViolations).toEqual([]);
  });
});
