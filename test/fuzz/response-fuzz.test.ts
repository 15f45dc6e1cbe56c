/**
 * Response fuzzing (issue 12 §5): seeded, generated server responses (statuses of every
 * class, hostile headers and Retry-After / pushback values such as `-1`, `1e309`, past
 * dates and garbage, bodies that are empty, not UTF-8, not JSON or of the wrong shape,
 * broken framings, resets and stalls) answer the SDK's real REST and gRPC clients over
 * loopback. Each call must end in a typed `PineconeError` or a valid result, in the time
 * its timeouts allow, retried exactly when the reply was retryable, with retry delays
 * within `maxWait` and the API key never shown; nothing may be left unhandled.
 *
 * Small here (`RESPONSE_FUZZ_RUNS` cases per transport, default 300, seed
 * `RESPONSE_FUZZ_SEED`, default 12); `npx tsx bench/response-fuzz.ts` runs 10 k and more.
 */
import { describe, expect, it } from 'vitest';
import { fuzzGrpcResponses } from './grpc-fuzz-run.js';
import { fuzzRestResponses } from './rest-fuzz-run.js';

const RUNS = Number(process.env.RESPONSE_FUZZ_RUNS ?? 300);
const SEED = Number(process.env.RESPONSE_FUZZ_SEED ?? 12);

describe('fuzzing the SDK with generated server responses', () => {
  it('over REST: every call ends in a typed error or a valid result', { timeout: 120_000 }, async () => {
    const report = await fuzzRestResponses({ numRuns: RUNS, seed: SEED });
    expect(report.cases).toBeGreaterThanOrEqual(RUNS);
    expect(report.unhandled).toEqual([]);
    // The generators reach both ends: valid results, and typed errors of several kinds.
    expect(report.outcomes.result).toBeGreaterThan(0);
    expect(report.outcomes['ConnectionError BAD_BODY']).toBeGreaterThan(0);
    expect(Object.keys(report.outcomes).filter((k) => k.startsWith('RateLimitError'))).not.toEqual([]);
  });

  it('over gRPC: every call ends in a typed error or a valid result', { timeout: 120_000 }, async () => {
    const report = await fuzzGrpcResponses({ numRuns: RUNS, seed: SEED });
    expect(report.cases).toBeGreaterThanOrEqual(RUNS);
    expect(report.unhandled).toEqual([]);
    expect(report.outcomes.result).toBeGreaterThan(0);
    expect(report.outcomes['ConnectionError BAD_BODY']).toBeGreaterThan(0);
    expect(report.outcomes['RateLimitError RESOURCE_EXHAUSTED']).toBeGreaterThan(0);
  });
});
