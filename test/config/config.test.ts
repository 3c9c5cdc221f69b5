import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { loadConfig, signedArtifactMaxLifetime } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors/index.js';

const KEY = Buffer.alloc(32, 7).toString('base64');

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('starts a newcomer on the embedded database with documented defaults', () => {
    const c = loadConfig({}, '/srv/nixa');
    expect(c.env).toBe('development');
    expect(c.issuer).toBe('http://localhost:3000');
    expect(c.port).toBe(3000);
    expect(c.database).toEqual({ kind: 'embedded', dataDir: '/srv/nixa/data/pglite' });
    expect(c.masterKey).toEqual({ kind: 'file', path: '/srv/nixa/keys/master.key', createIfMissing: true });
    expect(c.testLogin).toBe(false);
    expect(c.demo).toBe(true);
    expect(c.keys.signingAlgs).toEqual(['ES256', 'RS256']);
    expect(c.keys.rotationSeconds).toBe(30 * 86_400);
    expect(c.ttl.AuthorizationCode).toBe(60);
  });

  it('runs the demo by default outside production, and as told', () => {
    expect(loadConfig({ NIXA_ENV: 'test' }).demo).toBe(true);
    expect(loadConfig({ NIXA_ENV: 'development', NIXA_DEMO: 'off' }).demo).toBe(false);
    expect(configError({ NIXA_DEMO: 'sometimes' }).variable).toBe('NIXA_DEMO');
  });

  it('uses a real PostgreSQL server when DATABASE_URL is given', () => {
    const c = loadConfig({ DATABASE_URL: 'postgres://nixa@db.internal:5432/nixa', NIXA_DATABASE_POOL_SIZE: '20' });
    expect(c.database).toEqual({ kind: 'postgres', url: 'postgres://nixa@db.internal:5432/nixa', poolSize: 20 });
  });

  it.each([
    [{ PORT: 'three thousand' }, 'PORT', /TCP port/],
    [{ PORT: '70000' }, 'PORT', /TCP port/],
    [{ NIXA_ISSUER: 'not a url' }, 'NIXA_ISSUER', /absolute http/],
    [{ NIXA_ISSUER: 'https://id.gov.vn/?x=1' }, 'NIXA_ISSUER', /without query/],
    [{ DATABASE_URL: 'mysql://localhost/nixa' }, 'DATABASE_URL', /postgres:\/\//],
    [{ NIXA_SIGNING_ALGS: 'HS256' }, 'NIXA_SIGNING_ALGS', /ES256, RS256, PS256, EdDSA/],
    [{ NIXA_SIGNING_ALGS: 'ES256' }, 'NIXA_SIGNING_ALGS', /must include RS256/],
    [{ NIXA_TTL_ACCESS_TOKEN: '-5' }, 'NIXA_TTL_ACCESS_TOKEN', /positive number of seconds/],
    [{ NIXA_TTL_SESSION: '1.5' }, 'NIXA_TTL_SESSION', /whole number/],
    [{ NIXA_TEST_LOGIN: 'maybe' }, 'NIXA_TEST_LOGIN', /true\/false/],
    [{ NIXA_LOG_LEVEL: 'loud' }, 'NIXA_LOG_LEVEL', /one of fatal/],
    [{ NIXA_KEY_ROTATION_DAYS: '0' }, 'NIXA_KEY_ROTATION_DAYS', /positive number of days/],
    [{ NIXA_MASTER_KEY: 'c2hvcnQ=' }, 'NIXA_MASTER_KEY', /32 bytes/],
    [{ NIXA_MASTER_KEY: KEY, NIXA_MASTER_KEY_FILE: 'keys/master.key' }, 'NIXA_MASTER_KEY_FILE', /not both|choose one/],
  ])('refuses %j and names %s', (env, variable, expected) => {
    const err = configError(env as Record<string, string>);
    expect(err.variable).toBe(variable);
    expect(err.message).toContain(variable);
    expect(err.message).toMatch(expected);
  });

  describe('in production', () => {
    const prod = {
      NIXA_ENV: 'production',
      NIXA_ISSUER: 'https://id.dichvucong.gov.vn',
      DATABASE_URL: 'postgres://nixa@db/nixa',
      NIXA_MASTER_KEY: KEY,
      NIXA_DEMO: 'false',
    };

    it('accepts a complete configuration and never creates a master key', () => {
      const c = loadConfig({ ...prod, NIXA_MASTER_KEY: '', NIXA_MASTER_KEY_FILE: '/run/secrets/nixa-master-key' });
      expect(c.masterKey).toEqual({ kind: 'file', path: '/run/secrets/nixa-master-key', createIfMissing: false });
    });

    it('runs without the demo when NIXA_DEMO is not set', () => {
      const { NIXA_DEMO: _, ...withoutDemo } = prod;
      expect(loadConfig(withoutDemo).demo).toBe(false);
      expect(loadConfig({ ...withoutDemo, NIXA_DEMO: '' }).demo).toBe(false);
    });

    it('makes the test login impossible to enable', () => {
      expect(configError({ ...prod, NIXA_TEST_LOGIN: 'true' }).variable).toBe('NIXA_TEST_LOGIN');
    });

    it.each([
      ['DATABASE_URL', { DATABASE_URL: '' }],
      ['NIXA_MASTER_KEY', { NIXA_MASTER_KEY: '' }],
      ['NIXA_ISSUER', { NIXA_ISSUER: 'http://id.dichvucong.gov.vn' }],
      ['NIXA_DEMO', { NIXA_DEMO: 'true' }],
    ])('requires %s to be set safely', (variable, change) => {
      expect(configError({ ...prod, ...change }).variable).toBe(variable);
    });
  });

  describe('from a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nixa-config-'));
    const file = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };

    it('reads variables from NIXA_CONFIG_FILE, with the environment taking precedence', () => {
      const path = file('ok.json', JSON.stringify({ PORT: 4000, NIXA_SIGNING_ALGS: ['RS256', 'PS256'], NIXA_LOG_LEVEL: 'warn' }));
      const c = loadConfig({ NIXA_CONFIG_FILE: path, NIXA_LOG_LEVEL: 'debug' });
      expect(c.port).toBe(4000);
      expect(c.keys.signingAlgs).toEqual(['RS256', 'PS256']);
      expect(c.logLevel).toBe('debug');
    });

    it('names an unknown variable in the file', () => {
      const err = configError({ NIXA_CONFIG_FILE: file('typo.json', '{"NIXA_ISUER":"https://x"}') });
      expect(err.message).toMatch(/NIXA_ISUER/);
    });

    it('refuses a file that is not JSON, or missing', () => {
      expect(configError({ NIXA_CONFIG_FILE: file('bad.json', 'PORT=3000') }).variable).toBe('NIXA_CONFIG_FILE');
      expect(configError({ NIXA_CONFIG_FILE: join(dir, 'absent.json') }).variable).toBe('NIXA_CONFIG_FILE');
    });
  });

  describe('passkeys', () => {
    it('default to the issuer: its host name is the RP ID and its origin the only origin', () => {
      expect(loadConfig({}).passkeys).toEqual({ rpId: 'localhost', rpName: 'nixa', origins: ['http://localhost:3000'] });
      expect(loadConfig({ NIXA_ISSUER: 'https://id.gov.vn' }).passkeys).toEqual({ rpId: 'id.gov.vn', rpName: 'nixa', origins: ['https://id.gov.vn'] });
    });

    it('are not offered on an issuer that is an IP address, unless an RP ID is given', () => {
      expect(loadConfig({ NIXA_ISSUER: 'http://127.0.0.1:3000' }).passkeys).toBeUndefined();
      expect(loadConfig({ NIXA_ISSUER: 'http://127.0.0.1:3000', NIXA_PASSKEY_RP_ID: 'localhost', NIXA_PASSKEY_ORIGINS: 'http://localhost:3000' }).passkeys?.rpId).toBe('localhost');
    });

    it('accept origins on subdomains of the RP ID', () => {
      const c = loadConfig({ NIXA_ISSUER: 'https://dangnhap.id.gov.vn', NIXA_PASSKEY_RP_ID: 'ID.gov.vn', NIXA_PASSKEY_ORIGINS: 'https://dangnhap.id.gov.vn, https://id.gov.vn' });
      expect(c.passkeys).toEqual({ rpId: 'id.gov.vn', rpName: 'nixa', origins: ['https://dangnhap.id.gov.vn', 'https://id.gov.vn'] });
    });

    it.each<[string, Record<string, string>, string, RegExp]>([
      ['an IP address as RP ID', { NIXA_PASSKEY_RP_ID: '10.0.0.1' }, 'NIXA_PASSKEY_RP_ID', /not an IP address/],
      ['a URL as RP ID', { NIXA_PASSKEY_RP_ID: 'https://id.gov.vn' }, 'NIXA_PASSKEY_RP_ID', /domain name/],
      ['an origin on another domain', { NIXA_PASSKEY_RP_ID: 'id.gov.vn', NIXA_PASSKEY_ORIGINS: 'https://id.gov.vn.evil.example' }, 'NIXA_PASSKEY_ORIGINS', /not on the RP ID id.gov.vn/],
      ['an origin with a path', { NIXA_PASSKEY_RP_ID: 'id.gov.vn', NIXA_PASSKEY_ORIGINS: 'https://id.gov.vn/login' }, 'NIXA_PASSKEY_ORIGINS', /origin only/],
      ['plain http off localhost', { NIXA_PASSKEY_RP_ID: 'id.gov.vn', NIXA_PASSKEY_ORIGINS: 'http://id.gov.vn' }, 'NIXA_PASSKEY_ORIGINS', /must use https/],
      ['not a URL', { NIXA_PASSKEY_ORIGINS: 'id.gov.vn' }, 'NIXA_PASSKEY_ORIGINS', /is not an origin/],
      ['origins without an RP ID on an IP issuer', { NIXA_ISSUER: 'http://127.0.0.1:3000', NIXA_PASSKEY_ORIGINS: 'http://localhost:3000' }, 'NIXA_PASSKEY_RP_ID', /is required/],
    ])('refuse %s, naming the variable', (_, env, variable, message) => {
      const err = configError(env);
      expect(err.variable).toBe(variable);
      expect(err.message).toMatch(message);
    });
  });

  it('keeps a retired signing key published for the longest signed-token lifetime plus clock tolerance', () => {
    const c = loadConfig({ NIXA_TTL_ID_TOKEN: '900', NIXA_TTL_ACCESS_TOKEN: '300', NIXA_CLOCK_TOLERANCE_SECONDS: '15' });
    expect(signedArtifactMaxLifetime(c)).toBe(915);
  });
});
