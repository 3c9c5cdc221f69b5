// QR codes drawn by nixa itself, as SVG: no external service ever sees an
// enrolment secret. nixa's pages allow `img-src 'self' data:`, so the code is
// shown as <img src="data:image/svg+xml;base64,…" alt="…">, which also gives it a
// text alternative for screen readers.
import QRCode from 'qrcode';

/** The SVG markup of a QR code for text (medium error correction, the standard 4-module quiet zone). */
export async function qrSvg(text: string): Promise<string> {
  return QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 4, color: { dark: '#000000', light: '#ffffff' } });
}

/** An SVG as a data: URI for an <img> under the pages' CSP. */
export function svgDataUri(svg: string): string {
  return `data:image/svg+xml;base64,${Buffer.from(svg, 'utf8').toString('base64')}`;
}
