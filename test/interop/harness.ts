// Real third-party software from Debian's packages, on loopback, driven from the
// tests: Apache httpd + mod_auth_openidc as a relying party of nixa, LemonLDAP::NG
// as an upstream identity source. The scripts beside this file start each one from
// its own configuration in a temporary directory and stop it by its pid files; .ci/run
// installs the packages, and without them the tests say so and are skipped.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { fileURLToPath } from 'node:url';

import { UserAgent } from '../support/user-agent.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const missing = (paths: string[]) => paths.filter((p) => !existsSync(p));

function skipReasonFor(what: string, paths: string[], install: string, needsRoot: boolean): string | undefined {
  const absent = missing(paths);
  if (absent.length) return `skipped: ${what} is not installed (${absent.join(', ')} missing; apt-get install ${install})`;
  if (needsRoot && !isRoot) return `skipped: ${what} needs root (its configuration lives in /var/lib/lemonldap-ng)`;
  return undefined;
}

/** Why the mod_auth_openidc tests cannot run here, or undefined when they can. */
export const apacheSkipReason = skipReasonFor(
  'Apache httpd with mod_auth_openidc',
  ['/usr/sbin/apachectl', '/usr/lib/apache2/modules/mod_auth_openidc.so', '/usr/lib/apache2/modules/mod_cgid.so'],
  'apache2 libapache2-mod-auth-openidc',
  false,
);

/** Why the LemonLDAP::NG tests cannot run here, or undefined when they can. */
export const lemonldapSkipReason = skipReasonFor(
  'LemonLDAP::NG',
  ['/usr/sbin/llng-fastcgi-server', '/usr/share/lemonldap-ng/bin/lemonldap-ng-cli', '/usr/sbin/nginx', '/usr/bin/jq', '/usr/bin/curl'],
  'lemonldap-ng lemonldap-ng-fastcgi-server nginx-light and the Perl modules .ci/run lists',
  true,
);

/** Runs one of the scripts beside this file (bounded in time); rejects with its output. */
export function runScript(relativePath: string, args: string[], timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('bash', [`${HERE}${relativePath}`, ...args], { timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      if (err && err.killed) reject(new Error(`${relativePath} did not finish in ${timeoutMs} ms; it got to:\n${stdout}\n${stderr}`.slice(0, 4000)));
      else if (err) reject(new Error(`${relativePath} ${args[0] ?? ''} failed (${err.message.split('\n')[0]}):\n${stdout}\n${stderr}`.slice(0, 4000)));
      else resolve(stdout);
    });
  });
}

// ---- a browser without a browser: cookies per host, every hop recorded ----------------

export interface Form {
  action: string;
  method: string;
  /** Hidden and text inputs, in page order. */
  fields: Record<string, string>;
  /** Submit buttons that carry a name=value. */
  buttons: { name: string; value: string }[];
  html: string;
}

const attr = (tag: string, name: string) =>
  new RegExp(`\\b${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(tag)?.slice(1).find((v) => v !== undefined);
const unescape = (s: string) =>
  s.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#x2F;/gi, '/').replace(/&#39;|&#x27;/gi, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');

/** The forms of a page, enough of them to fill in what a person would. */
export function formsOf(html: string): Form[] {
  const forms: Form[] = [];
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const [, tag, body] = m as unknown as [string, string, string];
    const fields: Record<string, string> = {};
    for (const input of body.matchAll(/<input\b[^>]*>/gi)) {
      const name = attr(input[0], 'name');
      const type = (attr(input[0], 'type') ?? 'text').toLowerCase();
      if (name && type !== 'submit' && type !== 'checkbox' && type !== 'radio') fields[name] = unescape(attr(input[0], 'value') ?? '');
    }
    const buttons = [...body.matchAll(/<button\b[^>]*>/gi)]
      .map((b) => ({ name: attr(b[0], 'name'), value: attr(b[0], 'value') }))
      .filter((b): b is { name: string; value: string } => Boolean(b.name && b.value !== undefined));
    forms.push({ action: unescape(attr(tag, 'action') ?? ''), method: (attr(tag, 'method') ?? 'get').toLowerCase(), fields, buttons, html: m[0] });
  }
  return forms;
}

export interface Page {
  status: number;
  url: string;
  html: string;
}

/**
 * One request sent as a browser's top-level navigation. Not fetch: fetch always says
 * `Sec-Fetch-Mode: cors`, and mod_auth_openidc answers such a request (a script's,
 * in its eyes) with 401 instead of sending it to the OpenID provider.
 */
function navigate(url: URL, init: RequestInit): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('accept', 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8');
  headers.set('sec-fetch-mode', 'navigate');
  headers.set('sec-fetch-dest', 'document');
  headers.set('user-agent', 'nixa-interop-test');
  const body = typeof init.body === 'string' ? init.body : undefined;
  if (body !== undefined) headers.set('content-length', String(Buffer.byteLength(body)));
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: init.method ?? 'GET', headers: Object.fromEntries(headers), timeout: 15_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const h = new Headers();
        for (let i = 0; i < res.rawHeaders.length; i += 2) h.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
        const status = res.statusCode ?? 0;
        resolve(new Response([101, 204, 205, 304].includes(status) ? null : Buffer.concat(chunks), { status, headers: h }));
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url.origin} in 15 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** A UserAgent that navigates like a browser and records every request, so tests can look at what went where. */
export class Browser {
  readonly agent = new UserAgent(navigate);
  readonly trail: { method: string; url: string; status: number }[] = [];
  /**
   * A URL prefix the browser does not go to (a relying party's redirect URI with no
   * server behind it): a redirect there ends the navigation as a page of status 0
   * whose url is where it would have gone.
   */
  stopAt?: string;

  async request(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const res = await this.agent.request(url, init);
    this.trail.push({ method: init.method ?? 'GET', url: String(url), status: res.status });
    return res;
  }

  /**
   * Follows redirects, and immediate `<meta http-equiv="refresh">` (mod_auth_openidc's
   * step-up page uses one), to the first page that is neither; at most 20 hops.
   */
  async go(url: string | URL, init: RequestInit = {}): Promise<Page> {
    let current = new URL(url);
    let res = await this.request(current, init);
    for (let hops = 0; hops < 20; hops++) {
      let location = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || !location) {
        const html = await res.text();
        const refresh = /<meta\s+http-equiv="refresh"\s+content="0;\s*url=([^"]+)"/i.exec(html)?.[1];
        if (res.status !== 200 || !refresh) return { status: res.status, url: current.href, html };
        location = unescape(refresh);
      }
      current = new URL(location, current);
      if (this.stopAt && current.href.startsWith(this.stopAt)) return { status: 0, url: current.href, html: '' };
      res = await this.request(current);
    }
    throw new Error(`more than 20 redirects from ${String(url)}`);
  }

  submit(url: string | URL, fields: Record<string, string>): Promise<Page> {
    return this.go(url, {
      method: 'POST',
      body: new URLSearchParams(fields).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
  }

  /** URLs visited on an origin, in order. */
  visited(origin: string): URL[] {
    return this.trail.map((t) => new URL(t.url)).filter((u) => u.origin === origin);
  }

  /** Forgets the cookies of one host (host:port), as when a session there ends. */
  forget(origin: string): void {
    this.agent.cookies.delete(new URL(origin).host);
  }
}

export interface Answers {
  /** nixa's chooser: the source id to pick. */
  source?: string;
  /** A simulated source's picker: the citizen key. */
  citizen?: string;
  /** nixa's consent page. */
  consent?: 'accept' | 'refuse';
  /** LemonLDAP's login form: user (password = user, its Demo backend). */
  lemonldapUser?: string;
  /** Confirm sign-out pages (nixa's, a source's) with "yes". */
  signOut?: boolean;
}

const text = (html: string) => html.replace(/<script[\s\S]*?<\/script>|<style[\s\S]*?<\/style>/gi, ' ').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();

/**
 * Answers the pages a citizen meets, each answer at most once, from `start` until a
 * page on `doneOrigin` (or one it has no answer for, or 10 pages). Returns where it
 * stopped and which pages it answered.
 */
export async function walk(browser: Browser, start: Page, doneOrigin: string, answers: Answers): Promise<{ page: Page; answered: string[] }> {
  const a = { ...answers };
  const answered: string[] = [];
  let page = start;
  for (let i = 0; i < 10; i++) {
    const at = new URL(page.url);
    if (at.origin === doneOrigin || page.status !== 200) break;
    const forms = formsOf(page.html);
    const sourceForm = forms.find((f) => /\/interaction\/[^/]+\/source$/.test(f.action));
    const pickForm = forms.find((f) => /\/pick$/.test(f.action) || 'citizen' in f.fields || f.html.includes('name="citizen"'));
    const consentForm = forms.find((f) => /\/interaction\/[^/]+\/consent$/.test(f.action) && f.buttons.some((b) => b.value === a.consent));
    const lemonldapLogin = forms.find((f) => 'user' in f.fields && 'password' in f.fields);
    const logoutForm = forms.find((f) => f.action.includes('/session/end/confirm') || 'confirm' in f.fields || f.html.includes('name="logout"'));
    if (sourceForm && a.source) {
      answered.push('chooser');
      page = await browser.submit(new URL(sourceForm.action, at), { ...sourceForm.fields, source: a.source });
      delete a.source;
    } else if (pickForm && a.citizen) {
      answered.push('source-picker');
      page = await browser.submit(new URL(pickForm.action, at), { ...pickForm.fields, citizen: a.citizen });
      delete a.citizen;
    } else if (consentForm && a.consent) {
      answered.push('consent');
      page = await browser.submit(new URL(consentForm.action, at), { ...consentForm.fields, decision: a.consent });
      delete a.consent;
    } else if (lemonldapLogin && a.lemonldapUser) {
      // LemonLDAP's form has action="#": it posts to the authorize URL itself.
      answered.push('lemonldap-login');
      const action = lemonldapLogin.action && lemonldapLogin.action !== '#' ? new URL(lemonldapLogin.action, at) : at;
      page = await browser.submit(action, { ...lemonldapLogin.fields, user: a.lemonldapUser, password: a.lemonldapUser });
      delete a.lemonldapUser;
    } else if (logoutForm && a.signOut) {
      // nixa's and the simulated sources' pages (oidc-provider: button logout=yes);
      // LemonLDAP's "Do you want to logout?" (action="#", hidden confirm).
      answered.push(`sign-out@${at.origin}`);
      const action = logoutForm.action && logoutForm.action !== '#' ? new URL(logoutForm.action, at) : at;
      const yes: Record<string, string> = logoutForm.html.includes('name="logout"') || page.html.includes('name="logout"') ? { logout: 'yes' } : {};
      page = logoutForm.method === 'post' ? await browser.submit(action, { ...logoutForm.fields, ...yes }) : await browser.go(action);
    } else if (a.signOut && forms.length === 1 && forms[0]!.method === 'post' && new URL(forms[0]!.action, at).origin !== at.origin) {
      // A page that only posts the browser on to another site (a sign-out sent by POST).
      answered.push(`post-on@${at.origin}`);
      page = await browser.submit(new URL(forms[0]!.action, at), forms[0]!.fields);
    } else {
      break;
    }
  }
  return { page, answered };
}

/** The visible words of a page, for failure messages. */
export function pageText(page: Page, max = 600): string {
  return `${page.status} at ${page.url}: ${text(page.html).slice(0, max)}`;
}

/** NAME=value lines of the claims CGI behind Apache. */
export function claimsShown(page: Page): Record<string, string> {
  if (page.status !== 200 || !page.html.startsWith('REMOTE_USER=')) throw new Error(`expected Apache's claims page, got ${pageText(page)}`);
  return Object.fromEntries(
    page.html
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}
