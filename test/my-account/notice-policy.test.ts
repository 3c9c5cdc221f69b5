// Which notices a session may see and consume (my-account/notice-policy.ts): never
// those it may itself have caused by signing in, and the account's cursor never
// past one held back, so that the citizen's other sessions still find it.
import { mayHaveCaused, selectNotices, type NoticeViewer } from '../../src/my-account/notice-policy.js';
import type { Notice, NoticeKind } from '../../src/my-account/notices.js';

const at = new Date('2026-12-02T03:00:00Z');
const n = (seq: number, kind: NoticeKind, about?: string): Notice => ({ seq, kind, at, ...(about ? { about } : {}) });

/** Phạm Thị Dung's own browser: signed in through Citizen ID to the public-service portal. */
const dung: NoticeViewer = { source: 'sim-citizen-id', services: new Set(['cong-dich-vu-cong']) };
/** Whoever took over her SIM card: signed in through the telecom, to the same portal. */
const swapped: NoticeViewer = { source: 'sim-telecom', services: new Set(['cong-dich-vu-cong']) };

describe('mayHaveCaused', () => {
  it('holds a first sign-in through a source back from every session that came through that source, and only from those', () => {
    const linked = n(10, 'new-source', 'sim-telecom');
    expect(mayHaveCaused(linked, swapped)).toBe(true);
    expect(mayHaveCaused(linked, dung)).toBe(false);
    expect(mayHaveCaused(linked, { source: 'sim-bank', services: new Set() })).toBe(false);
  });

  it('assumes the worst when nixa does not know the session’s source, or the notice names none', () => {
    expect(mayHaveCaused(n(10, 'new-source', 'sim-telecom'), { source: undefined, services: new Set() })).toBe(true);
    expect(mayHaveCaused(n(10, 'new-source'), dung)).toBe(true);
  });

  it('holds consent to a service back from a session that signed in to that service, or whose services are unknown', () => {
    expect(mayHaveCaused(n(11, 'new-service', 'cong-dich-vu-cong'), dung)).toBe(true);
    expect(mayHaveCaused(n(11, 'new-service', 'thue-dien-tu'), dung)).toBe(false);
    expect(mayHaveCaused(n(11, 'new-service', 'thue-dien-tu'), { source: 'sim-citizen-id', services: undefined })).toBe(true);
    expect(mayHaveCaused(n(11, 'new-service'), dung)).toBe(true);
  });

  it('holds nothing else back: acts at /account are not a sign-in’s', () => {
    for (const kind of ['passkey-added', 'passkey-removed', 'app-added', 'app-removed', 'source-unblocked'] as const) {
      expect(mayHaveCaused(n(12, kind, 'sim-telecom'), swapped)).toBe(false);
      expect(mayHaveCaused(n(12, kind), { source: undefined, services: undefined })).toBe(false);
    }
  });
});

describe('selectNotices', () => {
  const trail = [n(14, 'passkey-added'), n(10, 'new-service', 'thue-dien-tu'), n(12, 'new-source', 'sim-telecom'), n(16, 'app-added')];

  it('shows and consumes everything, up to the last event read, when nothing is held back', () => {
    const s = selectNotices(trail, 18, dung);
    expect(s.shown.map((x) => x.seq)).toEqual([10, 12, 14, 16]);
    expect(s.held).toEqual([]);
    expect(s.consumeUpTo).toBe(18);
  });

  it('SIM swap: the telecom session is not shown its own first sign-in, and the cursor stops just before it', () => {
    const s = selectNotices(trail, 18, swapped);
    expect(s.held.map((x) => x.seq)).toEqual([12]);
    // What others did is still shown (never hidden from someone who may be the citizen)…
    expect(s.shown.map((x) => x.seq)).toEqual([10, 14, 16]);
    // …but consumed only up to the notice held back, which the citizen's other sessions must find.
    expect(s.consumeUpTo).toBe(11);
  });

  it('has the session remember how far it was shown when the cursor must stay behind, and not show those again', () => {
    const first = selectNotices(trail, 18, swapped);
    expect(first.remember).toBe(18);
    const again = selectNotices(trail, 18, swapped, first.remember);
    expect(again.shown).toEqual([]);
    expect(again.held.map((x) => x.seq)).toEqual([12]);
    expect(again.consumeUpTo).toBe(11);
    // What came after is new to it.
    const later = selectNotices([...trail, n(20, 'passkey-removed')], 20, swapped, 18);
    expect(later.shown.map((x) => x.seq)).toEqual([20]);
    expect(later.remember).toBe(20);
    // Nothing held back: nothing to remember, the cursor says it all.
    expect(selectNotices(trail, 18, dung).remember).toBeUndefined();
  });

  it('stops at the first of several held back', () => {
    const s = selectNotices([...trail, n(11, 'new-service', 'cong-dich-vu-cong')], 18, swapped);
    expect(s.held.map((x) => x.seq)).toEqual([11, 12]);
    expect(s.consumeUpTo).toBe(10);
  });

  it('moves the cursor over events that make no notice, and not at all when nothing was read', () => {
    expect(selectNotices([], 25, swapped)).toEqual({ shown: [], held: [], consumeUpTo: 25, remember: undefined });
    expect(selectNotices([], undefined, swapped).consumeUpTo).toBeUndefined();
    // Held back as the very first event after the cursor (at 11): the cursor stays where it was.
    expect(selectNotices([n(12, 'new-source', 'sim-telecom')], 13, swapped).consumeUpTo).toBe(11);
  });
});
