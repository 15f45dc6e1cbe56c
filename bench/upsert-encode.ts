/**
 * Encoding alone, no wire: the CPU per record of turning 1536-dim records into upsert
 * bytes, this SDK's encoders against the general-purpose ones they replaced, in one run
 * (rounds interleaved, medians). REST: `JSON.stringify` of each record then UTF-8 bytes
 * (the previous path; the official client's `JSON.stringify` of a whole body costs about
 * the same) vs `RecordEncoder`. gRPC: protobuf-es `toBinary` of the `UpsertRequest` vs
 * `UpsertRequestEncoder`. The same bytes come out of each pair (tested in test/data/).
 *
 *   npx tsx bench/upsert-encode.ts [--records 3000] [--rounds 7] [--values f32|f64]
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { RecordEncoder, vectorJson } from '../src/data/encode.js';
import { toPbVector } from '../src/data/grpc-convert.js';
import { UpsertRequestEncoder } from '../src/data/grpc-upsert.js';
import type { Vector } from '../src/data/types.js';
import { UpsertRequestSchema } from '../src/gen/db_data_pb.js';
import { arg } from './cli-table.js';

const DIM = 1536;
const BATCH = 100;
const records = Number(arg('records', '3000'));
const rounds = Number(arg('rounds', '7'));
const kind = arg('values', 'f32');
const value = kind === 'f64' ? () => Math.random() * 2 - 1 : () => Math.fround(Math.random() * 2 - 1);
const vectors: Vector[] = Array.from({ length: records }, (_, k) => ({
  id: `vec-${k}`,
  values: Array.from({ length: DIM }, value),
}));
const batches = Array.from({ length: Math.ceil(records / BATCH) }, (_, b) =>
  vectors.slice(b * BATCH, (b + 1) * BATCH),
);

const recordEncoder = new RecordEncoder();
const requestEncoder = new UpsertRequestEncoder();
const ways: Record<string, () => void> = {
  'REST  JSON.stringify + UTF-8': () => {
    for (const v of vectors) Buffer.from(vectorJson(v), 'utf8');
  },
  'REST  RecordEncoder': () => {
    for (const batch of batches) recordEncoder.release(batch.map((v) => recordEncoder.encode(v)));
  },
  'gRPC  protobuf-es toBinary': () => {
    for (const batch of batches) {
      toBinary(UpsertRequestSchema, create(UpsertRequestSchema, { vectors: batch.map(toPbVector) }));
    }
  },
  'gRPC  UpsertRequestEncoder': () => {
    for (const batch of batches) requestEncoder.release(requestEncoder.encode(batch, undefined));
  },
};

const cpuPerRecord = (fn: () => void) => {
  const start = process.cpuUsage();
  fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / records;
};
for (const fn of Object.values(ways)) fn(); // warm-up
const samples = new Map(Object.keys(ways).map((k) => [k, [] as number[]]));
for (let r = 0; r < rounds; r++)
  for (const [name, fn] of Object.entries(ways)) samples.get(name)!.push(cpuPerRecord(fn));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

console.log(
  `encode ${records} records, dim ${DIM}, values ${kind}, median of ${rounds}, node ${process.version}`,
);
const names = [...samples.keys()];
for (let i = 0; i < names.length; i += 2) {
  const [before, after] = [median(samples.get(names[i]!)!), median(samples.get(names[i + 1]!)!)];
  console.log(`${names[i]!.padEnd(30)} ${before.toFixed(1).padStart(7)} us/record`);
  console.log(
    `${names[i + 1]!.padEnd(30)} ${after.toFixed(1).padStart(7)} us/record  (${(after / before).toFixed(2)}x)`,
  );
}
