/**
 * The well-formed gRPC answer of each call in `ops.ts` that goes over gRPC (imports and
 * integrated records go over REST even on a `GrpcIndex`, and are fuzzed there): a
 * generated response message, encoded with the generated schemas.
 */
import { create, type DescMessage, type MessageInitShape, toBinary } from '@bufbuild/protobuf';
import fc from 'fast-check';
import {
  DeleteResponseSchema,
  DescribeIndexStatsResponseSchema,
  FetchByMetadataResponseSchema,
  FetchResponseSchema,
  ListNamespacesResponseSchema,
  ListResponseSchema,
  NamespaceDescriptionSchema,
  QueryResponseSchema,
  UpdateResponseSchema,
  UpsertResponseSchema,
} from '../../src/gen/db_data_pb.js';

function encoded<S extends DescMessage>(
  schema: S,
  init: fc.Arbitrary<MessageInitShape<S>>,
): fc.Arbitrary<Buffer> {
  return init.map((i) => Buffer.from(toBinary(schema, create(schema, i))));
}

const id = fc.string({ minLength: 1, maxLength: 12 });
const floats = fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { maxLength: 4 });
const usage = fc.option(fc.record({ readUnits: fc.nat(100) }), { nil: undefined });
const pagination = fc.option(fc.record({ next: id }), { nil: undefined });
const metadata = fc.option(
  fc.dictionary(
    fc.string({ maxLength: 6 }),
    fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.boolean()),
    {
      maxKeys: 3,
    },
  ),
  { nil: undefined },
);
const vectors = fc
  .array(fc.record({ id, values: floats, metadata }), { maxLength: 4 })
  .map((vs) => Object.fromEntries(vs.map((v) => [v.id, v])));
const namespace = fc.record({ name: id, recordCount: fc.bigInt({ min: 0n, max: 1n << 40n }) });

/** Encoded well-formed answers by op name. */
export const GRPC_BODIES: Readonly<Record<string, fc.Arbitrary<Buffer>>> = {
  query: encoded(
    QueryResponseSchema,
    fc.record({
      matches: fc.array(
        fc.record({
          id,
          score: fc.float({ noNaN: true, noDefaultInfinity: true }),
          values: floats,
          metadata,
        }),
        { maxLength: 4 },
      ),
      namespace: id,
      usage,
    }),
  ),
  fetch: encoded(FetchResponseSchema, fc.record({ vectors, namespace: id, usage })),
  fetchByMetadata: encoded(
    FetchByMetadataResponseSchema,
    fc.record({ vectors, namespace: id, usage, pagination }),
  ),
  describeIndexStats: encoded(
    DescribeIndexStatsResponseSchema,
    fc.record({
      namespaces: fc.dictionary(id, fc.record({ vectorCount: fc.nat() }), { maxKeys: 3 }),
      dimension: fc.integer({ min: 1, max: 2048 }),
      indexFullness: fc.float({ min: 0, max: 1, noNaN: true }),
      totalVectorCount: fc.nat(),
    }),
  ),
  listPaginated: encoded(
    ListResponseSchema,
    fc.record({ vectors: fc.array(fc.record({ id }), { maxLength: 4 }), namespace: id, pagination, usage }),
  ),
  upsert: encoded(UpsertResponseSchema, fc.constant({ upsertedCount: 2 })),
  update: encoded(
    UpdateResponseSchema,
    fc.record({ matchedRecords: fc.option(fc.nat(), { nil: undefined }) }),
  ),
  deleteMany: encoded(DeleteResponseSchema, fc.constant({})),
  listNamespaces: encoded(
    ListNamespacesResponseSchema,
    fc.record({ namespaces: fc.array(namespace, { maxLength: 3 }), pagination, totalCount: fc.nat() }),
  ),
  describeNamespace: encoded(NamespaceDescriptionSchema, namespace),
};
