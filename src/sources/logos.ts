// Logos are source data: a data: URI in the registration (schema.ts), shown on the
// chooser under nixa's CSP (img-src 'self' data:), never fetched from elsewhere.
// The simulated sources' logos are drawn here, small and plainly not real brands.
import type { SourceKind } from './schema.js';

/** An SVG document as the data: URI a registration's `logo` takes. */
export const svgLogo = (svg: string): string => `data:image/svg+xml;base64,${Buffer.from(svg, 'utf8').toString('base64')}`;

const frame = (fill: string, body: string) =>
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40" width="40" height="40"><rect width="40" height="40" rx="8" fill="${fill}"/>${body}</svg>`;

export const DEMO_SOURCE_LOGOS: Record<Exclude<SourceKind, 'other'>, string> = {
  // A yellow star on red: the state's own register of residents.
  citizen_id: svgLogo(frame('#c8102e', '<path fill="#ffcd00" d="M20 7l3.5 10.6H34.6l-9 6.6 3.4 10.6L20 28.3l-9 6.5 3.4-10.6-9-6.6h11.1z"/>')),
  // Signal bars: a mobile operator.
  telecom: svgLogo(frame('#1a5fb4', '<g fill="#fff"><rect x="8" y="25" width="5" height="7" rx="1"/><rect x="15.5" y="19" width="5" height="13" rx="1"/><rect x="23" y="13" width="5" height="19" rx="1"/><rect x="30.5" y="8" width="3" height="24" rx="1"/></g>')),
  // Columns under a roof: a bank.
  bank: svgLogo(frame('#1e7b4d', '<g fill="#fff"><path d="M20 7l13 7H7z"/><rect x="9" y="16" width="3.5" height="12"/><rect x="15" y="16" width="3.5" height="12"/><rect x="21.5" y="16" width="3.5" height="12"/><rect x="27.5" y="16" width="3.5" height="12"/><rect x="7" y="29" width="26" height="4"/></g>')),
};
