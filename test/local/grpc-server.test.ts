/**
 * The emulator's gRPC data plane: every method over gRPC (GrpcIndex) gives what the REST
 * data plane (plain fetch) gives for the same data, both planes share one store, and
 * each fault comes out as its gRPC code.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConnectionError,
  RateLimitError,
  ServerError,
  ServiceUnavailableError,
  UnauthorizedError,
} from '../../src/errors.js';
import { FetchRequestSchema, FetchResponseSchema, FetchByMetadataPlaceholder } from './grpc-server-schemas.js';
import { GrpcIndex } from '../../src/grpc.js';
import { type LocalServer, startLocalServer } from '../../src/local.js';
import { seededRandom } from '../../src/resilience/clock.js';
import { GrpcTransport } from '../../src/transport/grpc.js';
import { InstantClock } from '../helpers/clocks.js';
import { call } from './http-helpers.js';
