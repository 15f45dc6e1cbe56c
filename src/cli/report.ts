/**
 * The run report: one self-contained HTML file (inline CSS, inline SVG chart, a few lines
 * of inline script for the hover read-out; nothing fetched from the network) showing the
 * timeline of a bulk upsert and a summary table. Open it in any browser, attach it to an
 * issue, keep it with a benchmark.
 */
import { writeFile } from 'node:fs/promises';
import { type ChartOptions, chartSeries, esc, renderChart } from './chart.js';
import type { Timeline } from './timeline.js';

/** Everything a report shows. */
export interface ReportData extends ChartOptions {
  title: string;
  /** The command that produced the run. */
  command: string;
  /** When the run happened (ISO 8601). */
  generatedAt: string;
  /** Summary rows: label, value. */
  summary: readonly (readonly [string, string])[];
  timeline: Timeline;
  /** Extra paragraphs under the summary (plain text). */
  notes?: readonly string[];
}

const LEGEND: readonly (readonly [string, string, string])[] = [
  ['limit', 'adaptive limit', 'line'],
  ['in-flight', 'requests in flight', 'area'],
  ['decreases', 'limit halved (throttling seen)', 'mark'],
  ['vectors-per-second', 'vectors written per second', 'line'],
  ['throttled-per-second', 'throttled responses per second', 'bar'],
  ['bound', 'the most vectors/s the emulator allows', 'dash'],
];

const SWATCH: Record<string, string> = {
  limit: '#1d4ed8',
  'in-flight': '#93c5fd',
  decreases: '#dc2626',
  'vectors-per-second': '#15803d',
  'throttled-per-second': '#dc2626',
  bound: '#16a34a',
};

/** The report as an HTML string. */
export function renderReport(data: ReportData): string {
  const series = chartSeries(data.timeline);
  // `<` escaped so the JSON can never close the script element.
  const json = JSON.stringify(series).replace(/</g, '\\u003c');
  const legend = LEGEND.filter(([key]) => key !== 'bound' || data.boundVectorsPerSecond !== undefined)
    .map(
      ([key, label, kind]) =>
        `<li><span class="swatch ${kind}" style="--c:${SWATCH[key]}"></span>${esc(label)}</li>`,
    )
    .join('');
  const rows = data.summary
    .map(([k, v]) => `<tr><th scope="row">${esc(k)}</th><td>${esc(v)}</td></tr>`)
    .join('\n');
  const notes = (data.notes ?? []).map((n) => `<p>${esc(n)}</p>`).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(data.title)}</title>
<style>
  :root { color-scheme: light; }
  body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #0f172a; margin: 0; background: #f8fafc; }
  main { max-width: 1040px; margin: 0 auto; padding: 24px 20px 48px; }
  h1 { font-size: 22px; margin: 0 0 4px; }
  .meta { color: #475569; margin: 0 0 16px; font-size: 13px; }
  code { font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; background: #e2e8f0; padding: 1px 5px; border-radius: 4px; }
  figure { background: #fff; border: 1px solid #e2e8f0; border-radius: 10px; margin: 0 0 20px; padding: 12px 12px 4px; position: relative; }
  figcaption { color: #334155; font-size: 14px; padding: 4px 8px 10px; }
  svg { width: 100%; height: auto; display: block; }
  ul.legend { list-style: none; display: flex; flex-wrap: wrap; gap: 6px 18px; padding: 0 8px; margin: 0 0 6px; font-size: 13px; color: #334155; }
  .swatch { display: inline-block; width: 22px; height: 10px; margin-right: 6px; vertical-align: middle; }
  .swatch.line { height: 3px; background: var(--c); }
  .swatch.area { background: var(--c); opacity: .7; }
  .swatch.bar { width: 10px; background: var(--c); opacity: .5; }
  .swatch.mark { width: 0; height: 0; border-left: 6px solid transparent; border-right: 6px solid transparent; border-top: 9px solid var(--c); }
  .swatch.dash { height: 0; border-top: 2px dashed var(--c); }
  #readout { position: absolute; pointer-events: none; background: rgba(15,23,42,.92); color: #f8fafc; font-size: 12px; padding: 6px 9px; border-radius: 6px; white-space: pre; display: none; }
  table { border-collapse: collapse; background: #fff; border: 1px solid #e2e8f0; border-radius: 10px; overflow: hidden; min-width: 60%; }
  th, td { text-align: left; padding: 6px 14px; border-bottom: 1px solid #f1f5f9; font-size: 14px; }
  th { font-weight: 500; color: #475569; }
  td { font-variant-numeric: tabular-nums; font-weight: 600; }
  h2 { font-size: 17px; margin: 24px 0 8px; }
  p { max-width: 860px; }
  /* A phone-width chart is about a third of its drawn size: draw its text and lines larger. */
  @media (max-width: 640px) {
    main { padding: 16px 10px 32px; }
    figure { padding: 8px 4px 4px; }
    #timeline text { font-size: 24px; }
    /* The legend names the right axis; its title would run into the left one's. */
    #timeline .axis-right .axis-title { display: none; }
    #timeline [data-series="limit"] { stroke-width: 5; }
    #timeline [data-series="vectors-per-second"] { stroke-width: 4.5; }
    th, td { padding: 5px 8px; }
  }
</style>
</head>
<body>
<main>
<h1>${esc(data.title)}</h1>
<p class="meta">${esc(data.generatedAt)} · <code>${esc(data.command)}</code></p>
<figure id="timeline-chart">
<ul class="legend">${legend}</ul>
${renderChart(data.timeline, data)}
<div id="readout"></div>
<figcaption><strong>How to read it:</strong> the blue step line is the SDK's adaptive concurrency limit. Each time the server
throttles (red bars below), the limit is cut in half once per congestion event (red triangles); while requests succeed it
climbs back one slot at a time. That is the AIMD saw-tooth: the client keeps probing for capacity and backs off as soon
as the server pushes back, so the green line (vectors written per second) stays close to what the server admits.</figcaption>
</figure>
<h2>Summary</h2>
<table id="summary">
${rows}
</table>
${notes}
</main>
<script type="application/json" id="series">${json}</script>
<script>
(function () {
  var s = JSON.parse(document.getElementById('series').textContent);
  var svg = document.getElementById('timeline');
  var hover = document.getElementById('hover');
  var cursor = document.getElementById('cursor');
  var box = document.getElementById('readout');
  var fig = document.getElementById('timeline-chart');
  if (!svg || !hover || !s.t.length) return;
  var x0 = Number(hover.getAttribute('x')), w = Number(hover.getAttribute('width'));
  var tMax = s.duration || 1;
  var num = function (v, d) { return Number(v.toFixed(d)).toLocaleString('en-US'); };
  hover.addEventListener('mousemove', function (e) {
    var pt = svg.createSVGPoint(); pt.x = e.clientX; pt.y = e.clientY;
    var p = pt.matrixTransform(svg.getScreenCTM().inverse());
    var t = Math.max(0, Math.min(tMax, (p.x - x0) / w * tMax));
    var i = 0; while (i + 1 < s.t.length && s.t[i + 1] <= t) i++;
    // The throttle bin under the cursor: the same bins the bars draw.
    var k = Math.max(0, Math.min(s.throttlesPerBin.length - 1, Math.floor(t / s.binSeconds)));
    var n = s.throttlesPerBin[k] || 0;
    cursor.setAttribute('x1', p.x); cursor.setAttribute('x2', p.x); cursor.setAttribute('visibility', 'visible');
    box.textContent = 't = ' + t.toFixed(s.binSeconds < 1 ? 2 : 1) + ' s\\nlimit ' + s.limit[i] + ' · in flight ' + s.inFlight[i] +
      '\\n' + s.vectorsPerSecond[i].toLocaleString('en-US') + ' vectors/s\\n' + num(n / s.binSeconds, 1) +
      ' throttled/s (' + n + ' in ' + num(k * s.binSeconds, 2) + '–' + num((k + 1) * s.binSeconds, 2) + ' s)';
    var r = fig.getBoundingClientRect();
    box.style.display = 'block';
    box.style.left = Math.min(e.clientX - r.left + 14, r.width - 190) + 'px';
    box.style.top = (e.clientY - r.top + 14) + 'px';
  });
  hover.addEventListener('mouseleave', function () { box.style.display = 'none'; cursor.setAttribute('visibility', 'hidden'); });
})();
</script>
</body>
</html>
`;
}

/** Write the report to `path`. */
export async function writeReport(path: string, data: ReportData): Promise<void> {
  await writeFile(path, renderReport(data), 'utf8');
}
