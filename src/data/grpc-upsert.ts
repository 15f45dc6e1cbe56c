/**
 * The bytes of an `UpsertRequest` for the gRPC wire, written into one buffer measured
 * up front (a released one reused when it is big enough). Only the parts that carry the bulk are written here: the frame of
 * each record, its id, and its dense values as packed floats, converted to float32 by one
 * native `Float32Array.set` and copied in as they are. The rest of a record (metadata and
 * sparse values, fields 3 and 4) is protobuf-es's own encoding of those fields.
 *
 * Why not `toBinary` of the whole message: protobuf-es writes a packed float a value at a
 * time through its general writer, growing its buffer by doubling; measured on 1536-dim
 * records that was most of the gRPC client's CPU (about 55 µs a record, plus the garbage
 * of the regrown buffers). The bytes here are exactly `toBinary(UpsertRequestSchema, …)`'s
 * (protobuf-es writes fields in field-number order, and so does this), which the tests
 * check byte for byte; field numbers come from the generated descriptors.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { ValidationError } from '../errors.js';
import { UpsertRequestSchema, VectorSchema } from '../gen/db_data_pb.js';
import { toPbSparse } from './grpc-convert.js';
import type { Vector } from './types.js';

/** Wire type of length-delimited fields (strings, messages, packed repeated scalars). */
const LENGTH_DELIMITED = 2;
const tag = (field: number) => (field << 3) | LENGTH_DELIMITED;
const TAG_VECTORS = tag(UpsertRequestSchema.field.vectors!.number);
const TAG_NAMESPACE = tag(UpsertRequestSchema.field.namespace!.number);
const TAG_ID = tag(VectorSchema.field.id!.number);
const TAG_VALUES = tag(VectorSchema.field.values!.number);

/** Whether this machine stores a float32 as protobuf does (little-endian), so its bytes copy as they are. */
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
const NO_BYTES = new Uint8Array(0);

/** Bytes of a varint. */
function varintSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

function writeVarint(buf: Uint8Array, pos: number, n: number): number {
  while (n > 0x7f) {
    buf[pos++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  buf[pos++] = n;
  return pos;
}

/** One record's parts, measured before anything is written. */
interface Part {
  id: string;
  idBytes: number;
  values: ArrayLike<number>;
  /** Fields 3 and 4 (metadata, sparse values) as protobuf-es encodes them. */
  rest: Uint8Array;
  /** The Vector message's length. */
  length: number;
}

/** Released request buffers kept for reuse, at most (a wire lives as long as its client). */
const MAX_FREE_BUFFERS = 4;

/**
 * Encodes `UpsertRequest`s; one per wire. Request buffers are reused once released (each
 * new buffer counts as external memory to V8, and their churn cost garbage collection),
 * and so is the float32 scratch space.
 */
export class UpsertRequestEncoder {
  #scratch = new Float32Array(0);
  readonly #free: Buffer[] = [];

  /**
   * The request's bytes. A dense value too large for a float32 (a finite double beyond
   * ±3.4e38) is a {@link ValidationError}: it cannot be sent as a float.
   */
  encode(vectors: readonly Vector[], namespace: string | undefined): Uint8Array {
    const parts: Part[] = new Array(vectors.length);
    let total = 0;
    for (let i = 0; i < vectors.length; i++) {
      const v = vectors[i]!;
      const values: ArrayLike<number> = v.values ?? [];
      const rest =
        v.metadata == null && v.sparseValues == null
          ? NO_BYTES
          : toBinary(
              VectorSchema,
              create(VectorSchema, {
                metadata: v.metadata ?? undefined,
                sparseValues: v.sparseValues ? toPbSparse(v.sparseValues) : undefined,
              }),
            );
      const idBytes = Buffer.byteLength(v.id, 'utf8');
      const valueBytes = 4 * values.length;
      const length =
        (idBytes > 0 ? 1 + varintSize(idBytes) + idBytes : 0) +
        (valueBytes > 0 ? 1 + varintSize(valueBytes) + valueBytes : 0) +
        rest.length;
      parts[i] = { id: v.id, idBytes, values, rest, length };
      total += 1 + varintSize(length) + length;
    }
    const nsBytes = namespace ? Buffer.byteLength(namespace, 'utf8') : 0;
    if (nsBytes > 0) total += 1 + varintSize(nsBytes) + nsBytes;

    const buf = this.#take(total);
    let pos = 0;
    for (const part of parts) {
      buf[pos++] = TAG_VECTORS;
      pos = writeVarint(buf, pos, part.length);
      if (part.idBytes > 0) {
        buf[pos++] = TAG_ID;
        pos = writeVarint(buf, pos, part.idBytes);
        pos += buf.write(part.id, pos, 'utf8');
      }
      const n = part.values.length;
      if (n > 0) {
        buf[pos++] = TAG_VALUES;
        pos = writeVarint(buf, pos, 4 * n);
        this.#writeFloats(buf, pos, part.values, part.id);
        pos += 4 * n;
      }
      buf.set(part.rest, pos);
      pos += part.rest.length;
    }
    if (nsBytes > 0) {
      buf[pos++] = TAG_NAMESPACE;
      pos = writeVarint(buf, pos, nsBytes);
      buf.write(namespace!, pos, 'utf8');
    }
    return buf;
  }

  /**
   * A request from {@link encode} is done with (no attempt will send it again): its
   * buffer may be reused.
   */
  release(request: Uint8Array): void {
    if (this.#free.length < MAX_FREE_BUFFERS && request.byteOffset === 0) {
      this.#free.push(Buffer.from(request.buffer, 0, request.buffer.byteLength));
    }
  }

  /** `bytes` bytes to write a request into: a released buffer that is big enough, or a new one. */
  #take(bytes: number): Buffer {
    const i = this.#free.findIndex((b) => b.length >= bytes);
    // Some room to spare, so the next request (a little longer, maybe) fits too.
    const buf = i >= 0 ? this.#free.splice(i, 1)[0]! : Buffer.allocUnsafeSlow(Math.ceil(bytes * 1.25));
    return buf.subarray(0, bytes);
  }

  /** `values` as little-endian float32 at `pos`. */
  #writeFloats(buf: Buffer, pos: number, values: ArrayLike<number>, id: string): void {
    const n = values.length;
    let floats: Float32Array;
    if (values instanceof Float32Array) {
      floats = values;
    } else {
      if (this.#scratch.length < n) this.#scratch = new Float32Array(Math.max(n, 2 * this.#scratch.length));
      floats = this.#scratch.subarray(0, n);
      floats.set(values);
      for (let i = 0; i < n; i++) {
        // Validated values are finite: an infinity here is a double past float32's range.
        if (floats[i] === Number.POSITIVE_INFINITY || floats[i] === Number.NEGATIVE_INFINITY) {
          throw new ValidationError(
            `record ${JSON.stringify(id)}: values[${i}] is too large for a float32 (the gRPC wire carries floats); got ${values[i]}`,
            `values[${i}]`,
          );
        }
      }
    }
    if (LITTLE_ENDIAN) {
      buf.set(new Uint8Array(floats.buffer, floats.byteOffset, 4 * n), pos);
    } else {
      const view = new DataView(buf.buffer, buf.byteOffset + pos, 4 * n);
      for (let i = 0; i < n; i++) view.setFloat32(4 * i, floats[i]!, true);
    }
  }
}
