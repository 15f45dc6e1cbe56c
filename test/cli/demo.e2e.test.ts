/**
 * The demo end to end at a small size, and its report in a real browser: headless
 * Chromium (Debian's `chromium` package; `.ci/run` installs it) driven by playwright-core.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliRun, runCli } from './run-cli.js';

const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find(
  (p): p is string => typeof p === 'string' && p !== '' && existsSync(p),
);

let dir: string;
let demo: CliRun;
let report: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-demo-'));
  report = join(dir, 'run.html');
  // Small but throttled: 100 requests against 60 req/s, so the limiter has work to do.
  demo = await runCli(
    [
      'demo',
      '--vectors',
      '2000',
      '--dimension',
      '32',
      '--batch-size',
      '20',
      '--rps',
      '60',
      '--latency-ms',
      '20',
      '--report',
      report,
      '--progress-interval',
      '250',
    ],
    { timeoutMs: 60_000 },
  );
}, 90_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('demo', () => {
  it('loads, verifies and summarises the run, and writes the report', async () => {
    expect(demo.stderr).not.toMatch(/error/i);
    expect(demo.code).toBe(0);
    expect(demo.stdout).toMatch(/Local emulator on http:\/\/127\.0\.0\.1:\d+/);
    for (const label of [
      'Wall time (upsert)',
      'Throughput',
      'Requests rejected',
      'Limiter transitions',
      'Wall time ÷ lower bound',
    ]) {
      expect(demo.stdout).toContain(label);
    }
    expect(demo.stdout).toMatch(/Stored \(describeIndexStats\)\s+2,000 of 2,000/);
    expect(demo.stdout).toMatch(/Queries\s+3\/3 records found themselves first/);
    expect(demo.stdout).toContain(`Report: ${report}`);
    // Without a terminal the progress display is plain lines, no escape codes.
    expect(demo.stderr).toMatch(/\[demo\] 2,000\/2,000 \(100%\) vectors/);
    expect(demo.stderr).not.toContain('\u001b[');
    const html = await readFile(report, 'utf8');
    expect(html).toContain('<svg id="timeline"');
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

  it('renders the chart with every series, the summary, the hover read-out; fetches nothing', async () => {
    expect(demo.code).toBe(0);
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const requests: string[] = [];
    const errors: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(`file://${report}`);
    expect(await page.title()).toMatch(/pinecone-resilient demo: 2,000 vectors/);

    const chart = page.locator('svg#timeline');
    await chart.waitFor({ state: 'visible' });
    const box = await chart.boundingBox();
    expect(box?.width).toBeGreaterThan(800);
    expect(box?.height).toBeGreaterThan(400);
    // Every series is drawn with real data.
    const segments = async (series: string) =>
      ((await page.locator(`[data-series="${series}"]`).getAttribute('d')) ?? '').split(/[MLHV]/).length - 1;
    expect(await segments('limit')).toBeGreaterThanOrEqual(2);
    expect(await segments('in-flight')).toBeGreaterThan(5);
    expect(await segments('vectors-per-second')).toBeGreaterThan(5);
    await expect(page.locator('[data-series="ceiling"]').count()).resolves.toBe(1);
    await expect(page.locator('[data-series="admitted"]').count()).resolves.toBe(1);
    await expect(page.locator('[data-series="throttled-per-second"]').count()).resolves.toBe(1);
    await expect(page.locator('#summary tr').count()).resolves.toBeGreaterThan(8);

    // Hovering the plot shows the values at that moment.
    await page.mouse.move((box?.x ?? 0) + (box?.width ?? 0) / 2, (box?.y ?? 0) + 150);
    const readout = page.locator('#readout');
    await readout.waitFor({ state: 'visible' });
    expect(await readout.textContent()).toMatch(
      /t = [\d.]+ s\nlimit \d+ · in flight \d+\n[\d,]+ vectors\/s\n[\d.]+ throttled\/s/,
    );

    const shot = join(dir, 'report.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect((await stat(shot)).size).toBeGreaterThan(20_000);
    expect(errors).toEqual([]);
    expect(requests.filter((u) => !u.startsWith('file://'))).toEqual([]);
    await page.close();
  });
});
