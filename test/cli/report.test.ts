import { describe, expect, it } from 'vitest';
import { niceMax, ticks } from '../../src/cli/axis.js';
import {
  binSeconds,
  CHART,
  chartSeries,
  limitSteps,
  renderChart,
  throttleBins,
} from '../../src/cli/chart.js';
import { renderReport } from '../../src/cli/report.js';
import type { Timeline } from '../../src/cli/timeline.js';

const timeline: Timeline = {
  samples: [0, 1, 2, 3].map((t) => ({
    t,
    upserted: t * 1000,
    inFlight: 2,
    limit: t < 1 ? 8 : 4,
    throttled: t * 3,
  })),
  changes: [
    { t: 0.8, kind: 'decrease', from: 8, to: 4, ceiling: 8 },
    { t: 2.2, kind: 'increase', from: 4, to: 5, ceiling: 8 },
  ],
  throttles: [0.2, 0.4, 1.3, 1.9, 2.5, 2.7],
  duration: 3,
};

/** The throttle bars of a rendered chart: bin, count, and geometry in SVG units. */
function bars(svg: string): { from: number; to: number; count: number; width: number; height: number }[] {
  return [
    ...svg.matchAll(
      /<rect x="[^"]+" y="[^"]+" width="([^"]+)" height="([^"]+)" data-from="([^"]+)" data-to="([^"]+)" data-count="(\d+)"/g,
    ),
  ].map((m) => ({
    width: Number(m[1]),
    height: Number(m[2]),
    from: Number(m[3]),
    to: Number(m[4]),
    count: Number(m[5]),
  }));
}

/** The tick labels of the panel whose title is `title` (the left axis). */
function leftTicks(svg: string, title: string): number[] {
  const panel = svg.split('<g class="panel"').find((p) => p.includes(`>${title}<`)) ?? '';
  return [...panel.matchAll(/text-anchor="end" fill="[^"]+">([\d.k]+)<\/text>/g)].map((m) =>
    m[1]?.endsWith('k') ? Number(m[1].slice(0, -1)) * 1000 : Number(m[1]),
  );
}

/** A run of `duration` s sampled every 0.2 s: limit and in flight at `limit`, `rate` vectors/s. */
function run(duration: number, limit: number, rate: number, throttles: number[] = []): Timeline {
  const samples = Array.from({ length: Math.floor(duration / 0.2) + 1 }, (_, i) => ({
    t: i * 0.2,
    upserted: Math.round(i * 0.2 * rate),
    inFlight: limit,
    limit,
    throttled: throttles.filter((t) => t <= i * 0.2).length,
  }));
  return { samples, changes: [], throttles, duration };
}

describe('chart', () => {
  it('draws the limit from the exact transitions', () => {
    expect(limitSteps(timeline)).toEqual([
      { t: 0, limit: 8 },
      { t: 0.8, limit: 4 },
      { t: 2.2, limit: 5 },
    ]);
    expect(limitSteps({ ...timeline, changes: [] }).map((s) => s.limit)).toEqual([8, 4, 4, 4]);
    const late = timeline.samples.map((s) => ({ ...s, t: s.t + 0.2 }));
    expect(limitSteps({ ...timeline, samples: late, changes: [] })[0]).toEqual({ t: 0, limit: 8 });
  });

  it('has every series, a marker per decrease, and a bar per throttled second', () => {
    const svg = renderChart(timeline, {
      ceiling: 8,
      boundVectorsPerSecond: 1000,
      boundLabel: 'admits',
    });
    for (const series of [
      'limit',
      'in-flight',
      'ceiling',
      'decreases',
      'vectors-per-second',
      'throttled-per-second',
      'bound',
    ]) {
      expect(svg).toContain(`data-series="${series}"`);
    }
    expect(svg.match(/<title>t=0\.80 s: limit 8 → 4<\/title>/g)).toHaveLength(1);
    // A three-second run is binned in quarter seconds: 0.2 | 0.4 | 1.3 | 1.9 | 2.5 and 2.7.
    expect(bars(svg).map((b) => [b.from, b.count])).toEqual([
      [0, 1],
      [0.25, 1],
      [1.25, 1],
      [1.75, 1],
      [2.5, 2],
    ]);
  });

  it("bins throttles per second, and the hover read-out's series holds the bars' own counts", () => {
    // Throttles at 2.5, 2.6 and 3.1 s: a trailing one-second window at t = 3.2 s counts 3,
    // the bar of second 3-4 holds 1. The read-out must say what the bar under it says.
    const t = run(10, 3, 1000, [2.5, 2.6, 3.1]);
    const series = chartSeries(t);
    expect(series.binSeconds).toBe(1);
    expect(series.throttlesPerBin.slice(0, 5)).toEqual([0, 0, 2, 1, 0]);
    const drawn = bars(renderChart(t, { ceiling: 3 }));
    expect(drawn.map((b) => [b.from, b.to, b.count])).toEqual([
      [2, 3, 2],
      [3, 4, 1],
    ]);
    expect(drawn.map((b) => b.count)).toEqual(series.throttlesPerBin.filter((n) => n > 0));
  });

  it('bins a short run finer, so one throttle is neither as wide as the run nor as tall as the panel', () => {
    expect(binSeconds(0.7)).toBe(0.1);
    expect(binSeconds(3)).toBe(0.25);
    expect(binSeconds(5)).toBe(0.5);
    expect(binSeconds(10.4)).toBe(1);
    expect(binSeconds(600)).toBe(5);
    const short = run(0.7, 2, 1500, [0.42]);
    expect(throttleBins(short)).toHaveLength(7);
    const [bar] = bars(renderChart(short, { ceiling: 16 }));
    const plotWidth = CHART.width - CHART.left - CHART.right;
    expect(bar?.width).toBeLessThan(plotWidth * 0.15);
    expect(bar?.height).toBeLessThanOrEqual(CHART.panel2 / 4);
  });

  it('scales the concurrency axis to the data and names a ceiling far above it', () => {
    const svg = renderChart(run(10, 6, 2000), { ceiling: 20 });
    expect(Math.max(...leftTicks(svg, 'Concurrency (requests)'))).toBe(8);
    expect(svg).toMatch(
      /<g data-series="ceiling" data-off-scale="true">.*ceiling \(--max-concurrency 20\): above this scale/,
    );
    // A ceiling near the data stays on the scale, as a line.
    const near = renderChart(run(10, 14, 2000), { ceiling: 16 });
    expect(Math.max(...leftTicks(near, 'Concurrency (requests)'))).toBe(20);
    expect(near).toMatch(/<g data-series="ceiling"><line /);
  });

  it('scales vectors/s to the data when the bound is far above it (an unthrottled run)', () => {
    const svg = renderChart(run(3, 16, 10_000), {
      ceiling: 16,
      boundVectorsPerSecond: 100_000,
      boundLabel: 'emulator admits 1000 req/s × 100 = 100,000 vectors/s',
    });
    expect(Math.max(...leftTicks(svg, 'Vectors written per second'))).toBe(12_000);
    expect(svg).toMatch(
      /<g data-series="bound" data-off-scale="true">.*100,000 vectors\/s: above this scale/,
    );
    const near = renderChart(run(3, 16, 10_000), { ceiling: 16, boundVectorsPerSecond: 12_800 });
    expect(near).toMatch(/<g data-series="bound"><line /);
  });

  it('picks round axis maxima and ticks', () => {
    expect(niceMax(9)).toBe(10);
    expect(niceMax(17)).toBe(20);
    expect(niceMax(2300)).toBe(2500);
    expect(niceMax(3190)).toBe(4000);
    expect(ticks(10)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(ticks(2500)).toEqual([0, 500, 1000, 1500, 2000, 2500]);
  });
});

describe('report', () => {
  it('is one self-contained page: no external resources, data safely embedded', () => {
    const html = renderReport({
      title: 'Run </script><b>x</b>',
      command: 'pinecone-resilient demo',
      generatedAt: '2026-01-01T00:00:00.000Z',
      summary: [['Wall time', '3.00 s']],
      timeline,
      ceiling: 8,
    });
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<svg id="timeline"');
    expect(html).toContain('<table id="summary">');
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/i);
    expect(html).not.toMatch(/url\(\s*['"]?https?:/i);
    expect(html).not.toContain('<b>x</b>');
    const json = /<script type="application\/json" id="series">(.*?)<\/script>/s.exec(html)?.[1] ?? '';
    expect(JSON.parse(json).limit).toEqual([8, 4, 4, 5]);
  });
});
