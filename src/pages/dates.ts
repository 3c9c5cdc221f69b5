// Dates and times on citizens' pages, one way everywhere: dd/mm/yyyy as
// Vietnamese documents write it, and HH:mm (24-hour) in Vietnam's time zone
// (Asia/Ho_Chi_Minh, UTC+7, no daylight saving), said beside every time shown.
export const VIETNAM_TIME_ZONE = 'Asia/Ho_Chi_Minh';

const PARTS = new Intl.DateTimeFormat('en-GB', {
  timeZone: VIETNAM_TIME_ZONE,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

function parts(d: Date): Record<'day' | 'month' | 'year' | 'hour' | 'minute', string> {
  const out: Record<string, string> = {};
  for (const p of PARTS.formatToParts(d)) out[p.type] = p.value;
  return out as Record<'day' | 'month' | 'year' | 'hour' | 'minute', string>;
}

/** The day in Vietnam: 03/12/2026. */
export function formatDate(d: Date): string {
  const p = parts(d);
  return `${p.day}/${p.month}/${p.year}`;
}

/** The day and time in Vietnam: 03/12/2026 12:08. */
export function formatDateTime(d: Date): string {
  const p = parts(d);
  return `${p.day}/${p.month}/${p.year} ${p.hour}:${p.minute}`;
}

/**
 * A calendar date without a time (a birthdate, YYYY-MM-DD as OpenID Connect
 * carries it): no time zone applies. Anything else is returned as it came.
 */
export function formatCalendarDate(value: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  return m ? `${m[3]}/${m[2]}/${m[1]}` : value;
}

/** HTML: the day, with its ISO form for machines. */
export const dateHtml = (d: Date): string => `<time datetime="${d.toISOString()}">${formatDate(d)}</time>`;

/** HTML: day and time, saying which clock the time is on. */
export const dateTimeHtml = (d: Date): string =>
  `<time datetime="${d.toISOString()}">${formatDateTime(d)}</time> (giờ Việt Nam <span lang="en">(Vietnam time)</span>)`;

/** Today's calendar date in Vietnam (UTC+7 all year), YYYY-MM-DD: mandates, authorisations and birthdays end at midnight there. */
export function todayInVietnam(now: Date = new Date()): string {
  return new Date(now.getTime() + 7 * 3600 * 1000).toISOString().slice(0, 10);
}
