// The cross-device benchmark's pure parts: reading the computer's waiting page
// as its script does, polling at the page's pace, the citizen's moment against
// that pace, and the figure measured; and the bench phone's passkey, checked by
// the same WebAuthn library nixa checks it with.
import { describe, expect, it } from '@jest/globals';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';

import { BenchAuthenticator } from '../../bench/driver/authenticator.js';
import { approvalToContinue, citizenTime, pollAsThePage, readWaitingPage, type RequestStatus } from '../../bench/driver/cross-device-sign-in.js';
import { renderPage } from '../../src/pages/index.js';
import { POLL_MILLISECONDS } from '../../src/phone/index.js';

const UID = 'vB3rQ9x_kLm2';

/** The waiting page as nixa renders it (src/interactions/phone.ts, showPhoneSignIn). */
const waitingPage = () =>
  renderPage('phone-wait', {
    title: 'Đăng nhập bằng điện thoại',
    uid: UID,
    csrf: 'csrf-of-the-sign-in',
    clientName: 'Cổng dịch vụ công quốc gia',
    levelVi: '',
    levelEn: '',
    qr: 'data:image/svg+xml;base64,PHN2Zy8+',
    link: 'http://127.0.0.1:4000/p/BCDFGHJKLM',
    shortLink: '127.0.0.1:4000/p/BCDF-GHJK-LM',
    number: 47,
    expiresAt: '12:02 03/12/2026',
    expiresIso: '2026-12-03T12:02:00.000Z',
    interval: POLL_MILLISECONDS,
  });

describe("reading the computer's waiting page", () => {
  it('finds the link for the phone, the number, the finish form and the polling the page script does', () => {
    expect(readWaitingPage(waitingPage())).toEqual({
      link: 'http://127.0.0.1:4000/p/BCDFGHJKLM',
      number: '47',
      finishPath: `/interaction/${UID}/phone/finish`,
      csrf: 'csrf-of-the-sign-in',
      statusPath: `/interaction/${UID}/phone/status`,
      intervalMs: POLL_MILLISECONDS,
    });
  });

  it('names what is missing on a page that is not the waiting page (an outcome page), rather than timing it', () => {
    const outcome = renderPage('phone-message', {
      title: 'Mã đã hết hạn',
      heading: 'Mã đã hết hạn',
      headingEn: 'The code has expired',
      notice: '',
      actions: `<form method="post" action="/interaction/${UID}/phone"><input type="hidden" name="csrf" value="x"></form>`,
    });
    expect(() => readWaitingPage(outcome)).toThrow(/lacks its link, number, finishPath, csrf, statusPath, interval/);
  });

  it('refuses a page whose polling interval is zero', () => {
    expect(() => readWaitingPage(waitingPage().replace(`data-interval="${POLL_MILLISECONDS}"`, 'data-interval="0"'))).toThrow(/polling interval/);
  });
});

describe('polling as views/cross-device.js does', () => {
  const script = (states: RequestStatus[]) => {
    const log: string[] = [];
    const status = async () => {
      const s = states.shift()!;
      log.push(`status ${s.state}`);
      return s;
    };
    const wait = async (ms: number) => void log.push(`wait ${ms}`);
    return { log, status, wait };
  };

  it('asks one interval after the page loaded and one interval after each answer, until the request is settled', async () => {
    const s = script([
      { state: 'pending', settled: false },
      { state: 'matched', settled: false },
      { state: 'approved', settled: true },
    ]);
    await expect(pollAsThePage(s.status, 1000, s.wait)).resolves.toBe('approved');
    expect(s.log).toEqual(['wait 1000', 'status pending', 'wait 1000', 'status matched', 'wait 1000', 'status approved']);
  });

  it('stops at a refusal as well, and says which', async () => {
    const s = script([{ state: 'denied', settled: true }]);
    await expect(pollAsThePage(s.status, 250, s.wait)).resolves.toBe('denied');
    expect(s.log).toEqual(['wait 250', 'status denied']);
  });
});

describe('the figure measured', () => {
  it('puts the approval at a random moment of the polling cycle, or at once when the computer does not wait', () => {
    expect(citizenTime('page', 1000, () => 0.25)).toBe(250);
    expect(citizenTime('page', 1000, () => 0.999)).toBeCloseTo(999);
    expect(citizenTime('immediate', 1000, () => 0.5)).toBe(0);
  });

  it('is the time from the approval to the computer continuing, never below zero', () => {
    expect(approvalToContinue(1000.5, 1412.25)).toBe(411.75);
    // The poll saw the approval committed before the phone got its answer.
    expect(approvalToContinue(1000, 998)).toBe(0);
  });
});

describe("the bench phone's passkey", () => {
  const origin = 'http://localhost:4000';
  const rpID = 'localhost';

  async function registered() {
    const authenticator = new BenchAuthenticator(origin, rpID);
    const options = await generateRegistrationOptions({ rpName: 'nixa', rpID, userName: 'nguyen-van-an', userID: new TextEncoder().encode('account-1'), authenticatorSelection: { userVerification: 'required' } });
    const response = authenticator.register(options) as unknown as RegistrationResponseJSON;
    const r = await verifyRegistrationResponse({ response, expectedChallenge: options.challenge, expectedOrigin: origin, expectedRPID: rpID, requireUserVerification: true });
    return { authenticator, r };
  }

  it('registers with user verification, as a phone binding needs', async () => {
    const { r } = await registered();
    expect(r.verified).toBe(true);
  });

  it('answers a challenge with user verification and a counter that goes up', async () => {
    const { authenticator, r } = await registered();
    const credential = r.registrationInfo!.credential;
    let counter = credential.counter;
    for (let i = 0; i < 2; i++) {
      const options = await generateAuthenticationOptions({ rpID, allowCredentials: [{ id: credential.id }], userVerification: 'required' });
      const v = await verifyAuthenticationResponse({
        response: authenticator.authenticate(options) as unknown as AuthenticationResponseJSON,
        expectedChallenge: options.challenge,
        expectedOrigin: origin,
        expectedRPID: rpID,
        credential: { ...credential, counter },
        requireUserVerification: true,
      });
      expect(v.verified).toBe(true);
      expect(v.authenticationInfo.newCounter).toBeGreaterThan(counter);
      counter = v.authenticationInfo.newCounter;
    }
  });

  it('refuses to answer for a credential nixa did not allow, or before it holds one', async () => {
    const { authenticator } = await registered();
    expect(() => authenticator.authenticate({ challenge: 'abc', allowCredentials: [{ id: 'someone-else' }] })).toThrow(/did not allow/);
    expect(() => new BenchAuthenticator(origin, rpID).authenticate({ challenge: 'abc' })).toThrow(/holds no credential/);
  });
});
