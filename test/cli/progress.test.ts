import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ProgressView } from '../../src/cli/progress.js';

function sink(): Writable & { text: string; isTTY: boolean } {
  const stream = new Writable({
    write(chunk, _enc, cb) {
      stream.text += String(chunk);
      cb();
    },
  }) as Writable & { text: string; isTTY: boolean };
  stream.text = '';
  stream.isTTY = false;
  return stream;
}

describe('ProgressView without a terminal', () => {
  it('prints plain lines with done, rate, limit, in flight, throttles; a last line on stop', () => {
    let now = 1000;
    const stream = sink();
    const view = new ProgressView({ total: 20_000, stream, now: () => now, intervalMs: 60_000 });
    view.start();
    now += 1000;
    view.update({ upserted: 2500, inFlight: 3, limit: 4, throttled: 7 });
    now += 1000;
    view.update({ upserted: 5000, inFlight: 4, limit: 4, throttled: 12 });
    expect(view.line()).toBe(
      '[upsert] 5,000/20,000 (25%) vectors · 2,500 vec/s · limit 4 · in flight 4 · throttled 12 · 2.0 s',
    );
    view.stop();
    expect(stream.text).toBe(`${view.line()}\n`);
    expect(stream.text).not.toContain('\u001b['); // no terminal escapes in logs
  });

  it('measures the rate over the last two seconds, not since the start', () => {
    let now = 0;
    const view = new ProgressView({ stream: sink(), now: () => now });
    view.start();
    for (let s = 1; s <= 10; s++) {
      now = s * 1000;
      view.update({ upserted: s <= 5 ? s * 100 : 500 + (s - 5) * 1000, inFlight: 1, limit: 1, throttled: 0 });
    }
    expect(view.rate()).toBeCloseTo(1000, 5);
    view.stop();
  });

  it('works without a known total', () => {
    const now = 0;
    const view = new ProgressView({ stream: sink(), now: () => now, label: 'load' });
    view.update({ upserted: 42, inFlight: 0, limit: 8, throttled: 0 });
    expect(view.line()).toMatch(/^\[load\] 42 vectors · /);
    view.setTotal(100);
    expect(view.line()).toMatch(/^\[load\] 42\/100 \(42%\) vectors/);
  });
});
