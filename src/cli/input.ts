/**
 * Reading records to upsert from a file, one at a time: JSON Lines (`{"id", "values",
 * "sparseValues", "metadata"}` per line), CSV (see `csv.ts`) or NumPy `.npy`.
 *
 * A {@link VectorSource} is the async iterable handed to `index.upsert`, so memory stays
 * bounded however large the file is. Two properties make exact resumption possible:
 * - A record that cannot be read does not throw inside the upsert; reading just stops
 *   there and {@link VectorSource.error} names the line, so everything before it is
 *   written normally and the caller decides what to do.
 * - When the upsert stops taking records (it failed or was aborted), the file is not
 *   closed: {@link VectorSource.rest} yields everything not yet handed out, for the
 *   resume file.
 */
import { access, constants } from 'node:fs/promises';
import { extname } from 'node:path';
import { vectorJson } from '../data/encode.js';
import type { Vector } from '../data/types.js';
import { type CsvHeader, csvRowToRecord, parseCsvHeader, RowError } from './csv.js';
import { countLines, readLines } from './lines.js';
import { countNpyRows, NpyError, readNpyRows } from './npy.js';
import { toVector } from './record.js';

/** File formats the CLI reads. */
export type InputFormat = 'jsonl' | 'csv' | 'npy';

/** A problem with the input file; the message names the file and the line (or row). */
export class InputError extends Error {
  override name = 'InputError';
  /**
   * @param file the file as the user named it
   * @param position 1-based line (JSONL, CSV) or 0-based row (`.npy`), when it applies
   */
  constructor(
    message: string,
    readonly file: string,
    readonly position?: number,
  ) {
    super(message);
  }
}

/** Options of {@link VectorSource.open}. */
export interface VectorSourceOptions {
  /** Default: from the file extension (`.csv`, `.npy`, anything else is JSON Lines). */
  format?: InputFormat | undefined;
  /** Length every dense `values` must have (the index's dimension), when known. */
  dimension?: number | undefined;
  /** `.npy` only: ids are `<idPrefix><row>`. Default `''`. */
  idPrefix?: string | undefined;
}

/** The format a path implies, or the explicit one. */
export function detectFormat(path: string, explicit?: string): InputFormat {
  const format = (explicit ?? extname(path).slice(1).toLowerCase()) || 'jsonl';
  if (format === 'csv' || format === 'npy') return format;
  if (format === 'jsonl' || format === 'ndjson' || format === 'json' || explicit === undefined)
    return 'jsonl';
  throw new InputError(`unknown input format "${explicit}" (use jsonl, csv or npy)`, path);
}

/** One unit of input before it is decoded: a text line or a `.npy` row. */
interface Item {
  position: number;
  text?: string;
  values?: number[] | Float32Array;
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/** Records of a file, handed out one at a time; see the module comment. */
export class VectorSource implements AsyncIterable<Vector> {
  /** Records handed out so far. */
  taken = 0;
  /** Set when reading stopped at a record that could not be read. */
  error: InputError | undefined;
  /** CSV / `.npy` positions left out of {@link rest} because they could not be read. */
  readonly unreadable: number[] = [];
  readonly #items: AsyncGenerator<Item, void, undefined>;
  #dimension: number | undefined;
  #header: CsvHeader | undefined;
  #stoppedAt: Item | undefined;
  #finished = false;
  #chain: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly path: string,
    readonly format: InputFormat,
    private readonly options: VectorSourceOptions,
  ) {
    this.#dimension = options.dimension;
    this.#items = format === 'npy' ? npyItems(path) : textItems(path);
  }

  /** Open a file (checked readable now; read lazily). */
  static async open(path: string, options: VectorSourceOptions = {}): Promise<VectorSource> {
    const format = detectFormat(path, options.format);
    try {
      await access(path, constants.R_OK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new InputError(
        code === 'ENOENT' ? `${path}: no such file` : `${path}: cannot read (${code})`,
        path,
      );
    }
    return new VectorSource(path, format, options);
  }

  /** Check every dense record against this length from now on (the index's dimension). */
  expectDimension(dimension: number | undefined): void {
    if (dimension !== undefined && dimension > 0) this.#dimension = dimension;
  }

  /** About how many records the file holds (lines or rows; for a progress bar). */
  async count(): Promise<number> {
    if (this.format === 'npy') return countNpyRows(this.path).catch(() => 0);
    const lines = await countLines(this.path);
    return this.format === 'csv' ? Math.max(0, lines - 1) : lines;
  }

  /** Iterating does not close the file when the consumer stops early; see {@link rest}. */
  [Symbol.asyncIterator](): AsyncIterator<Vector> {
    return {
      // Serialised: whatever the consumer does, records leave in file order, once each.
      next: () => {
        const result = this.#chain.then(() => this.#next());
        this.#chain = result.catch(() => undefined);
        return result;
      },
      return: async () => DONE,
    };
  }

  /**
   * Everything not handed out, as JSON Lines: first the record reading stopped at (for
   * JSON Lines, verbatim, so the user can fix it in place), then the unread rest.
   * Call once, after the consumer has stopped.
   */
  async *rest(): AsyncGenerator<string, void, undefined> {
    const stopped = this.#stoppedAt;
    this.#stoppedAt = undefined;
    if (stopped) {
      if (this.format === 'jsonl' && stopped.text !== undefined) yield stopped.text;
      else this.unreadable.push(stopped.position);
    }
    if (this.#finished) return;
    for await (const item of this.#items) {
      if (this.format === 'jsonl') {
        if (item.text !== undefined) yield item.text;
        continue;
      }
      if (this.format === 'csv' && !this.#header) {
        if (this.#readHeader(item) !== undefined) return; // no header: nothing can be read
        continue;
      }
      const decoded = this.#decode(item);
      if (decoded.vector) yield vectorJson(decoded.vector);
      else this.unreadable.push(item.position);
    }
    this.#finished = true;
  }

  /** Release the file. */
  async close(): Promise<void> {
    this.#finished = true;
    await this.#items.return(undefined);
  }

  /** Take a CSV header row; returns what is wrong with it, if anything. */
  #readHeader(item: Item): string | undefined {
    try {
      this.#header = parseCsvHeader(item.text ?? '');
      return undefined;
    } catch (error) {
      if (error instanceof RowError) return error.message;
      throw error;
    }
  }

  async #next(): Promise<IteratorResult<Vector, undefined>> {
    if (this.#finished || this.error) return DONE;
    let result: IteratorResult<Item, void>;
    try {
      result = await this.#items.next();
    } catch (error) {
      this.#finished = true;
      this.error = new InputError(`${this.path}: ${(error as Error).message}`, this.path);
      return DONE;
    }
    if (result.done) {
      this.#finished = true;
      return DONE;
    }
    const item = result.value;
    if (this.format === 'csv' && !this.#header) {
      const problem = this.#readHeader(item);
      if (problem === undefined) return this.#next();
      this.#finished = true;
      this.error = new InputError(`${this.path} line ${item.position}: ${problem}`, this.path, item.position);
      return DONE;
    }
    const decoded = this.#decode(item);
    if (decoded.error !== undefined) {
      this.#stoppedAt = item;
      const where = this.format === 'npy' ? `row ${item.position}` : `line ${item.position}`;
      this.error = new InputError(`${this.path} ${where}: ${decoded.error}`, this.path, item.position);
      return DONE;
    }
    if (this.#dimension === undefined && decoded.vector.values.length > 0) {
      this.#dimension = decoded.vector.values.length;
    }
    this.taken++;
    return { done: false, value: decoded.vector };
  }

  #decode(item: Item): { vector: Vector; error?: undefined } | { vector?: undefined; error: string } {
    if (item.values !== undefined) {
      return toVector(
        { id: `${this.options.idPrefix ?? ''}${item.position}`, values: item.values },
        this.#dimension,
      );
    }
    const text = item.text ?? '';
    if (this.format === 'csv') {
      try {
        return toVector(csvRowToRecord(this.#header as CsvHeader, text), this.#dimension);
      } catch (error) {
        if (error instanceof RowError) return { error: error.message };
        throw error;
      }
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      return { error: `not valid JSON (${(error as Error).message})` };
    }
    return toVector(parsed, this.#dimension);
  }
}

async function* textItems(path: string): AsyncGenerator<Item, void, undefined> {
  for await (const line of readLines(path)) {
    if (line.text.trim() === '') continue;
    yield { position: line.number, text: line.text };
  }
}

async function* npyItems(path: string): AsyncGenerator<Item, void, undefined> {
  try {
    for await (const row of readNpyRows(path)) yield { position: row.row, values: row.values };
  } catch (error) {
    if (error instanceof NpyError) throw new Error(error.message);
    throw error;
  }
}
