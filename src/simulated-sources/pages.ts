// The simulated sources' pages: views/source-<name>.html inside
// views/source-layout.html, Vietnamese first with English beside, in the source's
// own colours and under a "simulated" banner so nobody mistakes one for nixa or a
// real source. src/pages renders nixa's own layout, hence this small renderer.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { escapeHtml } from '../pages/index.js';
import { VIEWS_DIR } from '../paths.js';
import type { SourceProfile } from './profiles.js';

export type SourceView = 'pick' | 'pick-option' | 'logout' | 'signed-out' | 'error';

const cache = new Map<string, string>();

function template(name: string): string {
  let t = cache.get(name);
  if (t === undefined) {
    t = readFileSync(join(VIEWS_DIR, `source-${name}.html`), 'utf8');
    cache.set(name, t);
  }
  return t;
}

/** {{name}} is escaped, {{{name}}} is inserted as is (only for HTML this module or oidc-provider built). */
function fill(t: string, values: Record<string, unknown>): string {
  return t
    .replace(/\{\{\{(\w+)\}\}\}/g, (_, k: string) => String(values[k] ?? ''))
    .replace(/\{\{(\w+)\}\}/g, (_, k: string) => escapeHtml(values[k]));
}

/** A fragment (e.g. one picker choice), to be inserted raw into a page. */
export function renderFragment(name: SourceView, values: Record<string, unknown>): string {
  return fill(template(name), values);
}

export function renderSourcePage(profile: SourceProfile, name: SourceView, values: Record<string, unknown> & { title: string }): string {
  const shared = { sourceNameVi: profile.name.vi, sourceNameEn: profile.name.en, theme: profile.theme };
  return fill(template('layout'), { ...shared, ...values, body: fill(template(name), { ...shared, ...values }) });
}

/** Served at /assets/source.css; kept here because src/simulated-sources owns no stylesheet file in views/. */
export const SOURCE_STYLESHEET = `
:root { color-scheme: light; --ink: #1b1f24; --accent: #3d3d3d; --muted: #555; font-family: system-ui, "Segoe UI", Roboto, sans-serif; }
.source-citizen-id { --accent: #8a1c1c; }
.source-telecom { --accent: #00695c; }
.source-bank { --accent: #1a3d7c; }
body { margin: 0; color: var(--ink); background: #f7f7f4; line-height: 1.5; }
header { background: var(--accent); color: #fff; padding: .75rem 1.5rem; }
.brand { margin: 0; font-weight: 700; font-size: 1.2rem; }
.brand [lang="en"] { color: inherit; font-weight: 400; font-size: .9rem; }
.sim-banner { margin: 0; padding: .5rem 1.5rem; background: #fff4ce; border-bottom: 1px solid #c88a00; }
main { max-width: 42rem; margin: 2rem auto; padding: 0 1.5rem; }
main:focus { outline: none; }
h1 { font-size: 1.5rem; }
[lang="en"] { color: var(--muted); }
h1 [lang="en"], button [lang="en"], legend [lang="en"] { color: inherit; font-weight: 400; font-size: .85em; }
fieldset { border: 2px solid #ccc; border-radius: 4px; padding: .5rem 1rem; background: #fff; margin: 0; }
legend { font-weight: 600; padding: 0 .25rem; }
.choice { display: grid; grid-template-columns: auto 1fr; gap: 0 .6rem; padding: .6rem 0; border-bottom: 1px solid #eee; }
.choice:last-child { border-bottom: 0; }
.choice input { margin: .3rem 0 0; width: 1.15rem; height: 1.15rem; accent-color: var(--accent); }
.choice label { font-weight: 600; }
.choice .detail { grid-column: 2; margin: 0; font-size: .95rem; }
button { font: inherit; margin-top: 1rem; padding: .6rem 1.2rem; background: var(--accent); color: #fff; border: 2px solid var(--accent); border-radius: 4px; cursor: pointer; }
button.secondary { background: #fff; color: var(--accent); }
.actions { display: flex; gap: 1rem; flex-wrap: wrap; align-items: flex-start; }
:focus-visible { outline: 3px solid #1a5fb4; outline-offset: 2px; }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: 1rem; background: #fff; padding: .5rem; z-index: 1; }
code { background: #eee; padding: 0 .25rem; overflow-wrap: anywhere; }
`.trimStart();
