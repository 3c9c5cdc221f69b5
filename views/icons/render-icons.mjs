// Renders nixa's app icons (PNG) from their SVG sources with Debian's Chromium,
// through playwright-core (already a dev dependency; nothing is downloaded). Run
// once after changing an SVG, from the repository root, and commit the PNGs:
//
//   node views/icons/render-icons.mjs
//
// "any" icons are views/favicon.svg as it is (rounded corners, transparent
// outside); maskable ones and the Apple touch icon are nixa-maskable.svg, the
// same mark on a full-bleed square with the letter inside the 80 % safe circle
// (a launcher cuts its own shape; iOS rounds the corners itself and would fill
// transparency with black).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const here = (name) => fileURLToPath(new URL(name, import.meta.url));
const ICONS = [
  { svg: '../favicon.svg', size: 192, png: 'nixa-192.png' },
  { svg: '../favicon.svg', size: 512, png: 'nixa-512.png' },
  { svg: 'nixa-maskable.svg', size: 192, png: 'nixa-maskable-192.png' },
  { svg: 'nixa-maskable.svg', size: 512, png: 'nixa-maskable-512.png' },
  { svg: 'nixa-maskable.svg', size: 180, png: 'apple-touch-icon.png' },
];

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });
try {
  for (const { svg, size, png } of ICONS) {
    const page = await browser.newPage({ viewport: { width: size, height: size }, deviceScaleFactor: 1 });
    const data = Buffer.from(readFileSync(here(svg))).toString('base64');
    await page.setContent(`<style>html,body{margin:0;background:transparent}img{display:block;width:${size}px;height:${size}px}</style><img src="data:image/svg+xml;base64,${data}" alt="">`);
    await page.locator('img').evaluate((img) => img.decode());
    await page.screenshot({ path: here(png), omitBackground: true });
    await page.close();
    console.log(`${png}: ${size}×${size} from ${svg}`);
  }
} finally {
  await browser.close();
}
