/**
 * The timeline chart of a bulk upsert as inline SVG (no library, no network): two panels
 * sharing the time axis.
 * - Top, "concurrency": the adaptive limit as a bold step line (the AIMD saw-tooth: halving
 *   on throttling, marked with red triangles, then climbing one slot at a time), requests
 *   in flight as a shaded area, and the ceiling (`maxConcurrency`) dashed.
 * - Bottom, "throughput": vectors written per second (line, left axis), throttled
 *   responses per second (red bars, right axis, in bins of one second, narrower for a short
 *   run) and the rate the emulator's binding limit allows (dashed).
 * Each axis scales to the data; a reference (ceiling, bound) far above the data is named at
 * the panel's top edge instead of flattening the data. Every series is a `<path>` (or group)
 * with `data-series="..."`, so tests can find it.
 */
import { formatTick, niceMax, round, ticks } from './axis.js';
import { type LimitChange, type Timeline, type TimelineSample, windowedRate } from './timeline.js';

/** What the chart needs besides the timeline. */
export interface ChartOptions {
  /** The ceiling of the adaptive limit (`maxConcurrency`). */
  ceiling: number;
  /** The most vectors/s the emulator's binding limit allows, drawn dashed. */
  boundVectorsPerSecond?: number | undefined;
  /** Label of that line, e.g. `emulator admits 20 req/s × 100 = 2,000 vectors/s`. */
  boundLabel?: string | undefined;
}

/** Throttled responses counted in one bin of the time axis (`[from, to)` seconds). */
export interface ThrottleBin {
  from: number;
  to: number;
  count: number;
}

/**
 * What the hover read-out shows (embedded in the page as JSON): per-sample values, and the
 * throttle counts of the very bins the bars draw, so the read-out and the bars agree.
 */
export interface ChartSeries {
  /** Seconds the chart's time axis spans. */
  duration: number;
  t: number[];
  limit: number[];
  inFlight: number[];
  vectorsPerSecond: number[];
  /** Width of a throttle bin, seconds. */
  binSeconds: number;
  /** Throttled responses in bin `k` (`[k × binSeconds, (k + 1) × binSeconds)`). */
  throttlesPerBin: number[];
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
  bound: '#16a34a',
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

/** The series behind the hover read-out: one value per sample, and the throttle bins. */
export function chartSeries(timeline: Timeline): ChartSeries {
  const steps = limitSteps(timeline);
  const vps = windowedRate(timeline.samples, (s) => s.upserted);
  const bins = throttleBins(timeline);
  let k = 0;
  const series: ChartSeries = {
    duration: round(timeline.duration, 3),
    t: [],
    limit: [],
    inFlight: [],
    vectorsPerSecond: [],
    binSeconds: binSeconds(timeline.duration),
    throttlesPerBin: bins.map((b) => b.count),
  };
  timeline.samples.forEach((s, i) => {
    while (k + 1 < steps.length && (steps[k + 1]?.t ?? Infinity) <= s.t) k++;
    series.t.push(round(s.t, 2));
    series.limit.push(steps[k]?.limit ?? s.limit);
    series.inFlight.push(s.inFlight);
    series.vectorsPerSecond.push(Math.round(vps[i]?.value ?? 0));
  });
  return series;
}

/**
 * Width of the throttle bins: one second (what "per second" means) for runs of 8 s to
 * 2 min; for a shorter run, the widest of 0.5, 0.25 and 0.1 s that still gives 8 bins, so
 * one throttle is not a block as wide as the run; for a longer one, wide enough for at
 * most 120 bars.
 */
export function binSeconds(duration: number): number {
  if (duration < 8) return [0.5, 0.25].find((w) => duration / w >= 8) ?? 0.1;
  if (duration <= 120) return 1;
  return [2, 5, 10, 30, 60].find((w) => duration / w <= 120) ?? 120;
}

/** Throttled responses per bin, by the time each arrived; the bins cover the whole run. */
export function throttleBins(timeline: Timeline): ThrottleBin[] {
  const width = binSeconds(timeline.duration);
  const count = Math.max(1, Math.ceil(timeline.duration / width - 1e-9));
  const bins = Array.from({ length: count }, (_, k) => ({
    from: round(k * width, 6),
    to: round((k + 1) * width, 6),
    count: 0,
  }));
  for (const t of timeline.throttles) {
    const bin = bins[Math.min(count - 1, Math.max(0, Math.floor(t / width)))];
    if (bin) bin.count++;
  }
  return bins;
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
  // Top panel: concurrency, scaled to the data (the ceiling joins the scale if it is near).
  const steps = limitSteps(timeline);
  const maxLimit = Math.max(1, ...steps.map((s) => s.limit), ...timeline.samples.map((s) => s.inFlight));
  const ceilingShown = options.ceiling <= NEAR * maxLimit;
  const top1 = niceMax(Math.max(maxLimit, ceilingShown ? options.ceiling : 0) + 1);
  const y1 = (v: number) => round(top + panel1 - (v / top1) * panel1, 1);
  out.push(
    panelFrame(
      'Concurrency (requests)',
      top,
      panel1,
      ticks(top1).filter(Number.isInteger),
      y1,
      x,
      duration,
      'left',
      COLORS.axis,
    ),
  );
  out.push(
    `<path data-series="in-flight" clip-path="url(#clip-top)" d="${stepArea(timeline.samples, x, y1, duration, top + panel1)}" fill="${COLORS.inFlight}" fill-opacity="0.55" stroke="none"/>`,
  );
  out.push(
    referenceLine(
      'ceiling',
      `ceiling (--max-concurrency ${options.ceiling})`,
      ceilingShown ? y1(options.ceiling) : undefined,
      top,
      COLORS.ceiling,
    ),
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

  // Bottom panel: throughput (scaled to the data; the bound joins if near) and throttling.
  const top2 = top + panel1 + gap;
  const vps = windowedRate(timeline.samples, (s) => s.upserted);
  const maxData = Math.max(1, ...vps.map((p) => p.value));
  const bound = options.boundVectorsPerSecond;
  const boundShown = bound !== undefined && bound <= NEAR * maxData;
  const maxVps = niceMax(Math.max(maxData, boundShown ? bound : 0) * 1.1);
  const bins = throttleBins(timeline);
  const binWidth = binSeconds(timeline.duration);
  // At least four throttles per bin on the scale: one throttle never fills the panel.
  const maxTps = niceMax(Math.max(4, ...bins.map((b) => b.count)) / binWidth);
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
  out.push(
    `<g data-series="throttled-per-second" clip-path="url(#clip-bottom)" fill="${COLORS.throttled}" fill-opacity="0.45">${bins
      .filter((b) => b.count > 0)
      .map((b) => {
        const rate = b.count / binWidth;
        // 70 % of the bin, centred: gaps keep neighbouring bins apart.
        const x0 = x(b.from + binWidth * 0.15);
        const x1 = x(b.from + binWidth * 0.85);
        return `<rect x="${x0}" y="${y2r(rate)}" width="${round(Math.max(1, x1 - x0), 1)}" height="${round(top2 + panel2 - y2r(rate), 1)}" data-from="${b.from}" data-to="${b.to}" data-count="${b.count}"><title>${b.count} throttled in ${b.from}–${b.to} s</title></rect>`;
      })
      .join('')}</g>`,
  );
  if (bound !== undefined) {
    out.push(
      referenceLine(
        'bound',
        options.boundLabel ?? 'bound',
        boundShown ? y2(bound) : undefined,
        top2,
        COLORS.bound,
      ),
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

/** A reference within this factor of the data's maximum joins the axis's scale. */
const NEAR = 1.5;

/**
 * A dashed reference line with its label at `y`; or, when it is off the scale (`y`
 * undefined), the label alone at the panel's top edge saying so.
 */
function referenceLine(
  series: string,
  label: string,
  y: number | undefined,
  panelTop: number,
  color: string,
): string {
  const { left, width, right } = CHART;
  const textAttrs = `text-anchor="end" fill="${color}" stroke="#fff" stroke-width="4" paint-order="stroke"`;
  if (y === undefined) {
    return `<g data-series="${series}" data-off-scale="true"><text x="${width - right - 6}" y="${panelTop + 16}" ${textAttrs}>↑ ${esc(label)}: above this scale</text></g>`;
  }
  return (
    `<g data-series="${series}"><line x1="${left}" x2="${width - right}" y1="${y}" y2="${y}" stroke="${color}" stroke-width="1.5" stroke-dasharray="6 4"/>` +
    `<text x="${width - right - 6}" y="${y - 6}" ${textAttrs}>${esc(label)}</text></g>`
  );
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
  for (const t of ticks(duration, 10, false)) {
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
    `<text class="axis-title" x="${width - right}" y="${top - 12}" text-anchor="end" font-weight="600" font-size="13" fill="${color}">${esc(title)}</text>`,
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

/** Escape text for HTML/SVG. */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
