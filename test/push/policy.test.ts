// The pure rules of Web Push (src/push/policy.ts): what a push service's answer
// means, how long a message may wait, what a message may carry.
import { answerMeaning, endpointProblem, isPushMessage, pushTopic, pushTtl } from '../../src/push/policy.js';

describe('Web Push policy', () => {
  it.each([
    [201, 'delivered'],
    [200, 'delivered'],
    [202, 'delivered'],
    [404, 'gone'],
    [410, 'gone'],
    [307, 'failed'],
    [400, 'failed'],
    [403, 'failed'],
    [413, 'failed'],
    [429, 'failed'],
    [500, 'failed'],
    [503, 'failed'],
  ] as const)('reads a push service answering %i as %s', (status, meaning) => {
    expect(answerMeaning(status)).toBe(meaning);
  });

  it('lets a message wait two minutes unless told otherwise, never less than 0 nor more than 10 minutes', () => {
    expect(pushTtl(undefined)).toBe(120);
    expect(pushTtl(45.9)).toBe(45);
    expect(pushTtl(-5)).toBe(0);
    expect(pushTtl(86_400)).toBe(600);
    expect(pushTtl(Number.NaN)).toBe(120);
  });

  it('carries only a known kind and an opaque id, under a topic a push service accepts (base64url, at most 32)', () => {
    expect(isPushMessage({ type: 'ciba', id: 'Xq3vB9pT2kLmN8wR' })).toBe(true);
    expect(isPushMessage({ type: 'ciba', id: 'Xq3', binding_message: 'Quầy 3, Bưu điện Hà Đông' })).toBe(false);
    expect(isPushMessage({ type: 'ciba', id: 'có dấu' })).toBe(false);
    expect(isPushMessage({ type: 'ciba', id: 'x'.repeat(129) })).toBe(false);
    expect(isPushMessage({ type: 'news', id: 'x' })).toBe(false);
    expect(isPushMessage(null)).toBe(false);
    expect(pushTopic('ciba')).toMatch(/^[A-Za-z0-9_-]{1,32}$/);
  });

  it('sends only to https push services by name, or to this machine when allowed', () => {
    expect(endpointProblem('https://fcm.googleapis.com/fcm/send/abc', false)).toBeUndefined();
    expect(endpointProblem('https://wns2-par02p.notify.windows.com/w/?token=BQYAAA', false)).toBeUndefined();
    expect(endpointProblem('https://[::1]/x', false)).toMatch(/IP address/);
    expect(endpointProblem('https://169.254.169.254/latest', false)).toMatch(/IP address/);
    expect(endpointProblem('http://127.0.0.1:9/x', false)).toMatch(/https/);
    expect(endpointProblem('http://127.0.0.1:9/x', true)).toBeUndefined();
    expect(endpointProblem('http://[::1]:9/x', true)).toBeUndefined();
    expect(endpointProblem('http://10.0.0.7/x', true)).toMatch(/https/);
    expect(endpointProblem('https://push.example.vn/x#frag', false)).toMatch(/fragment/);
  });
});
