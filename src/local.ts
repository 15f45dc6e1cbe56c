/**
 * `pinecone-resilient/local`: an in-memory, Pinecone-compatible server for development
 * and tests, with fault injection (rate limits, in-flight caps, server errors, latency,
 * resets, truncated and malformed bodies), all seeded for replay.
 *
 * ```ts
 * import { startLocalServer } from 'pinecone-resilient/local';
 * const server = await startLocalServer({ indexes: [{ name: 'demo', dimension: 8, metric: 'cosine' }] });
 * await server.setFaults('demo', { rateLimit: { rps: 50 } });
 * ```
 * @packageDocumentation
 */

export type { LocalIndexDefinition } from './local/emulator.js';
export type {
  ErrorRates,
  FaultConfig,
  FaultDecision,
  InjectedStatus,
  LatencyConfig,
  RateLimitConfig,
} from './local/faults.js';
export { defaultBurst, validateFaultConfig } from './local/faults.js';
export { DEFAULT_LIMITS, type ServerLimits } from './local/http-limits.js';
export type { VectorType } from './local/index-store.js';
export { DATA_OPERATIONS, type DataOperation } from './local/operation-names.js';
export { type LocalServer, type LocalServerOptions, startLocalServer } from './local/server.js';
export type { IndexStatsSnapshot, Outcome, RequestTotals, TimelinePoint } from './local/stats.js';
