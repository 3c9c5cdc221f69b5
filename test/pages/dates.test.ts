// One date format on every citizen page: dd/mm/yyyy, HH:mm, in Vietnam's time zone.
import { dateHtml, dateTimeHtml, formatCalendarDate, formatDate, formatDateTime, VIETNAM_TIME_ZONE } from '../../src/pages/index.js';

describe('dates on citizens’ pages', () => {
  it('writes the day as dd/mm/yyyy, the day it is in Vietnam', () => {
    expect(formatDate(new Date('2026-12-02T09:15:00Z'))).toBe('02/12/2026');
    // 17:30 UTC is already 00:30 the next day in Hà Nội (UTC+7): the citizen's day, not the server's.
    expect(formatDate(new Date('2026-12-02T17:30:00Z'))).toBe('03/12/2026');
    expect(formatDate(new Date('2026-12-31T16:59:59Z'))).toBe('31/12/2026');
    expect(formatDate(new Date('2026-12-31T17:00:00Z'))).toBe('01/01/2027');
  });

  it('writes times as HH:mm on a 24-hour clock in Vietnam’s time zone, whatever the server’s', () => {
    expect(VIETNAM_TIME_ZONE).toBe('Asia/Ho_Chi_Minh');
    expect(formatDateTime(new Date('2026-12-02T17:30:00Z'))).toBe('03/12/2026 00:30');
    expect(formatDateTime(new Date('2026-07-04T06:05:00Z'))).toBe('04/07/2026 13:05');
  });

  it('turns a calendar date (a birthdate) around without moving it across a time zone', () => {
    expect(formatCalendarDate('1985-03-14')).toBe('14/03/1985');
    expect(formatCalendarDate('not a date')).toBe('not a date');
  });

  it('gives machines the exact instant and says which clock a shown time is on', () => {
    const d = new Date('2026-12-02T17:30:00Z');
    expect(dateHtml(d)).toBe('<time datetime="2026-12-02T17:30:00.000Z">03/12/2026</time>');
    expect(dateTimeHtml(d)).toBe('<time datetime="2026-12-02T17:30:00.000Z">03/12/2026 00:30</time> (giờ Việt Nam <span lang="en">(Vietnam time)</span>)');
  });
});

describe('the demo service’s signed-in page', () => {
  it('shows the birthdate and the time of authentication in the same format', async () => {
    const { claimRows } = await import('../../src/demo-service/pages.js');
    const rows = claimRows({ birthdate: '1985-03-14', auth_time: Date.parse('2026-12-02T17:30:00Z') / 1000 });
    expect(rows).toContain('<td>14/03/1985</td>');
    expect(rows).toContain('<time datetime="2026-12-02T17:30:00.000Z">03/12/2026 00:30</time> (giờ Việt Nam');
  });
});
