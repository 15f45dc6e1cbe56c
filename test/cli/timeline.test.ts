import { describe, expect, it } from 'vitest';
import { TimelineRecorder, windowedRate } from '../../src/cli/timeline.js';
import {
  ADAPTIVE_LOGGER,
  aimdDecreasedMessage,
  aimdIncreasedMessage,
  throttledMessage,
} from '../../src/log.js';

describe('TimelineRecorder', () => {
  it("turns the SDK's limiter records into transitions and passes every record on", () => {
    let now = 0;
    const recorder = new TimelineRecorder(() => now);
    const seen: string[] = [];
    const noop = () => {};
    const logger = recorder.logger({ debug: (m) => seen.push(m), info: noop, warn: noop });
    recorder.start(60_000);
    recorder.observe({ upserted: 0, inFlight: 8, limit: 8, throttled: 0 });
    now = 500;
    logger.debug(aimdDecreasedMessage(8, 4, 8), { logger: ADAPTIVE_LOGGER, event: 'x' });
    logger.debug(throttledMessage(429, 'h', 1, 4, 0.5), {
      logger: 'pinecone._internal.http_client',
      event: 'y',
    });
    now = 1500;
    logger.debug(aimdIncreasedMessage(5, 8), { logger: ADAPTIVE_LOGGER, event: 'x' });
    recorder.stop();
    expect(recorder.decreases).toBe(1);
    expect(recorder.increases).toBe(1);
    expect(recorder.throttleRecords).toBe(1);
    expect(seen).toHaveLength(3);
    const timeline = recorder.timeline();
    expect(timeline.changes).toEqual([
      { t: 0.5, kind: 'decrease', from: 8, to: 4, ceiling: 8 },
      { t: 1.5, kind: 'increase', from: 4, to: 5, ceiling: 8 },
    ]);
    expect(timeline.duration).toBe(1.5);
    expect(timeline.samples.map((s) => s.t)).toEqual([0, 1.5]);
  });
});

describe('TimelineRecorder throttle times', () => {
  it('takes each throttle at its retry record (not a later progress report); other retries are not throttles', () => {
    let now = 0;
    const recorder = new TimelineRecorder(() => now);
    const logger = recorder.logger();
    const retry = (status: number | string) =>
      logger.debug(throttledMessage(status, 'h', 1, 4, 0.5), {
        logger: 'pinecone._internal.http_client',
        event: 'y',
      });
    recorder.start(60_000);
    now = 300;
    retry(429);
    now = 400;
    retry('RESOURCE_EXHAUSTED');
    retry(500);
    retry('ECONNRESET');
    now = 900; // the bulk engine reports both only when a batch settles
    recorder.observe({ upserted: 10, inFlight: 1, limit: 1, throttled: 2 });
    recorder.stop();
    expect(recorder.timeline().throttles).toEqual([0.3, 0.4]);
  });

  it('falls back to the progress reports when a throttle was never retried (so never logged)', () => {
    let now = 0;
    const recorder = new TimelineRecorder(() => now);
    recorder.start(60_000);
    now = 700;
    recorder.observe({ upserted: 0, inFlight: 0, limit: 1, throttled: 1 });
    recorder.stop();
    expect(recorder.timeline().throttles).toEqual([0.7]);
  });
});

describe('windowedRate', () => {
  it('divides the increase over the last window by its length', () => {
    const samples = [0, 0.5, 1, 1.5, 2].map((t, i) => ({
      t,
      upserted: i * 100,
      inFlight: 0,
      limit: 1,
      throttled: 0,
    }));
    expect(windowedRate(samples, (s) => s.upserted, 1).map((p) => p.value)).toEqual([0, 200, 200, 200, 200]);
  });
});
