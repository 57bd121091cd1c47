/**
 * The soak run's plot: an SVG of the sampled series (one panel each, shared time axis), rendered
 * to PNG by Debian's Chromium through playwright-core (the same headless browser the tests use);
 * without Chromium only the SVG is written.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';

export interface Series {
  name: string;
  unit: string;
  points: [tSeconds: number, value: number][];
}

const W = 900;
const PANEL_H = 150;
const PAD = 50;

export function svg(title: string, series: Series[]): string {
  const h = PAD + series.length * (PANEL_H + 30) + 20;
  const tMax = Math.max(1, ...series.flatMap((s) => s.points.map((p) => p[0])));
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" font-family="sans-serif" font-size="12">`, `<rect width="100%" height="100%" fill="#fff"/>`, `<text x="${PAD}" y="24" font-size="15" font-weight="bold">${title}</text>`];
  series.forEach((s, i) => {
    const top = PAD + i * (PANEL_H + 30);
    const vals = s.points.map((p) => p[1]);
    const lo = Math.min(0, ...vals);
    const hi = Math.max(1e-9, ...vals) * 1.1;
    const x = (t: number): number => PAD + (t / tMax) * (W - 2 * PAD);
    const y = (v: number): number => top + PANEL_H - ((v - lo) / (hi - lo)) * PANEL_H;
    parts.push(`<text x="${PAD}" y="${top - 6}">${s.name} (${s.unit}); max ${Math.max(...vals, 0).toFixed(1)}</text>`);
    parts.push(`<rect x="${PAD}" y="${top}" width="${W - 2 * PAD}" height="${PANEL_H}" fill="none" stroke="#ccc"/>`);
    parts.push(`<text x="${PAD - 6}" y="${top + 10}" text-anchor="end">${hi.toFixed(0)}</text><text x="${PAD - 6}" y="${top + PANEL_H}" text-anchor="end">${lo.toFixed(0)}</text>`);
    const d = s.points.map((p, j) => `${j ? 'L' : 'M'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' ');
    parts.push(`<path d="${d}" fill="none" stroke="#26a" stroke-width="1.5"/>`);
  });
  parts.push(`<text x="${W - PAD}" y="${h - 6}" text-anchor="end">${(tMax / 60).toFixed(1)} min</text></svg>`);
  return parts.join('\n');
}

/** Writes `<base>.svg` and, when Chromium is there, `<base>.png`. Returns the PNG's path or null. */
export async function writePlot(base: string, title: string, series: Series[]): Promise<string | null> {
  const text = svg(title, series);
  await writeFile(`${base}.svg`, text);
  const exe = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
  if (!existsSync(exe)) return null;
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: exe, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage({ viewport: { width: W, height: 200 } });
    await page.setContent(`<html><body style="margin:0">${text}</body></html>`);
    await page.screenshot({ path: `${base}.png`, fullPage: true });
  } finally {
    await browser.close();
  }
  return `${base}.png`;
}
