/**
 * pinecone-resilient: the REST client, its configuration, errors and types.
 * The gRPC index lives in `pinecone-resilient/grpc`, the emulator in `pinecone-resilient/local`.
 * @packageDocumentation
 */
export { type IndexOptions, Pinecone, type PineconeOptions, toIndexModel } from './client.js';
export { DEFAULT_RETRYABLE_STATUS_CODES, RetryConfig, type RetryConfigOptions } from './config.js';
export type {
  CongestionReport,
  CongestionVerdict,
  Coordinator,
  CoordinatorContext,
  FleetState,
  RateReport,
  ReleaseReport,
  SendCounts,
  SlotGrant,
} from './coordination/coordinator.js';
export {
  type CoordinationStats,
  DEFAULT_KEY_PREFIX,
  RedisCoordinator,
  type RedisCoordinatorOptions,
  redisCoordinator,
} from './coordination/redis-coordinator.js';
export type { CommandSender, ScriptClient } from './coordination/script-client.js';
export type {
  ConfigureIndexOptions,
  CreateIndexOptions,
  IndexModel,
  PodSpec,
  ServerlessSpec,
} from './data/control-types.js';
export type { IndexDataPlane } from './data/data-plane.js';
export { Index } from './data/index.js';
export type * from './data/options.js';
export * from './data/types.js';
export * from './errors.js';
export {
  ADAPTIVE_LOGGER,
  HTTP_CLIENT_LOGGER,
  type LogFields,
  type Logger,
  RETRIES_DOCS_URL,
  stderrLogger,
} from './log.js';
export { decorrelatedJitter, parseRetryAfter } from './resilience/backoff.js';
export {
  type Clock,
  ManualClock,
  type RandomSource,
  seededRandom,
  systemClock,
} from './resilience/clock.js';
export type { AttemptOutcome, HostLimiter, LimiterRegistry, Permit } from './resilience/limiter.js';
export { API_VERSION, VERSION } from './version.js';
