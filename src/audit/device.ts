// The coarse description of a device that the citizen's history shows ("Chrome trên
// Windows"): a browser family and a system family from short fixed lists, nothing
// else of the User-Agent. Versions, device models and build strings narrow a
// person down; "Chrome on Windows" does not, and is all a citizen needs to
// recognise a sign-in as theirs. Pure.

export interface CoarseDevice {
  /** A browser family from BROWSERS, or 'other'. */
  browser: string;
  /** A system family from SYSTEMS, or 'other'. */
  os: string;
}

// Order matters: Edge, Opera and Samsung Internet also say "Chrome", and Chrome also says "Safari".
const BROWSERS: [string, RegExp][] = [
  ['Edge', /\bEdg(e|A|iOS)?\//],
  ['Opera', /\b(OPR|Opera)\//],
  ['Samsung Internet', /\bSamsungBrowser\//],
  ['Cốc Cốc', /\bcoc_coc_browser\//i],
  ['Zalo', /\bZalo(Theme)?\b/i],
  ['Firefox', /\b(Firefox|FxiOS)\//],
  ['Chrome', /\b(HeadlessChrome|Chrome|Chromium|CriOS)\//],
  ['Safari', /\bVersion\/[\d.]+.*\bSafari\//],
];

const SYSTEMS: [string, RegExp][] = [
  ['Android', /\bAndroid\b/],
  ['iOS', /\b(iPhone|iPad|iPod)\b/],
  ['Windows', /\bWindows\b/],
  ['macOS', /\bMac OS X\b|\bMacintosh\b/],
  ['ChromeOS', /\bCrOS\b/],
  ['Linux', /\bLinux\b/],
];

const MAX_USER_AGENT = 512;

/** The browser and system families a User-Agent names; 'other' for what is not on the lists. */
export function coarseDevice(userAgent: string | undefined): CoarseDevice {
  const ua = (userAgent ?? '').slice(0, MAX_USER_AGENT);
  const find = (list: [string, RegExp][]) => list.find(([, re]) => re.test(ua))?.[0] ?? 'other';
  return { browser: find(BROWSERS), os: find(SYSTEMS) };
}

/** The words for a coarse device, bilingual: "Chrome trên Windows" / "Chrome on Windows". */
export function deviceWords(d: CoarseDevice): { vi: string; en: string } {
  const browser = { vi: d.browser === 'other' ? 'trình duyệt khác' : d.browser, en: d.browser === 'other' ? 'another browser' : d.browser };
  const os = { vi: d.os === 'other' ? 'hệ điều hành khác' : d.os, en: d.os === 'other' ? 'another system' : d.os };
  return { vi: `${browser.vi} trên ${os.vi}`, en: `${browser.en} on ${os.en}` };
}

/** A stored device as it came out of the trail (jsonb): only the listed names pass, anything else is 'other'. */
export function storedDevice(v: unknown): CoarseDevice | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  const known = (name: unknown, list: [string, RegExp][]) => (typeof name === 'string' && list.some(([n]) => n === name) ? name : 'other');
  return { browser: known(o.browser, BROWSERS), os: known(o.os, SYSTEMS) };
}
