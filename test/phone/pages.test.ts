// The phone's pages, without a server: the words a first-time citizen does not
// know ("nguồn định danh", "mức độ đảm bảo") are explained where a page uses them,
// with the chooser's explanation (views/terms.html), after the page's ways forward.
import { approvedPage, approvePage, cibaPage, phoneProblemPage, type Problem } from '../../src/phone/pages.js';

const TERMS = '<details class="terms">';
const explained = (html: string) => html.split(TERMS).length - 1;
const main = (html: string) => html.slice(html.indexOf('<main'), html.indexOf('</main>'));

describe('the words explained on the phone’s pages', () => {
  it.each<Problem>(['not-bound', 'level'])('a refusal that uses them (%s) explains them once, after its way forward', (problem) => {
    const html = phoneProblemPage(problem, '<p><a href="/account">Tài khoản nixa của bạn</a></p>');
    expect(explained(main(html))).toBe(1);
    expect(html.indexOf(TERMS)).toBeGreaterThan(html.indexOf('href="/account"'));
    expect(html).toContain('<dt>Nguồn định danh <span lang="en">(Identity source)</span></dt>');
    expect(html).toContain('<dt>Mức độ đảm bảo <span lang="en">(Assurance level)</span></dt>');
  });

  it.each<Problem>(['unknown', 'expired', 'used', 'citizen', 'wrong-number', 'second-scan', 'other-account'])('a refusal that does not use them (%s) does not', (problem) => {
    expect(explained(phoneProblemPage(problem))).toBe(0);
  });

  it('the approval asks for a "mức độ đảm bảo" and explains it, after the buttons', () => {
    const html = approvePage({
      handle: 'h-7Qx',
      csrf: 'c',
      clientName: 'Cổng dịch vụ công',
      claims: ['name'],
      level: 'substantial',
      createdAt: new Date('2026-12-03T08:05:00Z'),
      device: { vi: 'Chrome trên Windows', en: 'Chrome on Windows' },
      choices: [17, 42, 86],
    });
    expect(explained(main(html))).toBe(1);
    expect(html.indexOf(TERMS)).toBeGreaterThan(html.indexOf('Không phải tôi — từ chối'));
  });

  it('a service’s request (CIBA) explains it too', () => {
    const html = cibaPage({ handle: 'h-8Rz', csrf: 'c', clientName: 'Tổng đài BHXH', bindingMessage: 'BHXH-4821', claims: ['name'], level: 'high', createdAt: new Date('2026-12-03T08:05:00Z') });
    expect(explained(main(html))).toBe(1);
  });

  it('a page without the words has no explanation', () => {
    expect(explained(approvedPage('Cổng dịch vụ công'))).toBe(0);
    expect(explained(approvedPage('Tổng đài BHXH', 'ciba'))).toBe(0);
  });
});
