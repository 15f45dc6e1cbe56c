/**
 * CSV input: a header row, then one record per row. Columns: `id` (required), `values`
 * (required: numbers separated by spaces or semicolons, or a JSON array), `metadata`
 * (optional JSON object); every other non-empty cell becomes a string metadata field.
 * Quoted fields follow RFC 4180 (`"a ""quoted"" word"`) but must not span lines.
 */

/** A row (or the header) that cannot be read; the message is for the user. */
export class RowError extends Error {
  override name = 'RowError';
}

/** The columns of a CSV file, from its header row. */
export interface CsvHeader {
  columns: string[];
  id: number;
  values: number;
  metadata: number;
}

/** Split one CSV line into cells. Throws a {@link RowError} on an unterminated quote. */
export function splitCsvLine(line: string): string[] {
  const cells: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let cell = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q === -1) throw new RowError('unterminated quoted field (quoted fields must not span lines)');
        cell += line.slice(i, q);
        if (line[q + 1] === '"') {
          cell += '"';
          i = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      if (i < line.length && line[i] !== ',')
        throw new RowError(`unexpected text after a closing quote at column ${i + 1}`);
      cells.push(cell);
    } else {
      const comma = line.indexOf(',', i);
      cells.push(comma === -1 ? line.slice(i) : line.slice(i, comma));
      i = comma === -1 ? line.length : comma;
    }
    if (i >= line.length) break;
    i++; // the comma
    if (i === line.length) {
      cells.push('');
      break;
    }
  }
  return cells;
}

/** Read the header row. Throws a {@link RowError} when `id` or `values` is missing. */
export function parseCsvHeader(line: string): CsvHeader {
  const columns = splitCsvLine(line).map((c) => c.trim());
  const id = columns.indexOf('id');
  const values = columns.indexOf('values');
  if (id === -1 || values === -1) {
    throw new RowError(
      `the header row must name an "id" and a "values" column; got ${columns.map((c) => JSON.stringify(c)).join(', ')}`,
    );
  }
  return { columns, id, values, metadata: columns.indexOf('metadata') };
}

/**
 * One data row as a plain record object (then checked like a JSON line). Throws a
 * {@link RowError} when the row cannot be read.
 */
export function csvRowToRecord(header: CsvHeader, line: string): Record<string, unknown> {
  const cells = splitCsvLine(line);
  if (cells.length !== header.columns.length) {
    throw new RowError(`expected ${header.columns.length} cells (as in the header row); got ${cells.length}`);
  }
  const record: Record<string, unknown> = { id: cells[header.id] };
  record.values = parseNumbers(cells[header.values] ?? '');
  const metadata: Record<string, unknown> = {};
  if (header.metadata !== -1 && (cells[header.metadata] ?? '').trim() !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(cells[header.metadata] ?? '');
    } catch (error) {
      throw new RowError(`the "metadata" cell is not JSON (${(error as Error).message})`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new RowError('the "metadata" cell must hold a JSON object');
    }
    Object.assign(metadata, parsed);
  }
  header.columns.forEach((name, i) => {
    if (i === header.id || i === header.values || i === header.metadata) return;
    const cell = cells[i] ?? '';
    if (cell !== '') metadata[name] = cell;
  });
  if (Object.keys(metadata).length > 0) record.metadata = metadata;
  return record;
}

function parseNumbers(cell: string): number[] {
  const text = cell.trim();
  if (text.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new RowError(`the "values" cell is not a JSON array (${(error as Error).message})`);
    }
    if (!Array.isArray(parsed)) throw new RowError('the "values" cell must be a JSON array');
    return parsed as number[];
  }
  if (text === '') return [];
  return text.split(/[\s;]+/).map((word, i) => {
    const n = Number(word);
    if (word === '' || !Number.isFinite(n))
      throw new RowError(`"values" item ${i} is not a number: ${JSON.stringify(word)}`);
    return n;
  });
}
