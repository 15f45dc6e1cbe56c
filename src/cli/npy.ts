/**
 * NumPy `.npy` input: a 2-D float32 or float64 array of shape (rows, dimension) in C
 * order, as `numpy.save(path, embeddings)` writes it. Row `i` becomes the record with id
 * `<prefix><i>`. Rows are read in blocks, so memory stays bounded.
 */
import { type FileHandle, open } from 'node:fs/promises';

/** What the header of a `.npy` file says. */
export interface NpyInfo {
  rows: number;
  dimension: number;
  /** Bytes per number: 4 (float32) or 8 (float64). */
  itemSize: 4 | 8;
  littleEndian: boolean;
  /** Byte offset of the first row. */
  dataOffset: number;
}

/** A `.npy` file this reader cannot use; the message is for the user. */
export class NpyError extends Error {
  override name = 'NpyError';
}

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

/** Read and check the header of an open `.npy` file. */
export async function readNpyHeader(handle: FileHandle): Promise<NpyInfo> {
  const pre = Buffer.alloc(12);
  const { bytesRead } = await handle.read(pre, 0, 12, 0);
  if (bytesRead < 10 || !pre.subarray(0, 6).equals(MAGIC)) throw new NpyError('not a NumPy .npy file');
  const major = pre[6] ?? 0;
  const headerLength = major === 1 ? pre.readUInt16LE(8) : pre.readUInt32LE(8);
  const headerStart = major === 1 ? 10 : 12;
  const header = Buffer.alloc(headerLength);
  await handle.read(header, 0, headerLength, headerStart);
  const text = header.toString('latin1');
  const descr = /'descr':\s*'([<>|=])f([48])'/.exec(text);
  if (!descr) throw new NpyError(`unsupported dtype in ${text.trim()}; expected float32 or float64`);
  if (/'fortran_order':\s*True/.test(text)) {
    throw new NpyError('Fortran-ordered arrays are not supported; save with numpy.ascontiguousarray');
  }
  const shape = /'shape':\s*\((\d+),\s*(\d+),?\s*\)/.exec(text);
  if (!shape) throw new NpyError(`expected a 2-D array (rows, dimension); header says ${text.trim()}`);
  return {
    rows: Number(shape[1]),
    dimension: Number(shape[2]),
    itemSize: descr[2] === '4' ? 4 : 8,
    littleEndian: descr[1] !== '>',
    dataOffset: headerStart + headerLength,
  };
}

/**
 * The rows of a `.npy` file, `{ row, values }`, read 256 rows at a time. A float32 file's
 * rows are `Float32Array`s (half the memory of number arrays; the SDK takes either), a
 * float64 file's plain number arrays.
 */
export async function* readNpyRows(
  path: string,
): AsyncGenerator<{ row: number; values: number[] | Float32Array; info: NpyInfo }, void, undefined> {
  const handle = await open(path, 'r');
  try {
    const info = await readNpyHeader(handle);
    const rowBytes = info.dimension * info.itemSize;
    const block = Math.max(1, Math.min(256, info.rows));
    const buffer = Buffer.alloc(rowBytes * block);
    for (let start = 0; start < info.rows; start += block) {
      const count = Math.min(block, info.rows - start);
      const want = count * rowBytes;
      const { bytesRead } = await handle.read(buffer, 0, want, info.dataOffset + start * rowBytes);
      if (bytesRead < want) {
        throw new NpyError(`the file ends inside row ${start + Math.floor(bytesRead / rowBytes)}`);
      }
      for (let r = 0; r < count; r++) {
        const values =
          info.itemSize === 4 ? new Float32Array(info.dimension) : new Array<number>(info.dimension);
        const base = r * rowBytes;
        for (let d = 0; d < info.dimension; d++) {
          const at = base + d * info.itemSize;
          values[d] =
            info.itemSize === 4
              ? info.littleEndian
                ? buffer.readFloatLE(at)
                : buffer.readFloatBE(at)
              : info.littleEndian
                ? buffer.readDoubleLE(at)
                : buffer.readDoubleBE(at);
        }
        yield { row: start + r, values, info };
      }
    }
  } finally {
    await handle.close();
  }
}

/** Rows in a `.npy` file, from its header. */
export async function countNpyRows(path: string): Promise<number> {
  const handle = await open(path, 'r');
  try {
    return (await readNpyHeader(handle)).rows;
  } finally {
    await handle.close();
  }
}
