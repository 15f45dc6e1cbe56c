/**
 * pinecone-resilient/grpc: the gRPC index. Only this entry point loads @grpc/grpc-js.
 *
 * @example
 * ```ts
 * import { GrpcIndex } from 'pinecone-resilient/grpc';
 * const index = new GrpcIndex({ host: 'product-search-abc123.svc.pinecone.io', apiKey, maxRetries: 7 });
 * ```
 * @packageDocumentation
 */

export {
  GRPC_BACKOFF_FACTOR,
  GRPC_MAX_WAIT,
  GrpcIndex,
  type GrpcIndexOptions,
} from './data/grpc-index.js';
export { GRPC_DEFAULT_MAX_RETRIES } from './data/grpc-lazy.js';
export type {
  CallOptions,
  DeleteOptions,
  DescribeIndexStatsOptions,
  FetchOptions,
  ListOptions,
  QueryOptions,
  UpdateOptions,
  UpsertOptions,
  UpsertProgress,
} from './data/index.js';
export { classifyGrpcFailure, RETRYABLE_GRPC_CODES } from './transport/grpc.js';
