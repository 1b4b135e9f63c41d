/**
 * Small inline-SVG charts for the backtest report: lines, bands, dots, reference lines and grouped bars, with
 * readable axes. Pure string building; no external script or style, so a report is one self-contained file.
 */

export type Point = readonly [number, number];

export interface LineSeries {
  readonly label: string;
  readonly color: string;
  readonly points: readonly Point[];
  readonly dash?: string;
  readonly width?: number;
}

export interface BandSeries {
  readonly label: string;
  readonly color: string;
  /** [x, low, high] per point. */
  readonly points: readonly (readonly [number, number, number])[];
}

export interface DotSeries {
  readonly label: string;
  readonly color: string;
  readonly points: readonly Point[];
  readonly radius?: number;
}

export interface ReferenceLine {
  readonly value: number;
  readonly label?: string;
  readonly color?: string;
}

export interface Axis {
  readonly domain: readonly [number, number];
  readonly format: (v: number) => string;
  /** 'time': values are epoch ms and ticks fall on years (or months). */
  readonly kind?: 'number' | 'time';
  readonly label?: string;
}

export interface XYChart {
  readonly x: Axis;
  readonly y: Axis;
  readonly lines?: readonly LineSeries[];
  readonly bands?: readonly BandSeries[];
  readonly dots?: readonly DotSeries[];
  readonly hLines?: readonly ReferenceLine[];
  readonly vLines?: readonly ReferenceLine[];
  readonly width?: number;
  readonly height?: number;
  /** Accessible description. */
  readonly title: string;
}

const margin = { top: 14, right: 18, bottom: 34, left: 62 };
const axisColor = '#9ca3af';
const gridColor = '#eef0f3';
const textColor = '#4b5563';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const r1 = (v: number) => Math.round(v * 10) / 10;

/** About `count` round values (1, 2 or 5 times a power of ten) spanning [a, b]. */
export function niceTicks(a: number, b: number, count = 5): number[] {
  if (!(b > a)) return [a];
  const raw = (b - a) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const out: number[] = [];
  for (let v = Math.ceil(a / step) * step; v <= b + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

/** January 1sts (every 1, 2, 5, 10... years) or first days of months within [a, b]. */
export function timeTicks(a: number, b: number, count = 6): number[] {
  const yearMs = 365.25 * 86_400_000;
  const years = (b - a) / yearMs;
  if (years < 2) {
    const months = Math.max(1, Math.ceil(((b - a) / (yearMs / 12)) / count));
    const out: number[] = [];
    const d = new Date(a);
    let t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    while (t <= b) {
      out.push(t);
      const n = new Date(t);
      t = Date.UTC(n.getUTCFullYear(), n.getUTCMonth() + months, 1);
    }
    return out;
  }
  const step = [1, 2, 5, 10, 20, 50, 100].find((s) => years / s <= count) ?? 100;
  const first = Math.ceil(new Date(a).getUTCFullYear() / step) * step;
  const out: number[] = [];
  for (let y = first; Date.UTC(y, 0, 1) <= b; y += step) if (Date.UTC(y, 0, 1) >= a) out.push(Date.UTC(y, 0, 1));
  return out;
}

/** Every k-th point so that at most `max` remain (the last is kept): charts of thousands of rows stay small. */
export function thin<T>(points: readonly T[], max = 1200): T[] {
  if (points.length <= max) return [...points];
  const k = Math.ceil(points.length / max);
  const out = points.filter((_, i) => i % k === 0);
  if ((points.length - 1) % k !== 0) out.push(points[points.length - 1]!);
  return out;
}

export function xyChart(c: XYChart): string {
  const width = c.width ?? 860;
  const height = c.height ?? 260;
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const [x0, x1] = c.x.domain;
  const [y0, y1] = c.y.domain;
  const sx = (v: number) => margin.left + ((v - x0) / (x1 - x0 || 1)) * plotW;
  const sy = (v: number) => margin.top + plotH - ((Math.min(Math.max(v, y0), y1) - y0) / (y1 - y0 || 1)) * plotH;
  const parts: string[] = [];
  const yTicks = niceTicks(y0, y1);
  for (const t of yTicks) {
    const y = r1(sy(t));
    parts.push(`<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${y}" y2="${y}" stroke="${gridColor}"/>`);
    parts.push(`<text x="${margin.left - 6}" y="${y + 4}" text-anchor="end">${escapeHtml(c.y.format(t))}</text>`);
  }
  const xTicks = c.x.kind === 'time' ? timeTicks(x0, x1) : niceTicks(x0, x1, 8);
  for (const t of xTicks) {
    const x = r1(sx(t));
    parts.push(`<line x1="${x}" x2="${x}" y1="${margin.top + plotH}" y2="${margin.top + plotH + 4}" stroke="${axisColor}"/>`);
    parts.push(`<text x="${x}" y="${margin.top + plotH + 17}" text-anchor="middle">${escapeHtml(c.x.format(t))}</text>`);
  }
  if (c.x.label) parts.push(`<text x="${margin.left + plotW}" y="${height - 3}" text-anchor="end">${escapeHtml(c.x.label)}</text>`);
  if (c.y.label) parts.push(`<text x="${margin.left}" y="${margin.top - 3}" text-anchor="start" class="yl">${escapeHtml(c.y.label)}</text>`);
  for (const band of c.bands ?? []) {
    const pts = thin(band.points);
    if (pts.length === 0) continue;
    const upper = pts.map(([x, , hi]) => `${r1(sx(x))},${r1(sy(hi))}`);
    const lower = pts.map(([x, lo]) => `${r1(sx(x))},${r1(sy(lo))}`).reverse();
    parts.push(`<polygon points="${[...upper, ...lower].join(' ')}" fill="${band.color}" stroke="none"><title>${escapeHtml(band.label)}</title></polygon>`);
  }
  for (const h of c.hLines ?? []) {
    const y = r1(sy(h.value));
    parts.push(`<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${y}" y2="${y}" stroke="${h.color ?? '#111827'}" stroke-dasharray="4 3"/>`);
    if (h.label) parts.push(`<text x="${margin.left + 4}" y="${y - 4}" class="ref">${escapeHtml(h.label)}</text>`);
  }
  for (const v of c.vLines ?? []) {
    const x = r1(sx(v.value));
    parts.push(`<line x1="${x}" x2="${x}" y1="${margin.top}" y2="${margin.top + plotH}" stroke="${v.color ?? '#d1d5db'}" stroke-dasharray="2 3"/>`);
    if (v.label) parts.push(`<text x="${x + 3}" y="${margin.top + 10}" class="ref">${escapeHtml(v.label)}</text>`);
  }
  for (const d of c.dots ?? []) {
    // One path of zero-length round-capped segments: thousands of dots for a few bytes each.
    const path = d.points.map(([x, y]) => `M${r1(sx(x))} ${r1(sy(y))}h0`).join('');
    parts.push(`<path d="${path}" stroke="${d.color}" stroke-width="${(d.radius ?? 1.6) * 2}" stroke-linecap="round" fill="none"><title>${escapeHtml(d.label)}</title></path>`);
  }
  for (const l of c.lines ?? []) {
    const pts = thin(l.points);
    if (pts.length === 0) continue;
    const d = pts.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${r1(sx(x))} ${r1(sy(y))}`).join('');
    parts.push(
      `<path d="${d}" stroke="${l.color}" stroke-width="${l.width ?? 1.6}" fill="none"${l.dash ? ` stroke-dasharray="${l.dash}"` : ''} stroke-linejoin="round"><title>${escapeHtml(l.label)}</title></path>`,
    );
  }
  parts.push(`<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="none" stroke="${axisColor}"/>`);
  return svg(width, height, c.title, parts);
}

export interface BarGroup {
  readonly label: string;
  readonly values: readonly (number | null)[];
}

export interface BarChart {
  readonly title: string;
  readonly series: readonly { readonly label: string; readonly color: string }[];
  readonly groups: readonly BarGroup[];
  readonly y: Axis;
  readonly hLines?: readonly ReferenceLine[];
  readonly width?: number;
  readonly height?: number;
}

export function barChart(c: BarChart): string {
  const width = c.width ?? 420;
  const height = c.height ?? 240;
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const [y0, y1] = c.y.domain;
  const sy = (v: number) => margin.top + plotH - ((Math.min(Math.max(v, y0), y1) - y0) / (y1 - y0 || 1)) * plotH;
  const parts: string[] = [];
  for (const t of niceTicks(y0, y1)) {
    const y = r1(sy(t));
    parts.push(`<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${y}" y2="${y}" stroke="${gridColor}"/>`);
    parts.push(`<text x="${margin.left - 6}" y="${y + 4}" text-anchor="end">${escapeHtml(c.y.format(t))}</text>`);
  }
  const groupW = plotW / Math.max(1, c.groups.length);
  const barW = (groupW * 0.7) / Math.max(1, c.series.length);
  c.groups.forEach((g, gi) => {
    const gx = margin.left + gi * groupW + groupW * 0.15;
    g.values.forEach((v, si) => {
      if (v === null) return;
      const s = c.series[si]!;
      const top = sy(Math.max(v, y0));
      const base = sy(y0);
      parts.push(
        `<rect x="${r1(gx + si * barW)}" y="${r1(top)}" width="${r1(barW - 1)}" height="${r1(Math.max(0, base - top))}" fill="${s.color}"><title>${escapeHtml(`${g.label}, ${s.label}: ${c.y.format(v)}`)}</title></rect>`,
      );
    });
    parts.push(`<text x="${r1(margin.left + gi * groupW + groupW / 2)}" y="${margin.top + plotH + 17}" text-anchor="middle">${escapeHtml(g.label)}</text>`);
  });
  for (const h of c.hLines ?? []) {
    const y = r1(sy(h.value));
    parts.push(`<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${y}" y2="${y}" stroke="${h.color ?? '#111827'}" stroke-dasharray="4 3"/>`);
    if (h.label) parts.push(`<text x="${margin.left + plotW - 4}" y="${y - 4}" text-anchor="end" class="ref">${escapeHtml(h.label)}</text>`);
  }
  parts.push(`<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="none" stroke="${axisColor}"/>`);
  return svg(width, height, c.title, parts);
}

function svg(width: number, height: number, title: string, parts: readonly string[]): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="${escapeHtml(title)}" ` +
    `font-family="system-ui, sans-serif" font-size="11" fill="${textColor}"><title>${escapeHtml(title)}</title>${parts.join('')}</svg>`
  );
}

/** A legend row of colour swatches, as HTML. */
export function legend(items: readonly { readonly label: string; readonly color: string; readonly dash?: boolean }[]): string {
  return `<div class="legend">${items
    .map((i) => `<span><i style="background:${i.color}${i.dash ? ';background:repeating-linear-gradient(90deg,' + i.color + ' 0 4px,transparent 4px 7px)' : ''}"></i>${escapeHtml(i.label)}</span>`)
    .join('')}</div>`;
}
