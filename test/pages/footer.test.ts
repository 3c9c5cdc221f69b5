// The footer's values come from validated configuration: the agency, the contact,
// and links that are https or on this site; a bad value names its variable.
import { loadConfig } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors/index.js';
import { footerHtml } from '../../src/pages/index.js';

const base = { NIXA_ENV: 'test', NIXA_MASTER_KEY: Buffer.alloc(32, 7).toString('base64') };
const load = (env: Record<string, string>) => loadConfig({ ...base, ...env }, '/tmp');

function refused(env: Record<string, string>): ConfigError {
  try {
    load(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
}

describe('the operator’s footer settings', () => {
  it('default to demo values and nixa’s own pages', () => {
    expect(load({}).service).toEqual({
      agency: { vi: 'Đơn vị vận hành nixa (bản trình diễn)', en: 'nixa operator (demonstration)' },
      contactEmail: 'hotro@nixa.example',
      contactPhone: undefined,
      helpUrl: '/help',
      privacyUrl: '/privacy',
      accessibilityUrl: '/accessibility',
      termsUrl: '/terms',
    });
  });

  it('take https links and paths on this site', () => {
    const s = load({ NIXA_HELP_URL: 'https://dichvucong.gov.vn/tro-giup', NIXA_TERMS_URL: '/dieu-khoan?ban=2', NIXA_CONTACT_PHONE: '+84 24 3823 0000' }).service;
    expect(s.helpUrl).toBe('https://dichvucong.gov.vn/tro-giup');
    expect(s.termsUrl).toBe('/dieu-khoan?ban=2');
    expect(s.contactPhone).toBe('+84 24 3823 0000');
  });

  it.each([
    ['NIXA_PRIVACY_URL', 'http://dinhdanh.gov.vn/rieng-tu'],
    ['NIXA_PRIVACY_URL', 'javascript:alert(1)'],
    ['NIXA_ACCESSIBILITY_URL', '//attacker.example/a11y'],
    ['NIXA_TERMS_URL', 'https://user:pw@dinhdanh.gov.vn/'],
    ['NIXA_HELP_URL', '/tro giup'],
    ['NIXA_HELP_URL', 'tro-giup'],
    ['NIXA_CONTACT_EMAIL', 'hotro'],
    ['NIXA_CONTACT_EMAIL', 'a@b'],
    ['NIXA_CONTACT_PHONE', 'gọi cho chúng tôi'],
    ['NIXA_AGENCY_NAME', '<script>x</script>'],
    ['NIXA_AGENCY_NAME_EN', ' '],
  ])('refuse %s=%j, naming the variable', (name, value) => {
    const err = refused({ [name]: value });
    expect(err.message).toContain(name);
  });

  it('report every bad footer value at once', () => {
    const err = refused({ NIXA_PRIVACY_URL: 'http://x.vn', NIXA_TERMS_URL: 'ftp://x.vn' });
    expect(err.variable).toBe('NIXA_PRIVACY_URL');
    expect(err.others).toEqual(['NIXA_TERMS_URL: an https:// URL or a path on this site such as /privacy']);
  });
});

describe('footerHtml', () => {
  it('escapes what the operator wrote and links every policy page', () => {
    const html = footerHtml({
      agency: { vi: 'Bộ Công an & "C06"', en: 'Ministry of Public Security' },
      contactEmail: 'hotro@dinhdanh.gov.vn',
      contactPhone: '1900 0368',
      helpUrl: '/help',
      privacyUrl: 'https://dinhdanh.gov.vn/rieng-tu?a=1&b=2',
      accessibilityUrl: '/accessibility',
      termsUrl: '/terms',
    });
    expect(html).toContain('<strong>Bộ Công an &amp; &quot;C06&quot;</strong>');
    expect(html).toContain('href="https://dinhdanh.gov.vn/rieng-tu?a=1&amp;b=2"');
    expect(html).toContain('<a href="tel:19000368">1900 0368</a>');
    expect(html).toMatch(/^<footer class="site">/);
    expect(html).toContain('<nav aria-label="Thông tin về dịch vụ (About this service)">');
  });
});
