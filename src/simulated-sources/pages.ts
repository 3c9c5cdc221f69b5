// The simulated sources' pages: views/source-<name>.html inside
// views/source-layout.html, Vietnamese first with English beside, in the source's
// own colours and under a "simulated" banner so nobody mistakes one for nixa or a
// real source.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { renderFragment as renderFragmentView, renderInLayout } from '../pages/index.js';
import { VIEWS_DIR } from '../paths.js';
import type { SourceProfile } from './profiles.js';

export type SourceView = 'pick' | 'pick-option' | 'logout' | 'signed-out' | 'error';

/** A fragment (e.g. one picker choice), to be inserted raw into a page. */
export function renderFragment(name: SourceView, values: Record<string, unknown>): string {
  return renderFragmentView(`source-${name}`, values);
}

export function renderSourcePage(profile: SourceProfile, name: SourceView, values: Record<string, unknown> & { title: string }): string {
  const shared = { sourceNameVi: profile.name.vi, sourceNameEn: profile.name.en, theme: profile.theme };
  return renderInLayout('source-layout', `source-${name}`, { ...shared, ...values });
}

/** Served at /assets/source.css. */
export const SOURCE_STYLESHEET = readFileSync(join(VIEWS_DIR, 'source.css'), 'utf8');
