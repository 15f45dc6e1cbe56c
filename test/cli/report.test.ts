import { describe, expect, it } from 'vitest';
import { limitSteps, niceMax, renderChart, ticks } from '../../src/cli/chart.js';
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
  server: [0, 1, 2].map((t) => ({ t, accepted: 10, rejected: 2, throttled: 2, vectors: 1000 })),
  duration: 3,
};

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
      admittedVectorsPerSecond: 1000,
      admittedLabel: 'admits',
    });
    for (const series of [
      'limit',
      'in-flight',
      'ceiling',
      'decreases',
      'vectors-per-second',
      'throttled-per-second',
      'admitted',
    ]) {
      expect(svg).toContain(`data-series="${series}"`);
    }
    expect(svg.match(/<title>t=0\.80 s: limit 8 → 4<\/title>/g)).toHaveLength(1);
    expect(svg.match(/throttled in second/g)).toHaveLength(3);
  });

  it('picks round axis maxima and ticks', () => {
    expect(niceMax(9)).toBe(10);
    expect(niceMax(17)).toBe(20);
    expect(niceMax(2300)).toBe(2500);
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
