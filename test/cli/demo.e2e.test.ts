/**
 * The demo end to end at a small size: the built CLI in a child process, its summary and
 * its report file (report.browser.test.ts opens reports in a real browser).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliRun, runCli } from './run-cli.js';

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
