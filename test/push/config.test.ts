// The Web Push settings (NIXA_PUSH_*), checked once at start-up like every other.
import { loadConfig } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors/index.js';

const KEY = Buffer.alloc(32, 7).toString('base64');
const PRODUCTION = {
  NIXA_ENV: 'production',
  NIXA_ISSUER: 'https://id.dichvucong.gov.vn',
  DATABASE_URL: 'postgres://nixa@db/nixa',
  NIXA_MASTER_KEY: KEY,
  NIXA_DEMO: 'false',
};

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('Web Push configuration', () => {
  it("signs pushes as the operating agency's contact by default, gives up after 5 s and accepts https endpoints only", () => {
    expect(loadConfig({}).push).toEqual({ subject: 'mailto:hotro@nixa.example', timeoutMs: 5000, allowInsecureEndpoints: false });
    expect(loadConfig({ NIXA_CONTACT_EMAIL: 'hotro@dinhdanh.gov.vn' }).push.subject).toBe('mailto:hotro@dinhdanh.gov.vn');
  });

  it('takes a mailto: or https: subject, a timeout and, outside production, endpoints on this machine', () => {
    const c = loadConfig({
      NIXA_PUSH_SUBJECT: 'https://dinhdanh.gov.vn/lien-he',
      NIXA_PUSH_TIMEOUT_SECONDS: '2',
      NIXA_PUSH_INSECURE_ENDPOINTS: 'true',
    });
    expect(c.push).toEqual({ subject: 'https://dinhdanh.gov.vn/lien-he', timeoutMs: 2000, allowInsecureEndpoints: true });
    expect(loadConfig({ NIXA_PUSH_SUBJECT: 'mailto:vanhanh@dinhdanh.gov.vn' }).push.subject).toBe('mailto:vanhanh@dinhdanh.gov.vn');
  });

  it.each([
    [{ NIXA_PUSH_SUBJECT: 'http://dinhdanh.gov.vn/lien-he' }, 'NIXA_PUSH_SUBJECT', /mailto: address or an https:\/\/ URL/],
    [{ NIXA_PUSH_SUBJECT: 'mailto:hỗ trợ' }, 'NIXA_PUSH_SUBJECT', /mailto:/],
    [{ NIXA_PUSH_SUBJECT: 'hotro@dinhdanh.gov.vn' }, 'NIXA_PUSH_SUBJECT', /mailto:/],
    [{ NIXA_PUSH_SUBJECT: 'https://localhost/contact' }, 'NIXA_PUSH_SUBJECT', /https:\/\//],
    [{ NIXA_PUSH_SUBJECT: 'https://u:p@dinhdanh.gov.vn/' }, 'NIXA_PUSH_SUBJECT', /https:\/\//],
    [{ NIXA_PUSH_TIMEOUT_SECONDS: '0' }, 'NIXA_PUSH_TIMEOUT_SECONDS', /positive/],
    [{ NIXA_PUSH_TIMEOUT_SECONDS: '31' }, 'NIXA_PUSH_TIMEOUT_SECONDS', /at most 30/],
    [{ NIXA_PUSH_TIMEOUT_SECONDS: 'soon' }, 'NIXA_PUSH_TIMEOUT_SECONDS', /seconds/],
    [{ NIXA_PUSH_INSECURE_ENDPOINTS: 'maybe' }, 'NIXA_PUSH_INSECURE_ENDPOINTS', /true\/false/],
    [{ ...PRODUCTION, NIXA_PUSH_INSECURE_ENDPOINTS: 'true' }, 'NIXA_PUSH_INSECURE_ENDPOINTS', /production/],
  ])('refuses %j and names %s', (env, variable, expected) => {
    const err = configError(env as Record<string, string>);
    expect(err.variable).toBe(variable);
    expect(err.message).toContain(variable);
    expect(err.message).toMatch(expected);
  });

  it('accepts a production configuration without the test-only endpoints', () => {
    expect(loadConfig(PRODUCTION).push.allowInsecureEndpoints).toBe(false);
  });
});
