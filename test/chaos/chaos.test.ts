/**
 * The chaos suite at CI size (issue 12 §4): 30 % faults of every kind (429 and 5xx with
 * and without Retry-After, resets before and after the write, hangs, truncated and
 * malformed bodies, slow bodies) over REST and over gRPC, against the real emulator on
 * loopback. A load completes with stored == reported == intended, or throws with
 * accounting that matches the emulator exactly, and upserting `failedVectors` then
 * completes it; afterwards nothing keeps the event loop alive, nothing was left
 * unhandled, and the bulk engine held at most `2 × maxConcurrency + 1` batches.
 *
 * Backoff and the limiter run on an instant clock (seeded jitter), so the time here is
 * the per-attempt timeouts of hangs (1 s each) and slow bodies (0.5 s). Size:
 * `CHAOS_VECTORS` (default 5,000) per transport, seed `CHAOS_SEED` (default 12);
 * `npx tsx bench/chaos.ts` runs 100 k in real time.
 */
import { describe, expect, it } from 'vitest';
import { InstantClock } from '../helpers/clocks.js';
import { CHAOS_FAULTS, type ChaosOptions, type ChaosReport, runChaos } from './chaos-run.js';

const VECTORS = Number(process.env.CHAOS_VECTORS ?? 5000);
const SEED = Number(process.env.CHAOS_SEED ?? 12);

function chaos(options: Partial<ChaosOptions> & Pick<ChaosOptions, 'transport'>): Promise<ChaosReport> {
  return runChaos({ vectors: VECTORS, seed: SEED, clock: new InstantClock(), ...options });
}

/** Every fault kind of {@link CHAOS_FAULTS} happened (slow bodies are recorded as their 200). */
function expectEveryFaultKind(report: ChaosReport): void {
  for (const outcome of ['429', '500', '502', '503', '504', 'reset', 'reset-after-write', 'hang']) {
    expect(report.outcomes[outcome], outcome).toBeGreaterThan(0);
  }
  expect((report.outcomes.truncated ?? 0) + (report.outcomes.malformed ?? 0)).toBeGreaterThan(0);
}

describe.each(['rest', 'grpc'] as const)(
  'a bulk load under 30 %% faults of every kind, over %s',
  (transport) => {
    it('stores every vector: stored == reported == intended, nothing leaked', {
      timeout: 60_000,
    }, async () => {
      const report = await chaos({ transport });
      expect(report.violations).toEqual([]);
      expect(report.complete).toBe(true);
      const first = report.calls[0]!;
      // With 11 attempts per batch a throw is a two-in-a-million event; if it happens the
      // resumed calls must have completed the load exactly (checked above).
      if (first.error === undefined) {
        expect(first).toMatchObject({ intended: VECTORS, reported: VECTORS, stored: VECTORS, failed: 0 });
      }
      expectEveryFaultKind(report);
      expect(report.retries.count).toBeGreaterThan(0);
      expect(report.leaks).toEqual([]);
      expect(report.unhandled).toEqual([]);
      expect(report.batchesHeld.max).toBeGreaterThan(0);
      expect(report.batchesHeld.max).toBeLessThanOrEqual(report.batchesHeld.bound);
    });

    it('without retries, throws with accounting that matches the emulator, and failedVectors complete the load', {
      timeout: 60_000,
    }, async () => {
      const report = await chaos({ transport, vectors: 2000, maxRetries: 0 });
      expect(report.violations).toEqual([]);
      const [first, resumed] = report.calls;
      expect(first!.error).toBeDefined();
      expect(first!.failed).toBeGreaterThan(0);
      expect(first!.reported + first!.failed).toBe(2000);
      expect(resumed).toMatchObject({ intended: first!.failed, failed: 0, reported: first!.failed });
      expect(report.complete).toBe(true);
    });

    it('a batch stored and reported failed (its answer lost) is failed whole, and resending it is harmless', {
      timeout: 60_000,
    }, async () => {
      // Every fault here runs the write and loses the answer: a reset after the write, or a
      // body slower than the 1 s timeout.
      const report = await chaos({
        transport,
        vectors: 2000,
        maxRetries: 0,
        faults: { resetAfterWriteRate: 0.25, slowBodyRate: 0.05, slowBodyMs: 1500 },
      });
      expect(report.violations).toEqual([]);
      const first = report.calls[0]!;
      expect(first.error).toBeDefined();
      expect(first.storedOfFailed).toBeGreaterThan(0);
      expect(first.stored).toBe(first.reported + first.storedOfFailed);
      expect(report.complete).toBe(true);
    });
  },
);

it('the chaos mix is 30 % of requests, every kind present', () => {
  const { errorRates, errorRetryAfter } = CHAOS_FAULTS;
  const f = CHAOS_FAULTS;
  const rates = [
    f.resetRate,
    f.resetAfterWriteRate,
    f.hangRate,
    f.truncateRate,
    f.malformedRate,
    f.slowBodyRate,
  ];
  const total = [...Object.values(errorRates ?? {}), ...rates].reduce((a: number, b) => a + (b ?? 0), 0);
  expect(total).toBeCloseTo(0.3, 10);
  expect(Object.keys(errorRates ?? {}).sort()).toEqual(['429', '500', '502', '503', '504']);
  expect(errorRetryAfter?.share).toBe(0.5);
});
