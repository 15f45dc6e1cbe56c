/**
 * The timeline chart of a bulk upsert as inline SVG (no library, no network): two panels
 * sharing the time axis.
 * - Top, "concurrency": the adaptive limit as a bold step line (the AIMD saw-tooth: halving
 *   on throttling, marked with red triangles, then climbing one slot at a time), requests
 *   in flight as a shaded area, and the ceiling (`maxConcurrency`) dashed.
 * - Bottom, "throughput": vectors written per second (line, left axis), throttled
 *   responses per second (red bars, right axis) and the server's admitted rate (dashed).
 * Every series is a `<path>` (or group) with `data-series="..."`, so tests can find it.
 */
import { type LimitChange, type Timeline, type TimelineSample, windowedRate } from './timeline.js';

/** What the chart needs besides the timeline. */
export interface ChartOptions {
  /** The ceiling of the adaptive limit (`maxConcurrency`). */
  ceiling: number;
  /** The server's admitted rate in vectors/s (requests/s × batch size), drawn dashed. */
  admittedVectorsPerSecond?: number | undefined;
  /** Label of that line, e.g. `emulator admits 25 req/s`. */
  admittedLabel?: string | undefined;
}

/** Per-sample series the hover read-out shows (embedded in the page as JSON). */
export interface ChartSeries {
  t: number[];
  limit: number[];
  inFlight: number[];
  vectorsPerSecond: number[];
  throttledPerSecond: number[];
}

/** Chart geometry in SVG units: width, margins, the two panels and the gap between them. */
export const CHART = {
  width: 1000,
  left: 70,
  right: 70,
  top: 40,
  panel1: 250,
  gap: 56,
  panel2: 210,
  bottom: 44,
};
const COLORS = {
  limit: '#1d4ed8',
  inFlight: '#93c5fd',
  ceiling: '#64748b',
  vectors: '#15803d',
  throttled: '#dc2626',
  admitted: '#16a34a',
  grid: '#e2e8f0',
  axis: '#334155',
};

/** The limit at each moment: exact transitions when the SDK logged them, else samples. */
export function limitSteps(timeline: Timeline): { t: number; limit: number }[] {
  const first = timeline.samples.find((s) => s.limit > 0);
  const changes: readonly LimitChange[] = timeline.changes;
  if (changes.length === 0) {
    const steps = timeline.samples.filter((s) => s.limit > 0).map((s) => ({ t: s.t, limit: s.limit }));
    // Before the first report the limit was already what that report says.
    if (steps[0] && steps[0].t > 0) steps.unshift({ t: 0, limit: steps[0].limit });
    return steps;
  }
  const start = (changes[0] as LimitChange).from || first?.limit || (changes[0] as LimitChange).to;
  const steps = [{ t: 0, limit: start }];
  for (const c of changes) steps.push({ t: c.t, limit: c.to });
  return steps;
}

/** The series behind the hover read-out, one value per sample. */
export function chartSeries(timeline: Timeline): ChartSeries {
  const steps = limitSteps(timeline);
  const vps = windowedRate(timeline.samples, (s) => s.upserted);
  const tps = windowedRate(timeline.samples, (s) => s.throttled);
  let k = 0;
  const series: ChartSeries = {
    t: [],
    limit: [],
    inFlight: [],
    vectorsPerSecond: [],
    throttledPerSecond: [],
  };
  timeline.samples.forEach((s, i) => {
    while (k + 1 < steps.length && (steps[k + 1]?.t ?? Infinity) <= s.t) k++;
    series.t.push(round(s.t, 2));
    series.limit.push(steps[k]?.limit ?? s.limit);
    series.inFlight.push(s.inFlight);
    series.vectorsPerSecond.push(Math.round(vps[i]?.value ?? 0));
    series.throttledPerSecond.push(round(tps[i]?.value ?? 0, 1));
  });
  return series;
}

/** The chart as an `<svg>` element string. */
export function renderChart(timeline: Timeline, options: ChartOptions): string {
  const { width, left, right, top, panel1, gap, panel2, bottom } = CHART;
  const plotWidth = width - left - right;
  const height = top + panel1 + gap + panel2 + bottom;
  const duration = Math.max(timeline.duration, 0.001);
  const x = (t: number) => round(left + (Math.min(Math.max(t, 0), duration) / duration) * plotWidth, 1);
  const out: string[] = [];
  out.push(
    `<svg id="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" role="img" aria-label="Timeline of the bulk upsert: adaptive limit, in-flight requests, vectors per second and throttled responses per second" font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" font-size="12">`,
  );

  out.push(
    `<defs><clipPath id="clip-top"><rect x="${left}" y="${top - 10}" width="${plotWidth}" height="${panel1 + 10}"/></clipPath>` +
      `<clipPath id="clip-bottom"><rect x="${left}" y="${top + panel1 + gap}" width="${plotWidth}" height="${panel2}"/></clipPath></defs>`,
  );
  // Top panel: concurrency.
  const steps = limitSteps(timeline);
  const maxLimit = Math.max(
    options.ceiling,
    ...steps.map((s) => s.limit),
    ...timeline.samples.map((s) => s.inFlight),
  );
  const top1 = niceMax(maxLimit + 1);
  const y1 = (v: number) => round(top + panel1 - (v / top1) * panel1, 1);
  out.push(
    panelFrame('Concurrency (requests)', top, panel1, ticks(top1), y1, x, duration, 'left', COLORS.axis),
  );
  out.push(
    `<path data-series="in-flight" clip-path="url(#clip-top)" d="${stepArea(timeline.samples, x, y1, duration, top + panel1)}" fill="${COLORS.inFlight}" fill-opacity="0.55" stroke="none"/>`,
  );
  out.push(
    `<line data-series="ceiling" x1="${left}" x2="${left + plotWidth}" y1="${y1(options.ceiling)}" y2="${y1(options.ceiling)}" stroke="${COLORS.ceiling}" stroke-width="1.5" stroke-dasharray="6 4"/>`,
    `<text x="${left + plotWidth - 4}" y="${y1(options.ceiling) - 5}" text-anchor="end" fill="${COLORS.ceiling}" stroke="#fff" stroke-width="4" paint-order="stroke">ceiling (--max-concurrency ${options.ceiling})</text>`,
  );
  out.push(
    `<path data-series="limit" d="${stepLine(steps, x, y1, duration)}" fill="none" stroke="${COLORS.limit}" stroke-width="2.75" stroke-linejoin="round"/>`,
  );
  const marks = timeline.changes
    .filter((c) => c.kind === 'decrease')
    .map((c) => {
      const cx = x(c.t);
      const cy = y1(c.from) - 4;
      return `<path d="M${cx - 5},${cy - 8}L${cx + 5},${cy - 8}L${cx},${cy}Z"><title>t=${c.t.toFixed(2)} s: limit ${c.from} → ${c.to}</title></path>`;
    });
  out.push(`<g data-series="decreases" fill="${COLORS.throttled}">${marks.join('')}</g>`);

  // Bottom panel: throughput and throttling.
  const top2 = top + panel1 + gap;
  const vps = windowedRate(timeline.samples, (s) => s.upserted);
  const bars = throttleBars(timeline);
  const maxVps = niceMax(
    Math.max(1, ...vps.map((p) => p.value), (options.admittedVectorsPerSecond ?? 0) * 1.15),
  );
  const maxTps = niceMax(Math.max(1, ...bars.map((b) => b.value)));
  const y2 = (v: number) => round(top2 + panel2 - (v / maxVps) * panel2, 1);
  const y2r = (v: number) => round(top2 + panel2 - (v / maxTps) * panel2, 1);
  out.push(
    panelFrame(
      'Vectors written per second',
      top2,
      panel2,
      ticks(maxVps),
      y2,
      x,
      duration,
      'left',
      COLORS.vectors,
    ),
  );
  out.push(rightAxis('Throttled responses per second', top2, ticks(maxTps), y2r, COLORS.throttled));
  const barWidth = Math.max(1, (plotWidth / duration) * 0.7);
  out.push(
    `<g data-series="throttled-per-second" clip-path="url(#clip-bottom)" fill="${COLORS.throttled}" fill-opacity="0.45">${bars
      .filter((b) => b.value > 0)
      .map(
        (b) =>
          `<rect x="${round(x(b.t + b.width / 2) - (barWidth * b.width) / 2, 1)}" y="${y2r(b.value)}" width="${round(barWidth * b.width, 1)}" height="${round(top2 + panel2 - y2r(b.value), 1)}"><title>${b.value} throttled in ${b.width === 1 ? `second ${Math.floor(b.t)}` : `${b.width}s`}</title></rect>`,
      )
      .join('')}</g>`,
  );
  if (options.admittedVectorsPerSecond) {
    const ya = y2(options.admittedVectorsPerSecond);
    out.push(
      `<line data-series="admitted" x1="${left}" x2="${left + plotWidth}" y1="${ya}" y2="${ya}" stroke="${COLORS.admitted}" stroke-width="1.5" stroke-dasharray="6 4"/>`,
      `<text x="${left + plotWidth - 6}" y="${ya - 6}" text-anchor="end" fill="${COLORS.admitted}" stroke="#fff" stroke-width="4" paint-order="stroke">${esc(options.admittedLabel ?? 'admitted rate')}</text>`,
    );
  }
  out.push(
    `<path data-series="vectors-per-second" d="${polyline(vps, x, y2)}" fill="none" stroke="${COLORS.vectors}" stroke-width="2.25" stroke-linejoin="round"/>`,
  );
  out.push(
    `<text x="${left + plotWidth / 2}" y="${height - 8}" text-anchor="middle" fill="${COLORS.axis}">time since the upsert started (s)</text>`,
  );
  // Hover read-out (driven by the page's script).
  out.push(
    `<line id="cursor" x1="0" x2="0" y1="${top}" y2="${top2 + panel2}" stroke="#0f172a" stroke-width="1" stroke-dasharray="2 3" visibility="hidden"/>`,
    `<rect id="hover" x="${left}" y="${top}" width="${plotWidth}" height="${top2 + panel2 - top}" fill="transparent"/>`,
  );
  out.push('</svg>');
  return out.join('\n');
}

/** Throttled responses per second: the server's exact per-second counts, else the client's. */
function throttleBars(timeline: Timeline): { t: number; width: number; value: number }[] {
  if (timeline.server.length > 0) {
    return timeline.server.map((s) => ({ t: s.t, width: 1, value: s.throttled }));
  }
  const bars: { t: number; width: number; value: number }[] = [];
  let prev = 0;
  for (let second = 0; second < Math.ceil(timeline.duration); second++) {
    const inSecond = timeline.samples.filter((s) => s.t <= second + 1);
    const total = inSecond[inSecond.length - 1]?.throttled ?? prev;
    bars.push({ t: second, width: 1, value: total - prev });
    prev = total;
  }
  return bars;
}

function panelFrame(
  title: string,
  top: number,
  height: number,
  values: number[],
  y: (v: number) => number,
  x: (t: number) => number,
  duration: number,
  side: 'left',
  color: string,
): string {
  const { left, width, right } = CHART;
  const parts = [`<g class="panel" data-side="${side}">`];
  parts.push(
    `<text x="${left}" y="${top - 12}" font-weight="600" font-size="13" fill="${color}">${esc(title)}</text>`,
  );
  for (const v of values) {
    parts.push(
      `<line x1="${left}" x2="${width - right}" y1="${y(v)}" y2="${y(v)}" stroke="${COLORS.grid}"/>`,
      `<text x="${left - 8}" y="${y(v) + 4}" text-anchor="end" fill="${color}">${formatTick(v)}</text>`,
    );
  }
  for (const t of ticks(duration, 10)) {
    parts.push(
      `<line x1="${x(t)}" x2="${x(t)}" y1="${top}" y2="${top + height}" stroke="${COLORS.grid}"/>`,
      `<text x="${x(t)}" y="${top + height + 16}" text-anchor="middle" fill="${COLORS.axis}">${formatTick(t)}</text>`,
    );
  }
  parts.push(
    `<rect x="${left}" y="${top}" width="${width - left - right}" height="${height}" fill="none" stroke="#cbd5e1"/>`,
  );
  parts.push('</g>');
  return parts.join('');
}

function rightAxis(
  title: string,
  top: number,
  values: number[],
  y: (v: number) => number,
  color: string,
): string {
  const { width, right } = CHART;
  const parts = [`<g class="axis-right">`];
  parts.push(
    `<text x="${width - right}" y="${top - 12}" text-anchor="end" font-weight="600" font-size="13" fill="${color}">${esc(title)}</text>`,
  );
  for (const v of values) {
    parts.push(`<text x="${width - right + 8}" y="${y(v) + 4}" fill="${color}">${formatTick(v)}</text>`);
  }
  parts.push('</g>');
  return parts.join('');
}

function stepLine(
  steps: readonly { t: number; limit: number }[],
  x: (t: number) => number,
  y: (v: number) => number,
  duration: number,
): string {
  if (steps.length === 0) return '';
  const first = steps[0] as { t: number; limit: number };
  let d = `M${x(first.t)},${y(first.limit)}`;
  for (const s of steps.slice(1)) d += `H${x(s.t)}V${y(s.limit)}`;
  return `${d}H${x(duration)}`;
}

function stepArea(
  samples: readonly TimelineSample[],
  x: (t: number) => number,
  y: (v: number) => number,
  duration: number,
  base: number,
): string {
  if (samples.length === 0) return '';
  let d = `M${x(0)},${base}`;
  for (const s of samples) d += `H${x(s.t)}V${y(s.inFlight)}`;
  return `${d}H${x(duration)}V${base}Z`;
}

function polyline(
  points: readonly { t: number; value: number }[],
  x: (t: number) => number,
  y: (v: number) => number,
): string {
  return points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.t)},${y(p.value)}`).join('');
}

/** A round number at or above `v` (1, 2, 2.5, 5 × 10^k). */
export function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/** Round tick values from 0 to `max`, about `count` of them. */
export function ticks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0];
  const raw = max / count;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * p >= raw) ?? 10) * p;
  const out: number[] = [];
  for (let v = 0; v <= max + step * 1e-9; v += step) out.push(round(v, 6));
  return out;
}

function formatTick(v: number): string {
  if (v >= 10_000) return `${round(v / 1000, 1)}k`;
  return String(round(v, 2));
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/** Escape text for HTML/SVG. */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
