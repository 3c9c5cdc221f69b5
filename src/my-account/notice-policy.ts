// Which of the account's notices a session may see, and how far it may consume
// them. Pure: notices.ts does the reading, the rendering and the cursor.
//
// Why. A notice exists to warn the citizen of something someone else may have
// done: whoever did it knows already. The cursor is the account's, so the first
// session to look used to consume everything, including what that very session
// caused: someone holding the citizen's phone number after a SIM swap, signing in
// through the telecom for the first time, read and so erased the "first sign-in
// through the telecom" notice meant to alarm the real citizen.
//
// The rule. A session is held back from (neither shown nor allowed to consume) a
// notice it may have caused by signing in:
//   new-source X   when the session came through X, or nixa does not know which
//                  source it came through (assume the worst). Any session through
//                  X, not only the one whose sign-in made the link: whoever holds
//                  X now is exactly who the notice warns about, and a window in
//                  time (events after the session's auth_time) would let them read
//                  it by simply signing in through X a second time. Nor is
//                  auth_time a sure mark of the sign-in: it is the source's
//                  authentication time (it may predate nixa's events by the
//                  source's own session), and a step up moves it.
//   new-service C  when the session has signed in to C (its authorizations, and
//                  the service of the sign-in in progress), or nixa does not know
//                  which services it has: the consent page of such a sign-in is
//                  where that consent may have been given. A consent given in
//                  another session to a service this one never visited is shown.
// Every other notice (a factor added or removed, a source unblocked) is an act at
// /account after a sign-in, at ENROLMENT_LEVEL, which the trail does not tie to a
// session: it is shown and consumed as before.
//
// The cursor. One number per account, so it may move only up to just before the
// first notice held back: the citizen's other sessions (another source, another
// browser) still find it. Notices after that one are shown to this session too
// (never hidden from someone who may be the citizen: the real citizen's own open
// session holds back the consent its sign-in gave, and must still be told of the
// telecom's first sign-in after it) but not consumed; so that this session does
// not show them on every page, it remembers for itself how far it has shown
// (`shownBefore`, `remember`: a cookie of the browser's, bound to the session).
import type { Notice } from './notices.js';

/** What nixa knows of the session looking at the notices. */
export interface NoticeViewer {
  /** The source the session's (last) source login went through; undefined when nixa has no record. */
  source: string | undefined;
  /** The services the session has signed in to, with the one of the sign-in in progress; undefined when unknown. */
  services: ReadonlySet<string> | undefined;
}

/** Whether the viewing session may itself have caused the notice by signing in (see the rule above). */
export function mayHaveCaused(n: Pick<Notice, 'kind' | 'about'>, v: NoticeViewer): boolean {
  switch (n.kind) {
    case 'new-source':
      return v.source === undefined || n.about === undefined || n.about === v.source;
    case 'new-service':
      return v.services === undefined || n.about === undefined || v.services.has(n.about);
    default:
      return false;
  }
}

export interface NoticeSelection {
  /** What the session is shown, oldest first. */
  shown: Notice[];
  /** What it is not shown because it may have caused it. */
  held: Notice[];
  /** How far the account's cursor may move (undefined: not at all). */
  consumeUpTo: number | undefined;
  /**
   * How far this session has now been shown all it may see, when that is beyond
   * where the cursor may go (something was held back); undefined otherwise.
   */
  remember: number | undefined;
}

/**
 * Splits the notices made of the trail events read (up to seq `lastRead`, the
 * last event read; undefined when none was) into shown and held back, and says
 * how far the cursor may go: to `lastRead` when nothing is held, else to just
 * before the first notice held back. `shownBefore`: this session was already
 * shown every notice it may see up to that seq; they are not shown again.
 */
export function selectNotices(notices: readonly Notice[], lastRead: number | undefined, v: NoticeViewer, shownBefore?: number): NoticeSelection {
  const shown: Notice[] = [];
  const held: Notice[] = [];
  for (const n of [...notices].sort((a, b) => a.seq - b.seq)) {
    if (mayHaveCaused(n, v)) held.push(n);
    else if (shownBefore === undefined || n.seq > shownBefore) shown.push(n);
  }
  const consumeUpTo = held.length ? held[0]!.seq - 1 : lastRead;
  return { shown, held, consumeUpTo, remember: held.length ? lastRead : undefined };
}
