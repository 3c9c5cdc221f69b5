// The admin console (issue 5): server-rendered pages under /console, in
// Vietnamese with English beside, for operators' everyday tasks. The console is
// itself a relying party of nixa — operators sign in through nixa at level high
// and their roles come from nixa — and every page calls the admin API over HTTP
// with the operator's token, as a machine would. It keeps nothing in process
// memory: the session is an encrypted cookie.
//
//   GET  /console                       home: who you are, your roles and what they allow
//   GET  /console/login, /callback      sign-in (sign-in.ts); POST /console/logout
//   GET  /console/sources[/new|/:id]    identity sources; POST …/sources, …/:id/test|enable|disable   (sources.ts)
//   GET  /console/services[/new|/:id]   services and their integration values; POST …/services, …/:id/level (services.ts)
//   GET  /console/keys                  key timelines; POST …/keys/rotate, …/keys/:kid/revoke (confirmed)  (keys.ts)
//   GET  /console/audit                 search the trail                                                  (audit.ts)
//   GET  /console/operators             roles; POST …/operators/grant, …/operators/:accountId/revoke       (operators.ts)
import type { Middleware } from 'koa';

import type { Cipher } from '../keys/index.js';
import type { Logger } from '../logging/index.js';
import { createConsole } from './app.js';
import { AUDIT_ROUTES } from './audit.js';
import { HOME_ROUTES } from './home.js';
import { KEY_ROUTES } from './keys.js';
import { OPERATOR_ROUTES } from './operators.js';
import type { ConsoleClient } from './registration.js';
import { SERVICE_ROUTES } from './services.js';
import { SOURCE_ROUTES } from './sources.js';

export { CONSOLE_CLIENT_ID, CONSOLE_PATH, consoleClient, registerConsoleClient, type ConsoleClient } from './registration.js';

export function consoleRoutes(deps: { issuer: string; client: ConsoleClient; cipher: Cipher; logger: Logger }): Middleware {
  return createConsole({ ...deps, logger: deps.logger.child({ component: 'console' }) }, [...HOME_ROUTES, ...SOURCE_ROUTES, ...SERVICE_ROUTES, ...KEY_ROUTES, ...AUDIT_ROUTES, ...OPERATOR_ROUTES]);
}
