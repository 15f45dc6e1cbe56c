/**
 * The demo end to end, at small sizes so the suite stays quick: the built CLI in a child
 * process, its summary, and its HTML report in a real browser (headless Chromium, Debian's
 * `chromium` package, which `.ci/run` installs, driven by playwright-core). Three runs: a
 * throttled one, an unthrottled one (`--rps 1000`) and a short one with a few throttles;
 * the throttled report is also opened 420 px wide. Set `REPORT_SCREENSHOTS=<dir>` to keep
 * the screenshots for a look.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliRun, runCli } from './run-cli.js';

const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find(
  (p): p is string => typeof p === 'string' && p !== '' && existsSync(p),
);

/** The runs: name and the demo flags besides `--report`. */
const RUNS = {
  // 60 requests against 30 req/s (far below what even a busy machine sends): the limiter has work to do.
  throttled: [
    '--vectors',
    '1200',
    '--dimension',
    '32',
    '--batch-size',
    '20',
    '--rps',
    '30',
    '--latency-ms',
    '20',
  ],
  // Nothing throttles; latency at the ceiling is the only limit.
  unthrottled: ['--vectors', '4000', '--dimension', '32', '--rps', '1000', '--latency-ms', '40'],
  // Ten requests at 5 req/s from a bucket holding one token: a few throttles in about 2 s.
  short: ['--vectors', '1000', '--dimension', '32', '--rps', '5', '--latency-ms', '20'],
} as const;
type RunName = keyof typeof RUNS;

let dir: string;
let shots: string;
const reports = {} as Record<RunName, string>;
const runs = {} as Record<RunName, CliRun>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-report-'));
  shots = process.env.REPORT_SCREENSHOTS || dir;
  await mkdir(shots, { recursive: true });
  await Promise.all(
    (Object.keys(RUNS) as RunName[]).map(async (name) => {
      const report = join(dir, `${name}.html`);
      runs[name] = await runCli(['demo', ...RUNS[name], '--report', report, '--progress-interval', '250'], {
        timeoutMs: 60_000,
      });
      reports[name] = report;
    }),
  );
}, 90_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// The page's globals these tests use inside `page.evaluate` (the project compiles without
// the DOM library).
interface PageElement {
  getAttribute(name: string): string | null;
  getBoundingClientRect(): { left: number; right: number; top: number; bottom: number; height: number };
}
declare const document: {
  getElementById(id: string): PageElement | null;
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement> & Iterable<PageElement>;
};
declare function getComputedStyle(element: PageElement): { display: string };

/** Geometry of the drawn chart, in SVG units, read in the page. */
interface Drawn {
  /** Plot left edge and width. */
  plot: { x: number; width: number };
  /** Bottom panel: top and height. */
  panel: { y: number; height: number };
  /** Highest point of the vectors/s line (smallest y). */
  vectorsTop: number;
  bars: { x: number; width: number; height: number; from: number; to: number; count: number }[];
}

async function drawn(page: Page): Promise<Drawn> {
  return page.evaluate(() => {
    const num = (el: PageElement | null, name: string) => Number(el?.getAttribute(name));
    const hover = document.getElementById('hover');
    const clip = document.querySelector('#clip-bottom rect');
    const d = document.querySelector('[data-series="vectors-per-second"]')?.getAttribute('d') ?? '';
    const ys = [...d.matchAll(/[ML][\d.]+,([\d.]+)/g)].map((m) => Number(m[1]));
    return {
      plot: { x: num(hover, 'x'), width: num(hover, 'width') },
      panel: { y: num(clip, 'y'), height: num(clip, 'height') },
      vectorsTop: Math.min(...ys),
      bars: [...document.querySelectorAll('[data-series="throttled-per-second"] rect')].map((r) => ({
        x: num(r, 'x'),
        width: num(r, 'width'),
        height: num(r, 'height'),
        from: num(r, 'data-from'),
        to: num(r, 'data-to'),
        count: num(r, 'data-count'),
      })),
    };
  });
}

describe('demo', () => {
  it('loads, verifies and summarises the run, and writes the report', async () => {
    const demo = runs.throttled;
    expect(demo.stderr).not.toMatch(/error/i);
    expect(demo.code).toBe(0);
    expect(demo.stdout).toMatch(/Local emulator on http:\/\/127\.0\.0\.1:\d+/);
    for (const label of ['Wall time (upsert)', 'Throughput', 'Requests rejected', 'Limiter transitions']) {
      expect(demo.stdout).toContain(label);
    }
    expect(demo.stdout).toMatch(
      /Lower bound\s+[\d.]+ s, admitted rate: \(60 requests − [\d.]+ tokens? in the bucket\)/,
    );
    expect(demo.stdout).toMatch(/Wall time ÷ lower bound\s+\d+\.\d\d×/);
    expect(demo.stdout).toMatch(/Stored \(describeIndexStats\)\s+1,200 of 1,200/);
    expect(demo.stdout).toMatch(/Queries\s+3\/3 records found themselves first/);
    expect(demo.stdout).toContain(`Report: ${reports.throttled}`);
    // Without a terminal the progress display is plain lines, no escape codes.
    expect(demo.stderr).toMatch(/\[demo\] 1,200\/1,200 \(100%\) vectors/);
    expect(demo.stderr).not.toContain('\u001b[');
    expect(await readFile(reports.throttled, 'utf8')).toContain('<svg id="timeline"');
  });

  it('measures an unthrottled run against latency at the ceiling, not the far admitted rate', () => {
    const demo = runs.unthrottled;
    expect(demo.code).toBe(0);
    expect(demo.stdout).toMatch(/Requests rejected\s+0 /);
    // ⌈40 requests ÷ 16⌉ = 3 rounds of 40 ms.
    expect(demo.stdout).toMatch(
      /Lower bound\s+0\.12 s, latency at the ceiling: 3 rounds of 16 in flight × 40 ms/,
    );
    expect(demo.stdout).toMatch(/Wall time ÷ lower bound\s+\d+\.\d\d×/);
  });
});

describe.skipIf(!CHROMIUM)('the report in headless Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
  });

  /** Open a report; fails the test on page errors or any request but the file itself. */
  async function open(name: RunName, width: number, check: (page: Page) => Promise<void>): Promise<void> {
    expect(runs[name].code, runs[name].stderr).toBe(0);
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    const requests: string[] = [];
    const errors: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(`file://${reports[name]}`);
    await page.locator('svg#timeline').waitFor({ state: 'visible' });
    await check(page);
    const shot = join(shots, `report-${name}-${width}.png`);
    await page.screenshot({ path: shot, fullPage: true });
    expect((await stat(shot)).size).toBeGreaterThan(20_000);
    expect(errors).toEqual([]);
    expect(requests.filter((u) => !u.startsWith('file://'))).toEqual([]);
    await page.close();
  }

  it('a throttled run: every series, the summary, and a read-out that agrees with the bars', async () => {
    await open('throttled', 1100, async (page) => {
      expect(await page.title()).toMatch(/pinecone-resilient demo: 1,200 vectors/);
      const box = await page.locator('svg#timeline').boundingBox();
      expect(box?.width).toBeGreaterThan(800);
      expect(box?.height).toBeGreaterThan(400);
      const segments = async (series: string) =>
        ((await page.locator(`[data-series="${series}"]`).getAttribute('d')) ?? '').split(/[MLHV]/).length -
        1;
      expect(await segments('limit')).toBeGreaterThanOrEqual(2);
      expect(await segments('in-flight')).toBeGreaterThan(5);
      expect(await segments('vectors-per-second')).toBeGreaterThan(5);
      for (const series of ['ceiling', 'bound', 'throttled-per-second', 'decreases']) {
        await expect(page.locator(`[data-series="${series}"]`).count()).resolves.toBe(1);
      }
      await expect(page.locator('#summary tr').count()).resolves.toBeGreaterThan(8);

      // Hover over the middle of each bar: the read-out names that bar's bin and count.
      const chart = await drawn(page);
      expect(chart.bars.length).toBeGreaterThan(0);
      const svg = page.locator('svg#timeline');
      const scale = (box?.width ?? 0) / 1000; // the viewBox is 1000 units wide
      const readout = page.locator('#readout');
      for (const bar of chart.bars) {
        const bx = (box?.x ?? 0) + (bar.x + bar.width / 2) * scale;
        await page.mouse.move(bx, (box?.y ?? 0) + 150);
        await readout.waitFor({ state: 'visible' });
        const text = (await readout.textContent()) ?? '';
        expect(text).toMatch(
          /^t = [\d.]+ s\nlimit \d+ · in flight \d+\n[\d,]+ vectors\/s\n[\d.]+ throttled\/s \(/,
        );
        const bin = /\((\d+) in ([\d.]+)–([\d.]+) s\)$/.exec(text);
        expect([Number(bin?.[1]), Number(bin?.[2]), Number(bin?.[3])]).toEqual([bar.count, bar.from, bar.to]);
        const rate = Number(/([\d.]+) throttled\/s/.exec(text)?.[1]);
        expect(rate).toBeCloseTo(bar.count / (bar.to - bar.from), 1);
      }
      await svg.hover({ position: { x: 5, y: 5 } });
    });
  });

  it('an unthrottled run: vectors/s scaled to the data, the bound its own line or named', async () => {
    await open('unthrottled', 1100, async (page) => {
      const chart = await drawn(page);
      // The line rises through most of its panel, not a flat line under a far bound.
      expect((chart.panel.y + chart.panel.height - chart.vectorsTop) / chart.panel.height).toBeGreaterThan(
        0.5,
      );
      expect(chart.bars).toEqual([]);
      await expect(page.locator('[data-series="decreases"] path').count()).resolves.toBe(0);
      const summary = (await page.locator('#summary').textContent()) ?? '';
      expect(summary).toMatch(/Lower bound.*latency at the ceiling/);
      expect(summary).toMatch(/Wall time ÷ lower bound\s*\d+\.\d\d×/);
    });
  });

  it('a short run: a throttle is a narrow bar, not a block filling the panel', async () => {
    await open('short', 1100, async (page) => {
      const chart = await drawn(page);
      expect(chart.bars.length).toBeGreaterThan(0);
      for (const bar of chart.bars) {
        expect(bar.width).toBeLessThan(chart.plot.width * 0.15);
        // The scale holds at least four throttles per bin.
        expect(bar.height / chart.panel.height).toBeLessThanOrEqual(Math.max(bar.count, 4) / 4 + 1e-9);
        if (bar.count === 1) expect(bar.height / chart.panel.height).toBeLessThanOrEqual(0.25 + 1e-9);
      }
    });
  });

  it('420 px wide: the chart text stays legible and the panel titles do not collide', async () => {
    await open('throttled', 420, async (page) => {
      const sizes = await page.evaluate(() =>
        [...document.querySelectorAll('#timeline text')]
          .filter((t) => getComputedStyle(t).display !== 'none')
          .map((t) => t.getBoundingClientRect().height),
      );
      expect(Math.min(...sizes)).toBeGreaterThanOrEqual(8);
      const titles = await page.evaluate(() =>
        [...document.querySelectorAll('#timeline text[font-weight="600"]')]
          .filter((t) => getComputedStyle(t).display !== 'none')
          .map((t) => {
            const r = t.getBoundingClientRect();
            return { left: r.left, right: r.right, top: r.top, bottom: r.bottom };
          }),
      );
      for (const [i, a] of titles.entries()) {
        for (const b of titles.slice(i + 1)) {
          const overlap = a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
          expect(overlap).toBe(false);
        }
      }
    });
  });
});
