// Which redirect URIs a native app may register (RFC 8252 §7, §8.3), and how a
// registration of application_type native is checked: pure, no database.
import { classifyNativeRedirect, nativeRedirectProblem, redirectProvesApp } from '../../src/clients/native-redirects.js';
import { parseClientInput } from '../../src/clients/index.js';
import { InvalidInputError } from '../../src/errors/index.js';

describe('native redirect URIs', () => {
  it.each([
    ['https://dichvucong.gov.vn/app/oauth2redirect', 'claimed-https'],
    ['vn.gov.dichvucong.app:/oauth2redirect', 'private-use'],
    ['vn.gov.dichvucong.app://oauth2redirect', 'private-use'],
    ['com.example-co.vneid:/cb', 'private-use'],
    ['http://127.0.0.1/oauth2redirect', 'loopback'],
    ['http://127.0.0.1:8400/oauth2redirect', 'loopback'],
    ['http://[::1]/oauth2redirect', 'loopback'],
    ['http://[::1]:51004/cb?from=app', 'loopback'],
  ])('accepts %s as %s', (uri, kind) => {
    expect(classifyNativeRedirect(uri)).toEqual({ kind });
  });

  it.each([
    ['myapp://oauth2redirect', /reverse domain name/],
    ['myapp:/cb', /reverse domain name/],
    ['javascript:alert(1)', /javascript scheme is never a redirect URI/],
    ['data:text/html,hi', /data scheme/],
    ['file:///etc/passwd', /file scheme/],
    ['http://localhost/cb', /not localhost \(RFC 8252 §8\.3\)/],
    ['http://localhost:8080/cb', /not localhost/],
    ['http://dichvucong.gov.vn/cb', /plain http is accepted only on the loopback interface/],
    ['http://127.0.0.2/cb', /only on the loopback interface/],
    ['http://2130706433/cb', /write the loopback address as 127\.0\.0\.1/],
    ['http://[0:0:0:0:0:0:0:1]/cb', /write the loopback address/],
    ['https://127.0.0.1/cb', /not the loopback interface/],
    ['https://localhost/cb', /not the loopback interface/],
    ['http://user@127.0.0.1/cb', /credentials/],
    ['vn.gov.app://user@host/cb', /credentials/],
    ['http://127.0.0.1/cb#done', /fragment/],
    ['https://*.gov.vn/cb', /wildcards/],
    ['Vn.Gov.Dichvucong.App:/cb', /lowercase \(vn\.gov\.dichvucong\.app\)/],
    ['1vn.gov.app:/cb', /not an absolute URI/],
    ['vn.-gov.app:/cb', /is not a reverse domain name/],
    ['x1.gov.app:/cb', /is not a reverse domain name/],
    ['vn.gov.app:', /give a path after the scheme/],
    ['/oauth2redirect', /not an absolute URI/],
    ['http://127.0.0.1\\cb', /backslashes/],
  ])('refuses %s', (uri, problem) => {
    expect(nativeRedirectProblem(uri)).toMatch(problem);
  });
});

describe('registering a native app', () => {
  const opts = { allowHttpLoopback: false };
  const app = {
    name: 'Ứng dụng Dịch vụ công',
    application_type: 'native',
    redirect_uris: ['vn.gov.dichvucong.app:/oauth2redirect', 'http://127.0.0.1/oauth2redirect'],
  };
  const refusal = (input: unknown) => {
    try {
      parseClientInput(input, opts);
    } catch (err) {
      if (err instanceof InvalidInputError) return { field: err.field, problem: err.problem };
      throw err;
    }
    throw new Error('accepted');
  };

  it('is a public client (none) unless told otherwise, with loopback redirects even in production', () => {
    const c = parseClientInput(app, opts);
    expect(c.application_type).toBe('native');
    expect(c.token_endpoint_auth_method).toBe('none');
  });

  it('refuses a secret or keys, naming token_endpoint_auth_method', () => {
    for (const method of ['client_secret_basic', 'private_key_jwt']) {
      expect(refusal({ ...app, token_endpoint_auth_method: method })).toEqual({
        field: 'token_endpoint_auth_method',
        problem: expect.stringMatching(/a native app cannot keep a secret: it must be none/),
      });
    }
  });

  it('names the redirect URI that is not one for an app', () => {
    expect(refusal({ ...app, redirect_uris: ['vn.gov.dichvucong.app:/oauth2redirect', 'myapp://cb'] })).toEqual({
      field: 'redirect_uris[1]',
      problem: expect.stringMatching(/reverse domain name/),
    });
    expect(refusal({ ...app, post_logout_redirect_uris: ['http://localhost:9000/'] })).toEqual({
      field: 'post_logout_redirect_uris[0]',
      problem: expect.stringMatching(/not localhost/),
    });
  });

  it('needs the authorization code grant', () => {
    expect(refusal({ ...app, grant_types: ['client_credentials'] }).field).toBe('grant_types');
  });

  it('refuses an unknown application type, naming the field', () => {
    expect(refusal({ ...app, application_type: 'desktop' })).toEqual({ field: 'application_type', problem: 'one of web, native' });
  });

  it('leaves web clients as they were: a private-use scheme or a loopback http URI in production is refused', () => {
    const web = { name: 'Cổng dịch vụ công Hà Nội', token_endpoint_auth_method: 'none' };
    expect(refusal({ ...web, redirect_uris: ['vn.gov.dichvucong.app:/oauth2redirect'] })).toEqual({
      field: 'redirect_uris[0]',
      problem: expect.stringMatching(/must use https/),
    });
    expect(refusal({ ...web, redirect_uris: ['http://127.0.0.1/cb'] }).field).toBe('redirect_uris[0]');
    expect(parseClientInput({ ...web, redirect_uris: ['http://localhost:3000/cb'] }, { allowHttpLoopback: true }).application_type).toBe('web');
  });
});

describe('whether a request proves which app receives the code (RFC 8252 §8.6)', () => {
  it.each([
    ['a web client', 'web', 'https://dichvucong.gov.vn/callback', true],
    ['a web client of the default type', undefined, 'https://dichvucong.gov.vn/callback', true],
    ['a native app on its claimed https address', 'native', 'https://app.dichvucong.gov.vn/oauth2redirect', true],
    ['a native app on a loopback port', 'native', 'http://127.0.0.1:51234/oauth2redirect', false],
    ['a native app on the IPv6 loopback', 'native', 'http://[::1]:51234/oauth2redirect', false],
    ['a native app on a private-use scheme', 'native', 'vn.gov.dichvucong.app:/oauth2redirect', false],
    ['a native app with no redirect (a device grant)', 'native', undefined, false],
    ['a native app with something unclassifiable', 'native', 'myapp://x', false],
  ])('%s: %s', (_, type, uri, proves) => {
    expect(redirectProvesApp(type, uri)).toBe(proves);
  });
});
