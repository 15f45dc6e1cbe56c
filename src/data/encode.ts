/**
 * JSON encoding of records for the REST wire. Each record is written once, straight into
 * bytes: no intermediate object or string for its values (the numbers are formatted into
 * the buffer by `json-number.ts`), and no copy afterwards. Its length is the exact
 * request-size figure batching needs, and the request body is the records' own bytes.
 *
 * The bytes are exactly `JSON.stringify` of the record `{ id, values, sparseValues,
 * metadata }` (absent fields omitted, a `Float32Array` as a plain array): {@link vectorJson},
 * which the tests compare against.
 *
 * Why slabs: records are written one after another into slabs (about 30 records of
 * dimension 1536 to a slab), each followed by a comma, so a batch of consecutive records
 * is one run of bytes and its body is three pieces, `{"vectors":[`, the run, and `]}`
 * (two runs when a batch crosses slabs). A slab goes back to the encoder's free list once
 * every batch holding its records is released, so a bulk load reuses a few megabytes
 * instead of allocating fresh buffers per batch: measured, each new buffer counts as
 * external memory to V8, and their churn cost more garbage collection than the copies
 * they replaced.
 */
import { MAX_NUMBER_BYTES, writeAscii, writeFloat32Array } from './json-number.js';
import type { Vector } from './types.js';

/** Size of the slabs records are written into (a record bigger than that gets a slab of its own). */
export const SLAB_BYTES = 1024 * 1024;
/** The first slab of an encoder: small calls stay small. */
const FIRST_SLAB_BYTES = 64 * 1024;

const OPEN = Buffer.from('{"vectors":[');
const COMMA = Buffer.from(',');
const COMMA_BYTE = 0x2c;

/** Dense values as JSON encodes them: a Float32Array becomes a plain array (JSON would make it an object). */
export function jsonValues(values: number[] | Float32Array): number[] {
  return values instanceof Float32Array ? Array.from(values) : values;
}

/** One record as JSON text (absent fields omitted): the wire's shape, also the CLI's resume-file line. */
export function vectorJson(v: Vector): string {
  return JSON.stringify({
    id: v.id,
    values: jsonValues(v.values),
    sparseValues: v.sparseValues ?? undefined,
    metadata: v.metadata ?? undefined,
  });
}

/** A slab and how many of the records written on it are not yet released. */
interface Slab {
  readonly buf: Buffer;
  readonly view: DataView;
  /** Records on it whose batch is not released yet (or that are not in a batch yet). */
  held: number;
}

/**
 * Writes records as UTF-8 JSON bytes ({@link vectorJson}'s exact bytes) into pooled
 * slabs; one per bulk call (it is not shared between calls running at once).
 */
export class RecordEncoder {
  #slab: Slab | undefined;
  #pos = 0;
  #nextSize = FIRST_SLAB_BYTES;
  /** Slabs by their memory, to find a record's slab again on release. */
  readonly #slabs = new Map<ArrayBufferLike, Slab>();
  readonly #free: Slab[] = [];

  /**
   * The record's JSON as bytes: a view of a slab, followed there by a comma. Valid until
   * it is {@link release}d (the slab may then be written over).
   */
  encode(v: Vector): Buffer {
    // The text parts, and an upper bound of the bytes the whole record can take.
    const id = JSON.stringify(v.id);
    const sparse = v.sparseValues == null ? undefined : JSON.stringify(v.sparseValues);
    const metadata = v.metadata == null ? undefined : JSON.stringify(v.metadata);
    const values = v.values;
    let bound = 64 + 3 * (id.length + (sparse?.length ?? 0) + (metadata?.length ?? 0));
    if (values !== undefined) bound += (MAX_NUMBER_BYTES + 1) * values.length;
    const slab = this.#reserve(bound);

    const buf = slab.buf;
    const start = this.#pos;
    let pos = writeAscii(buf, start, '{"id":');
    pos += buf.write(id, pos, 'utf8');
    if (values !== undefined) {
      pos = writeAscii(buf, pos, ',"values":');
      pos = writeFloat32Array(buf, slab.view, pos, values);
      // Doubles that are not float32 (or anything else): JSON.stringify's own text, whole.
      if (pos < 0) return Buffer.from(vectorJson(v), 'utf8');
    }
    if (sparse !== undefined) {
      pos = writeAscii(buf, pos, ',"sparseValues":');
      pos += buf.write(sparse, pos, 'utf8');
    }
    if (metadata !== undefined) {
      pos = writeAscii(buf, pos, ',"metadata":');
      pos += buf.write(metadata, pos, 'utf8');
    }
    buf[pos++] = 0x7d; // }
    buf[pos] = COMMA_BYTE; // joins it to the next record in a body
    this.#pos = pos + 1;
    slab.held++;
    return buf.subarray(start, pos);
  }

  /**
   * Records (from {@link encode}, or any JSON bytes) are no longer needed: their slabs
   * may be reused once nothing else on them is held.
   */
  release(records: readonly Uint8Array[]): void {
    for (const r of records) {
      const slab = this.#slabs.get(r.buffer);
      if (!slab || --slab.held > 0 || slab === this.#slab) continue;
      this.#free.push(slab);
    }
  }

  /** A slab with room for `bytes` at the write position: the current one, a free one, or a new one. */
  #reserve(bytes: number): Slab {
    const current = this.#slab;
    if (current && current.buf.length - this.#pos > bytes) return current;
    // Leaving the current slab: it is free already if nothing on it is held.
    if (current && current.held === 0) this.#free.push(current);
    const i = this.#free.findIndex((s) => s.buf.length > bytes);
    let slab = i >= 0 ? this.#free.splice(i, 1)[0] : undefined;
    if (!slab) {
      const buf = Buffer.allocUnsafeSlow(Math.max(this.#nextSize, bytes + 1));
      this.#nextSize = Math.min(this.#nextSize * 4, SLAB_BYTES);
      slab = { buf, view: new DataView(buf.buffer, buf.byteOffset, buf.length), held: 0 };
      this.#slabs.set(buf.buffer, slab);
    }
    this.#slab = slab;
    this.#pos = 0;
    return slab;
  }
}

/**
 * An upsert body from encoded records, as pieces to send one after another (the records'
 * bytes are not copied): records that lie one after another with a comma between them,
 * as a {@link RecordEncoder} writes them, go as one piece.
 */
export function upsertBody(records: readonly Uint8Array[], namespace: string | undefined): Uint8Array[] {
  const parts: Uint8Array[] = [OPEN];
  let run: Uint8Array | undefined;
  for (const r of records) {
    if (run && adjoins(run, r)) {
      run = new Uint8Array(run.buffer, run.byteOffset, r.byteOffset + r.length - run.byteOffset);
      continue;
    }
    if (run) parts.push(run, COMMA);
    run = r;
  }
  if (run) parts.push(run);
  const ns = namespace === undefined ? '' : `,"namespace":${JSON.stringify(namespace)}`;
  parts.push(Buffer.from(`]${ns}}`, 'utf8'));
  return parts;
}

/** Whether `b` follows `a` in the same memory with exactly a comma between them. */
function adjoins(a: Uint8Array, b: Uint8Array): boolean {
  const end = a.byteOffset + a.length;
  return (
    a.buffer === b.buffer && b.byteOffset === end + 1 && new Uint8Array(a.buffer, end, 1)[0] === COMMA_BYTE
  );
}

/** Bytes an encoded record adds to a body: its own plus a separating comma. */
export function encodedSize(encoded: Uint8Array): number {
  return encoded.length + 1;
}
