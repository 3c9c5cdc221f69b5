// nixa as an installable web app (issue 13 §1: the phone side is nixa's own pages,
// not a store app): the web app manifest, the service worker, the script on every
// page that registers it, the app icons and the offline page the worker shows.
// Every one is a public file, the same for everyone; the worker's own policy (what
// it may store and answer, never the sign-in or the account) is views/sw.js.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { Context, Next } from 'koa';

import type { ServiceIdentity } from '../config/index.js';
import { footerHtml, renderPage } from '../pages/index.js';
import { VIEWS_DIR } from '../paths.js';

export const MANIFEST_PATH = '/manifest.webmanifest';
export const SERVICE_WORKER_PATH = '/sw.js';
export const OFFLINE_PATH = '/offline';
const REGISTER_PATH = '/assets/web-app.js';

/** The PNG icons (views/icons/, rendered from SVG by views/icons/render-icons.mjs); the SVG one is /favicon.svg. */
const ICONS = ['nixa-192.png', 'nixa-512.png', 'nixa-maskable-192.png', 'nixa-maskable-512.png', 'apple-touch-icon.png'];

const read = (file: string) => readFileSync(join(VIEWS_DIR, file));

export function webApp(service: ServiceIdentity) {
  const manifest = read('manifest.webmanifest').toString('utf8');
  const register = read('web-app.js').toString('utf8');
  const icons = new Map(ICONS.map((name) => [`/assets/icons/${name}`, read(join('icons', name))]));
  // The offline page shows both languages: offline, the language switch cannot work,
  // so the layout's marker for it is taken out (and with it the Vietnamese-only class).
  const offline = renderPage('offline', { title: 'Không có kết nối mạng' }).replace('<!-- nixa:language -->', '');
  // The worker names its cache after everything it precaches (the footer is the
  // operator's): a change to any of them changes sw.js, so browsers install it anew
  // and drop the old copies.
  const digest = createHash('sha256');
  for (const file of ['sw.js', 'nixa.css', 'web-app.js', 'favicon.svg', 'manifest.webmanifest', 'offline.html', 'layout.html']) digest.update(read(file));
  digest.update(footerHtml(service));
  const worker = read('sw.js').toString('utf8').replace('{{version}}', digest.digest('hex').slice(0, 16));

  return async function webAppRoutes(ctx: Context, next: Next): Promise<void> {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    switch (ctx.path) {
      case MANIFEST_PATH:
        ctx.type = 'application/manifest+json; charset=utf-8';
        ctx.set('Cache-Control', 'public, max-age=3600');
        ctx.body = manifest;
        return;
      case SERVICE_WORKER_PATH:
        // Revalidated on every check, so that a fixed worker reaches browsers at once.
        ctx.type = 'text/javascript; charset=utf-8';
        ctx.set('Cache-Control', 'no-cache');
        ctx.body = worker;
        return;
      case REGISTER_PATH:
        ctx.type = 'text/javascript; charset=utf-8';
        ctx.set('Cache-Control', 'public, max-age=3600');
        ctx.body = register;
        return;
      case OFFLINE_PATH:
        ctx.type = 'html';
        ctx.set('Cache-Control', 'no-cache');
        ctx.body = offline;
        return;
      default: {
        const icon = icons.get(ctx.path);
        if (!icon) return next();
        ctx.type = 'image/png';
        ctx.set('Cache-Control', 'public, max-age=86400');
        ctx.body = icon;
      }
    }
  };
}
