import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectFormat, InputError, VectorSource } from '../../src/cli/input.js';
import { countLines } from '../../src/cli/lines.js';
import type { Vector } from '../../src/data/types.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-input-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string | Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

async function readAll(source: VectorSource): Promise<Vector[]> {
  const out: Vector[] = [];
  for await (const v of source) out.push(v);
  return out;
}

async function collect(lines: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const l of lines) out.push(l);
  return out;
}

const line = (i: number, dim = 3) =>
  JSON.stringify({ id: `v${i}`, values: Array.from({ length: dim }, (_, d) => i + d / 10) });

describe('JSON Lines', () => {
  it('reads records in order, skipping blank lines, with CRLF endings and no final newline', async () => {
    const path = await file(
      'ok.jsonl',
      `${line(1)}\r\n\n${line(2)}\n   \n${JSON.stringify({ id: 'v3', values: [1, 2, 3], metadata: { a: 'b' } })}`,
    );
    const source = await VectorSource.open(path);
    const records = await readAll(source);
    expect(records.map((r) => r.id)).toEqual(['v1', 'v2', 'v3']);
    expect(records[2]?.metadata).toEqual({ a: 'b' });
    expect(source.taken).toBe(3);
    expect(source.error).toBeUndefined();
    expect(await source.count()).toBe(5);
    await source.close();
  });

  it('stops at a malformed line, names it, and keeps it and the rest for the resume file verbatim', async () => {
    const lines = [line(1), line(2), '{"id": "v3", "values": [1, 2,', line(4), line(5)];
    const path = await file('bad.jsonl', `${lines.join('\n')}\n`);
    const source = await VectorSource.open(path);
    expect((await readAll(source)).map((r) => r.id)).toEqual(['v1', 'v2']);
    expect(source.error).toBeInstanceOf(InputError);
    expect(source.error?.message).toMatch(/bad\.jsonl line 3: not valid JSON/);
    expect(source.error?.position).toBe(3);
    // Iterating again gives nothing more: reading stopped there.
    expect(await readAll(source)).toEqual([]);
    expect(await collect(source.rest())).toEqual(lines.slice(2));
    await source.close();
  });

  it('reports records that parse but are not vectors, by line, with the field', async () => {
    const cases: [string, RegExp][] = [
      ['[1, 2, 3]', /line 2: expected an object/],
      ['{"id": 7, "values": [1, 2, 3]}', /line 2: "id" must be a string; got a number/],
      ['{"id": "x", "values": [1, "a", 3]}', /line 2: values\[1\] must be a finite number/],
      ['{"id": "x", "vectors": [1, 2, 3]}', /line 2: unknown field "vectors"/],
      ['{"id": "x", "values": [1, 2]}', /line 2: "values" has 2 numbers; expected 3/],
      [
        '{"id": "x", "values": [1, 2, 3], "metadata": {"a": {"b": 1}}}',
        /line 2: metadata\.a must be a string, number/,
      ],
    ];
    for (const [i, [bad, message]] of cases.entries()) {
      const source = await VectorSource.open(await file(`case${i}.jsonl`, `${line(1)}\n${bad}\n`));
      expect((await readAll(source)).length).toBe(1);
      expect(source.error?.message).toMatch(message);
      await source.close();
    }
  });

  it("checks every record against the index's dimension when told it", async () => {
    const source = await VectorSource.open(await file('dim.jsonl', `${line(1)}\n`));
    source.expectDimension(4);
    await readAll(source);
    expect(source.error?.message).toMatch(
      /line 1: "values" has 3 numbers; expected 4 \(the dimension of the index\)/,
    );
    await source.close();
  });

  it('leaves the file open when the consumer stops early, so the rest can be read', async () => {
    const path = await file('early.jsonl', `${[1, 2, 3, 4].map((i) => line(i)).join('\n')}\n`);
    const source = await VectorSource.open(path);
    for await (const v of source) {
      if (v.id === 'v2') break; // calls return(): must not close the file
    }
    expect(await collect(source.rest())).toEqual([line(3), line(4)]);
    await source.close();
  });

  it('reports a missing file clearly', async () => {
    await expect(VectorSource.open(join(dir, 'nope.jsonl'))).rejects.toThrow(/nope\.jsonl: no such file/);
  });
});

describe('CSV', () => {
  it('reads id, values (several notations), a metadata column and extra columns as string metadata', async () => {
    const text = [
      'id,values,metadata,genre',
      'a,0.1 0.2 0.3,,drama',
      'b,"[1, 2, 3]","{""year"": 1999}",',
      '"c,1",4;5;6,"{}","sci ""fi"""',
    ].join('\n');
    const source = await VectorSource.open(await file('ok.csv', text));
    const records = await readAll(source);
    expect(source.error).toBeUndefined();
    expect(records).toEqual([
      { id: 'a', values: [0.1, 0.2, 0.3], metadata: { genre: 'drama' } },
      { id: 'b', values: [1, 2, 3], metadata: { year: 1999 } },
      { id: 'c,1', values: [4, 5, 6], metadata: { genre: 'sci "fi"' } },
    ]);
    expect(await source.count()).toBe(3);
    await source.close();
  });

  it('names the line of a bad row', async () => {
    const source = await VectorSource.open(await file('bad.csv', 'id,values\na,1 2\nb,1 x\nc,3 4\n'));
    expect((await readAll(source)).map((r) => r.id)).toEqual(['a']);
    expect(source.error?.message).toMatch(/bad\.csv line 3: "values" item 1 is not a number: "x"/);
    // A CSV row cannot go into a JSON Lines file as it is: the bad one is left out and listed.
    expect(await collect(source.rest())).toEqual([JSON.stringify({ id: 'c', values: [3, 4] })]);
    expect(source.unreadable).toEqual([3]);
    await source.close();
  });

  it('requires id and values columns', async () => {
    const source = await VectorSource.open(await file('nohead.csv', 'name,vec\na,1\n'));
    await readAll(source);
    expect(source.error?.message).toMatch(/line 1: the header row must name an "id" and a "values" column/);
    await source.close();
  });
});

describe('.npy', () => {
  function npy(rows: number[][], dtype: '<f4' | '<f8'): Buffer {
    const dim = rows[0]?.length ?? 0;
    let header = `{'descr': '${dtype}', 'fortran_order': False, 'shape': (${rows.length}, ${dim}), }`;
    const pad = 64 - ((10 + header.length + 1) % 64);
    header = `${header}${' '.repeat(pad)}\n`;
    const pre = Buffer.alloc(10);
    Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(pre);
    pre.writeUInt16LE(header.length, 8);
    const size = dtype === '<f4' ? 4 : 8;
    const data = Buffer.alloc(rows.length * dim * size);
    for (const [i, v] of rows.flat().entries()) {
      if (size === 4) data.writeFloatLE(v, i * 4);
      else data.writeDoubleLE(v, i * 8);
    }
    return Buffer.concat([pre, Buffer.from(header, 'latin1'), data]);
  }

  it('reads float32 and float64 rows with ids from the row number', async () => {
    const rows = Array.from({ length: 300 }, (_, r) => [r, r + 0.5, -r]);
    for (const dtype of ['<f4', '<f8'] as const) {
      const source = await VectorSource.open(await file(`m${dtype.slice(1)}.npy`, npy(rows, dtype)), {
        idPrefix: 'doc-',
      });
      const records = await readAll(source);
      expect(records.length).toBe(300);
      expect(records[299]?.id).toBe('doc-299');
      expect(Array.from(records[299]?.values ?? [])).toEqual([299, 299.5, -299]);
      // float32 rows stay float32 (half the memory of number arrays); float64 rows are numbers.
      expect(records[299]?.values).toBeInstanceOf(dtype === '<f4' ? Float32Array : Array);
      expect(await source.count()).toBe(300);
      await source.close();
    }
  });

  it('rejects a file that is not .npy', async () => {
    const source = await VectorSource.open(await file('fake.npy', 'hello'));
    await readAll(source);
    expect(source.error?.message).toMatch(/not a NumPy \.npy file/);
    await source.close();
  });
});

describe('helpers', () => {
  it('detects the format from the extension', () => {
    expect(detectFormat('a.csv')).toBe('csv');
    expect(detectFormat('a.NPY')).toBe('npy');
    expect(detectFormat('a.ndjson')).toBe('jsonl');
    expect(detectFormat('a.txt')).toBe('jsonl');
    expect(detectFormat('a.txt', 'csv')).toBe('csv');
    expect(() => detectFormat('a', 'parquet')).toThrow(/unknown input format "parquet"/);
  });

  it('counts lines with and without a final newline', async () => {
    expect(await countLines(await file('c1.txt', 'a\nb\n'))).toBe(2);
    expect(await countLines(await file('c2.txt', 'a\nb'))).toBe(2);
    expect(await countLines(await file('c3.txt', ''))).toBe(0);
    expect(await readFile(join(dir, 'c2.txt'), 'utf8')).toBe('a\nb');
  });
});
