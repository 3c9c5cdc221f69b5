// The HTTP surface, in order: logging, errors, security headers, operations
// endpoints, JWKS, the edge checks (cross-site forms, malformed parameters),
// nixa's own pages, then the OpenID Connect protocol engine.
import { bodyParser } from '@koa/bodyparser';
import Koa from 'koa';

import { ADMIN_API_PREFIX, adminApi } from '../admin/index.js';
import { CONSOLE_PATH, consoleRoutes, type ConsoleClient } from '../console/index.js';
import { ACCOUNT_PATH, accountRoutes, AccountSignIn, type AccountClient } from '../my-account/index.js';
import type { Config } from '../config/index.js';
import type { AccountsContext } from '../accounts/index.js';
import type { ConsentCache } from '../consent/index.js';
import { returnFromSource, signOutAtSource, SIGNED_OUT_PATH, type SourceLogoutDeps, type Upstream } from '../federation/index.js';
import type { ShortLivedState } from '../protocol/index.js';
import { CALLBACK_PATH, interactionRoutes } from '../interactions/index.js';
import type { SourceRegistry } from '../sources/index.js';
import type { KeyRing } from '../keys/index.js';
import type { OrganisationRegistries } from '../registries/contract.js';
import { personRelations } from '../representation/relations.js';
import type { Logger } from '../logging/index.js';
import { language, renderPage, SCRIPTS, serviceFooter, STYLESHEET } from '../pages/index.js';
import { metricsEndpoint, type Metrics } from '../metrics/index.js';
import { pendingMigrations, type Database } from '../storage/index.js';
import { NotFoundError } from '../errors/index.js';
import { refuseCrossSiteForms, refuseMalformedParameters } from './edge.js';
import { errorBoundary } from './errors.js';
import { PHONE_PATH, phonePushRoutes, phoneRoutes, PUSH_PATH } from '../phone/index.js';
import type { PushDeps } from '../push/index.js';
import { cibaSettled } from '../ciba/index.js';
import { frontDoor } from './front-door.js';
import type { ProviderHost } from './provider-host.js';
import { webApp } from './web-app.js';

const CSP = [
  "default-src 'none'",
  "style-src 'self'",
  // Only nixa's own script files run: the passkey pages (which fetch challenges from
  // nixa) and the sign-out page that posts on to the source. No form-action: that
  // page's form goes to the source's end_session_endpoint.
  "script-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  // The web app manifest would otherwise fall to default-src 'none'; the service
  // worker to script-src, named here so that a wider script-src never widens it.
  "manifest-src 'self'",
  "worker-src 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

export interface HttpDeps {
  config: Config;
  db: Database;
  keyring: KeyRing;
  logger: Logger;
  host: () => ProviderHost;
  isShuttingDown: () => boolean;
  sources: SourceRegistry;
  upstream: Upstream;
  accounts: AccountsContext;
  consents: ConsentCache;
  sourceLogout: SourceLogoutDeps;
  metrics: Metrics;
  /** The admin console's registration as a relying party of this nixa. */
  console: ConsoleClient;
  /** The citizen's account pages' registration as a relying party of this nixa. */
  account: AccountClient;
  /** Its health is part of readiness: without it no sign-in can proceed. */
  shortLived: Pick<ShortLivedState, 'kind' | 'health'>;
  /** Web Push to bound phones, one per instance (it keeps the VAPID key). */
  push: PushDeps;
  /** Asked whom a person may act for (src/registries); absent, representation is offered as unavailable. */
  registries?: OrganisationRegistries | undefined;
}

export function createHttpApp(deps: HttpDeps): Koa {
  const { config, db, keyring, logger } = deps;
  const app = new Koa({ proxy: config.trustProxy });
  app.silent = true;

  app.use(async function requestLog(ctx, next) {
    const started = performance.now();
    // While shutting down, close each connection after its response so that
    // keep-alive clients move to another instance instead of holding this one open.
    if (deps.isShuttingDown()) ctx.set('Connection', 'close');
    try {
      await next();
    } finally {
      // The path only: query strings carry codes and tokens.
      logger.debug({ method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(performance.now() - started) }, 'request');
    }
  });
  // Outside the error boundary, so that error pages get the language switch too.
  app.use(language);
  // Outside the boundary too: error pages carry the footer of a state service.
  app.use(serviceFooter(config.service));
  app.use(errorBoundary(logger));
  app.use(async function securityHeaders(ctx, next) {
    // Set before the route runs: a route may widen them (oidc-provider's form_post
    // page adds its script's hash to script-src), and an error answered by the
    // boundary above keeps them.
    ctx.set('Content-Security-Policy', CSP);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('X-Frame-Options', 'DENY');
    if (config.issuer.startsWith('https://')) ctx.set('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    // Only a successful answer that chose its own caching (JWKS, style sheet) is
    // cached; an error never is, nor does it keep a route's wider policy.
    const forError = () => {
      ctx.set('Content-Security-Policy', CSP);
      ctx.set('Cache-Control', 'no-store');
    };
    try {
      await next();
    } catch (err) {
      forError();
      throw err;
    }
    if (ctx.status >= 400) forError();
    else if (!ctx.response.get('Cache-Control')) ctx.set('Cache-Control', 'no-store');
  });

  const serveMetrics = metricsEndpoint(deps.metrics, config.metricsToken, config.env !== 'production');
  app.use(async function operations(ctx, next) {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    switch (ctx.path) {
      case '/healthz':
        ctx.body = { status: 'ok' };
        return;
      case '/readyz': {
        const checks = await readiness(db, keyring, config, deps.isShuttingDown());
        checks.shortLivedStore = await deps.shortLived.health();
        checks.provider = deps.host().buildError ? `stale keys: ${deps.host().buildError}` : 'ok';
        ctx.status = Object.values(checks).every((c) => c === 'ok') ? 200 : 503;
        ctx.body = { status: ctx.status === 200 ? 'ready' : 'not ready', checks };
        return;
      }
      case '/metrics':
        return serveMetrics(ctx);
      case '/jwks':
        // Served from the key ring, not the provider, so that next keys are published
        // before they sign and a revoked key disappears the moment the ring reloads.
        ctx.type = 'application/jwk-set+json; charset=utf-8';
        ctx.set('Cache-Control', 'public, max-age=60');
        ctx.body = keyring.snapshot.publicJwks;
        return;
      case '/assets/nixa.css':
        ctx.type = 'text/css; charset=utf-8';
        ctx.set('Cache-Control', 'public, max-age=3600');
        ctx.body = STYLESHEET();
        return;
      default: {
        const script = SCRIPTS[ctx.path];
        if (!script) return next();
        ctx.type = 'text/javascript; charset=utf-8';
        ctx.set('Cache-Control', 'public, max-age=3600');
        ctx.body = script();
        return;
      }
    }
  });

  // The home page, the help and policy pages, the favicon.
  app.use(frontDoor(config.service));
  // nixa as an installable web app: manifest, service worker, icons, offline page.
  app.use(webApp(config.service));

  // nixa's own routes. Their forms are parsed here (oidc-provider parses its
  // endpoints' bodies itself), so that the edge sees every field a handler will.
  const isInteraction = (path: string) => path.startsWith('/interaction/');
  const isUnder = (prefix: string) => (path: string) => path === prefix || path.startsWith(`${prefix}/`);
  const isAccount = isUnder(ACCOUNT_PATH);
  const isConsole = isUnder(CONSOLE_PATH);
  const isPhone = isUnder(PHONE_PATH);
  // The phone's Web Push calls take JSON, parsed by their route (src/phone/push-routes.ts).
  const isPhonePush = isUnder(PUSH_PATH);
  const ownOrigins = [new URL(config.issuer).origin, ...(config.passkeys?.origins ?? [])];
  const ownRoute = (path: string) =>
    isInteraction(path) || isAccount(path) || isConsole(path) || isPhone(path) || path.startsWith(`${ADMIN_API_PREFIX}/`) || path === CALLBACK_PATH || path === SIGNED_OUT_PATH;
  const parseForm = bodyParser({ enableTypes: ['form'], formLimit: '16kb', encoding: 'utf-8' }) as Koa.Middleware;
  const parseConsoleForm = bodyParser({ enableTypes: ['form'], formLimit: '64kb', encoding: 'utf-8' }) as Koa.Middleware;
  const noop = async () => {};
  // Form posts that act with the citizen's or operator's cookies: from nixa's own pages only.
  // /session/end/confirm is the sign-out form nixa renders for oidc-provider; /device
  // the device grant's code and confirmation forms (a kiosk's own call, /device/auth, is not a form).
  app.use(
    refuseCrossSiteForms(
      ownOrigins,
      (path) => isInteraction(path) || isAccount(path) || isConsole(path) || isPhone(path) || path === '/session/end/confirm' || path === '/device',
    ),
  );
  app.use(
    refuseMalformedParameters(ownRoute, (ctx) =>
      isPhonePush(ctx.path) ? noop() : isInteraction(ctx.path) || isAccount(ctx.path) || isPhone(ctx.path) ? parseForm(ctx, noop) : isConsole(ctx.path) ? parseConsoleForm(ctx, noop) : noop(),
    ),
  );
  app.use(
    interactionRoutes({
      config,
      db,
      logger,
      keyring,
      sources: deps.sources,
      upstream: deps.upstream,
      accounts: deps.accounts,
      consents: deps.consents,
      sourceLogout: deps.sourceLogout,
      metrics: deps.metrics,
      provider: () => deps.host().provider,
      ...(deps.registries ? { registries: deps.registries } : {}),
      relations: personRelations(deps.accounts),
    }),
  );
  // The admin API: operators (JWT for the admin resource, level high) and machine clients.
  app.use(adminApi({ config, db, cipher: deps.accounts.cipher, keyring, accounts: deps.accounts, provider: () => deps.host().provider, logger }));
  // The admin console: a relying party of this nixa, calling the admin API over HTTP.
  app.use(consoleRoutes({ issuer: config.issuer, client: deps.console, cipher: deps.accounts.cipher, logger }));
  // The citizen's own page (factors, authenticator-app enrolment), beside the journey.
  // The citizen signs in to it through nixa itself, as to a service (my-account/sign-in.ts).
  const accountSignIn = new AccountSignIn(config.issuer, deps.account, logger.child({ component: 'account' }));
  app.use(
    accountRoutes({ accounts: deps.accounts, keyring, logger, provider: () => deps.host().provider, passkeys: config.passkeys, signIn: accountSignIn, sources: deps.sources, registries: deps.registries }),
  );
  // The bound phone's Web Push subscription (before the phone's pages, which would
  // read /p/push as a code).
  app.use(phonePushRoutes({ db, push: deps.push, origins: ownOrigins }));
  // The phone's pages for approving a sign-in made on another screen (src/phone/).
  app.use(
    phoneRoutes({
      db,
      factors: { db, cipher: deps.accounts.cipher, passkeys: config.passkeys },
      accounts: deps.accounts,
      policy: config.assurance,
      cibaSettled: cibaSettled({ db, accounts: deps.accounts, logger }, () => deps.host().provider),
      keyring,
      logger: logger.child({ component: 'phone' }),
      provider: () => deps.host().provider,
    }),
  );
  app.use(async function signOutAtSources(ctx, next) {
    if (ctx.method === 'GET' && ctx.path === SIGNED_OUT_PATH) {
      const continueTo = await returnFromSource(deps.sourceLogout, ctx);
      if (continueTo) return ctx.redirect(continueTo);
      ctx.type = 'html';
      ctx.body = renderPage('signed-out', { title: 'Đã đăng xuất', clientNameVi: '', clientNameEn: '' });
      return;
    }
    await next();
    if (ctx.method === 'POST' && ctx.path === '/session/end/confirm') await signOutAtSource(deps.sourceLogout, ctx);
  });
  app.use((ctx, next) => deps.host().middleware(ctx, next));
  // Nothing answered: the boundary says so in its words (a plain page for a browser).
  app.use((ctx) => {
    throw new NotFoundError('page', ctx.path);
  });
  return app;
}

async function readiness(db: Database, keyring: KeyRing, config: Config, shuttingDown: boolean) {
  const checks: Record<string, string> = {};
  checks.shutdown = shuttingDown ? 'shutting down' : 'ok';
  try {
    const pending = await pendingMigrations(db);
    checks.database = 'ok';
    checks.migrations = pending.length ? `pending: ${pending.join(', ')}` : 'ok';
  } catch (err) {
    checks.database = `unreachable: ${(err as Error).message}`;
    checks.migrations = 'unknown';
  }
  // Without LISTEN, key revocations and source changes made elsewhere reach this
  // instance only by polling: not ready until the connection is back.
  checks.notifications = db.listenState() === 'reconnecting' ? 'reconnecting: the LISTEN connection was lost' : 'ok';
  const signing = keyring.snapshot.providerJwks.filter((k) => !k.key_ops).map((k) => k.alg);
  const missing = config.keys.signingAlgs.filter((a) => !signing.includes(a));
  checks.signingKeys = missing.length ? `no active key for ${missing.join(', ')}` : 'ok';
  return checks;
}
