/**
 * pinecone-resilient/grpc: the gRPC index. This entry point loads @grpc/grpc-js (the root
 * entry point never does; its `pc.index({ grpc: true })` handles load it on first call).
 *
 * @example
 * ```ts
 * import { GrpcIndex } from 'pinecone-resilient/grpc';
 * const index = new GrpcIndex({ host: 'product-search-abc123.svc.pinecone.io', apiKey, maxRetries: 7 });
 * ```
 * @packageDocumentation
 */

export type { IndexDataPlane } from './data/data-plane.js';
export { GrpcIndex, type GrpcIndexOptions } from './data/grpc-index.js';
export type * from './data/options.js';
export {
  classifyGrpcFailure,
  DEFAULT_RETRYABLE_GRPC_CODES,
  GRPC_BACKOFF_FACTOR,
  GRPC_DEFAULT_MAX_RETRIES,
  GRPC_MAX_WAIT,
  GrpcTransport,
  RETRYABLE_GRPC_CODES,
} from './transport/grpc.js';
