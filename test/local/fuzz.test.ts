/**
 * The fuzz suite (issue 15): seeded, generated malformed and hostile requests at every
 * REST route of an index host, the control plane and `/admin`, and every gRPC method.
 * Each must be answered within a bound, never with a 5xx (gRPC: never INTERNAL, UNKNOWN
 * or UNAVAILABLE), a 4xx in Pinecone's error shape, and a well-formed request must still
 * succeed after it. Small here (`FUZZ_RUNS` cases per plane, default 150, seed
 * `FUZZ_SEED`, default 15); `npx tsx bench/emulator-fuzz.ts` runs thousands.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalServer } from '../../src/local.js';
import { fuzzController, fuzzDataPlane, fuzzGrpc, startFuzzTarget } from './fuzz-run.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 150);
const SEED = Number(process.env.FUZZ_SEED ?? 15);

let server: LocalServer;
beforeAll(async () => {
  server = await startFuzzTarget();
});
afterAll(async () => {
  await server.close();
});

describe('fuzzing the emulator', () => {
  it('answers malformed requests to an index host in Pinecone’s shape, and keeps serving', {
    timeout: 120_000,
  }, async () => {
    const report = await fuzzDataPlane(server, { numRuns: RUNS, seed: SEED });
    expect(report.cases).toBe(RUNS);
    expect(report.answers['4xx']).toBeGreaterThan(RUNS / 2);
  });

  it('answers malformed control-plane and admin requests in Pinecone’s shape, and keeps serving', {
    timeout: 120_000,
  }, async () => {
    const report = await fuzzController(server, { numRuns: RUNS, seed: SEED });
    expect(report.cases).toBe(RUNS);
    expect(report.answers['4xx']).toBeGreaterThan(RUNS / 2);
  });

  it('answers malformed gRPC calls with a proper status, and keeps serving', {
    timeout: 120_000,
  }, async () => {
    const report = await fuzzGrpc(server, { numRuns: RUNS, seed: SEED });
    expect(report.cases).toBe(RUNS);
    expect(report.answers.INVALID_ARGUMENT).toBeGreaterThan(0);
  });
});
