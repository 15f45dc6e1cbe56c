/**
 * Peak memory of the CLI's streaming bulk load: `pinecone-resilient upsert` (the built
 * `dist/cli/main.js`, run as a user runs it) loads JSON Lines and `.npy` files of 100 k and
 * 1 M rows into the emulator (`pinecone-resilient serve`, a separate process, restarted for
 * each run), and this script reads the CLI's peak resident set size (`maxRSS` of
 * `process.resourceUsage()`, taken at exit by a one-line `--import` hook). Flat figures
 * across sizes mean the reader, the bulk engine and the transport hold a bounded window of
 * the file, whatever its length.
 *
 *   npm run build && npx tsx bench/cli-memory.ts [--rows 100000,1000000] [--dimension 768]
 *       [--formats jsonl,npy] [--grpc] [--batch-size 100] [--max-concurrency 8] [--dir DIR]
 *
 * Files are generated in a temporary directory (or `--dir`, kept and reused) and deleted
 * afterwards: at 768 dimensions 1 M rows are 3.1 GB as `.npy` and about 7 GB as JSON
 * Lines, and the emulator holds 3 GB of float32 values at the end of a 1 M-row load. For a
 * quicker look, `--dimension 128` or `--rows 100000`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { arg } from './cli-table.js';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
type Format = 'jsonl' | 'npy';

/** Distinct rows the files cycle through (ids stay unique): generation is then mostly I/O. */
const DISTINCT = 1024;

/** `DISTINCT` rows of `dim` seeded values in [-1, 1) (mulberry32), as float32. */
function distinctRows(dim: number): Float32Array {
  let a = 42;
  const out = new Float32Array(DISTINCT * dim);
  for (let i = 0; i < out.length; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 2 ** 31 - 1;
  }
  return out;
}

/** Write `rows` × `dim` values as a float32 `.npy` file (version 1.0 header, C order). */
async function writeNpy(path: string, rows: number, dim: number): Promise<void> {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, ${dim}), }`;
  header += `${' '.repeat(63 - ((10 + header.length) % 64))}\n`; // header total: a multiple of 64
  const pre = Buffer.alloc(10);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(pre);
  pre.writeUInt16LE(header.length, 8);
  const out = createWriteStream(path);
  out.write(Buffer.concat([pre, Buffer.from(header, 'latin1')]));
  const block = Buffer.from(distinctRows(dim).buffer);
  for (let r = 0; r < rows; r += DISTINCT) {
    const n = Math.min(DISTINCT, rows - r);
    if (!out.write(block.subarray(0, n * dim * 4))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** Write `rows` records as JSON Lines, values with 6 decimals (`-0.123456`), as exporters often do. */
async function writeJsonl(path: string, rows: number, dim: number): Promise<void> {
  const source = distinctRows(dim);
  const texts = Array.from({ length: DISTINCT }, (_, k) =>
    Array.from(source.subarray(k * dim, (k + 1) * dim), (v) => v.toFixed(6)).join(','),
  );
  const out = createWriteStream(path);
  let text = '';
  for (let r = 0; r < rows; r++) {
    text += `{"id":"r${r}","values":[${texts[r % DISTINCT]}]}\n`;
    if (text.length > 1 << 20) {
      if (!out.write(text)) await once(out, 'drain');
      text = '';
    }
  }
  out.end(text);
  await once(out, 'finish');
}

/** Start `pinecone-resilient serve` with one index; resolves to its data-plane host. */
async function startEmulator(dim: number): Promise<{ child: ChildProcess; host: string }> {
  // stderr is ignored: it only says "Shutting down" (a failed start shows as no host line).
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--index', `mem:${dim}`, '--json'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const [line] = (await once(createInterface({ input: child.stdout as NodeJS.ReadableStream }), 'line')) as [
    string,
  ];
  const { indexes } = JSON.parse(line) as { indexes: Record<string, string> };
  return { child, host: indexes.mem as string };
}

/** Peak RSS (VmHWM, MB) and CPU seconds of a live process; undefined where /proc is missing. */
async function usageOf(pid: number | undefined): Promise<{ peakMB?: number; cpuSeconds?: number }> {
  if (pid === undefined) return {};
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
    // /proc/<pid>/stat: utime and stime are fields 14 and 15, in clock ticks (100 per second on Linux).
    const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
    const ticks = Number(fields[11]) + Number(fields[12]);
    return { peakMB: kb ? Number(kb) / 1024 : undefined, cpuSeconds: ticks / 100 };
  } catch {
    return {};
  }
}

/**
 * Writes the process's peak RSS (kB) and CPU time (µs) to the file named by PEAK_RSS_FILE
 * when it exits.
 */
const HOOK = `data:text/javascript,${encodeURIComponent(
  "import { writeFileSync } from 'node:fs'; process.on('exit', () => { const u = process.resourceUsage(); writeFileSync(process.env.PEAK_RSS_FILE, JSON.stringify({ maxRSS: u.maxRSS, cpu: u.userCPUTime + u.systemCPUTime })); });",
)}`;

interface Result {
  format: Format;
  rows: number;
  fileMB: number;
  cliPeakMB: number;
  cliCpuSeconds: number;
  seconds: number;
  emulatorPeakMB: number | undefined;
  emulatorCpuSeconds: number | undefined;
}

async function load(file: string, format: Format, rows: number, dim: number, dir: string): Promise<Result> {
  const { child: emulator, host } = await startEmulator(dim);
  const peakFile = join(dir, 'peak-rss.txt');
  const extra = process.argv.includes('--grpc') ? ['--grpc'] : [];
  const started = performance.now();
  const cli = spawn(
    process.execPath,
    [
      '--import',
      HOOK,
      CLI,
      'upsert',
      '--host',
      host,
      '--file',
      file,
      '--batch-size',
      arg('batch-size', '100'),
      '--max-concurrency',
      arg('max-concurrency', '8'),
      '--progress-interval',
      '600000',
      ...extra,
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PINECONE_API_KEY: 'bench', PEAK_RSS_FILE: peakFile },
    },
  );
  let output = '';
  cli.stdout?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  cli.stderr?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const [code] = (await once(cli, 'exit')) as [number | null];
  const seconds = (performance.now() - started) / 1000;
  const emulatorUsage = await usageOf(emulator.pid);
  emulator.kill('SIGTERM');
  await once(emulator, 'exit');
  if (code !== 0) throw new Error(`upsert of ${file} exited ${code}:\n${output}`);
  if (!output.includes(`Upserted ${rows.toLocaleString('en-US')} vectors`)) {
    throw new Error(`unexpected output for ${file}:\n${output}`);
  }
  const cliUsage = JSON.parse(await readFile(peakFile, 'utf8')) as { maxRSS: number; cpu: number };
  return {
    format,
    rows,
    fileMB: (await stat(file)).size / 2 ** 20,
    cliPeakMB: cliUsage.maxRSS / 1024,
    cliCpuSeconds: cliUsage.cpu / 1e6,
    seconds,
    emulatorPeakMB: emulatorUsage.peakMB,
    emulatorCpuSeconds: emulatorUsage.cpuSeconds,
  };
}

async function main(): Promise<void> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
  const sizes = arg('rows', '100000,1000000').split(',').map(Number);
  const dim = Number(arg('dimension', '768'));
  const formats = arg('formats', 'jsonl,npy').split(',') as Format[];
  const given = arg('dir', '');
  const dir = given || (await mkdtemp(join(tmpdir(), 'cli-memory-')));
  await mkdir(dir, { recursive: true });
  const results: Result[] = [];
  try {
    for (const rows of sizes) {
      for (const format of formats) {
        const file = join(dir, `rows-${rows}-dim-${dim}.${format}`);
        if (!existsSync(file)) {
          const t = performance.now();
          await (format === 'npy' ? writeNpy(file, rows, dim) : writeJsonl(file, rows, dim));
          process.stderr.write(`wrote ${file} in ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
        }
        const result = await load(file, format, rows, dim, dir);
        results.push(result);
        process.stderr.write(
          `${format} ${rows}: CLI peak ${result.cliPeakMB.toFixed(0)} MB in ${result.seconds.toFixed(1)} s\n`,
        );
        if (!given) await rm(file, { force: true });
      }
    }
  } finally {
    if (!given) await rm(dir, { recursive: true, force: true });
  }

  console.log(
    `CLI peak RSS, streaming upsert into the emulator: ${dim} dims, --batch-size ${arg('batch-size', '100')}, ` +
      `--max-concurrency ${arg('max-concurrency', '8')}, ${process.argv.includes('--grpc') ? 'gRPC' : 'REST'}, Node ${process.version}`,
  );
  const header = [
    'format',
    'rows',
    'file MB',
    'CLI peak RSS MB',
    'wall s',
    'vectors/s',
    'CLI CPU s',
    'emulator CPU s',
    'emulator peak RSS MB',
  ];
  const rows = results.map((r) => [
    r.format,
    r.rows.toLocaleString('en-US'),
    r.fileMB.toFixed(0),
    r.cliPeakMB.toFixed(0),
    r.seconds.toFixed(1),
    Math.round(r.rows / r.seconds).toLocaleString('en-US'),
    r.cliCpuSeconds.toFixed(1),
    r.emulatorCpuSeconds === undefined ? '-' : r.emulatorCpuSeconds.toFixed(1),
    r.emulatorPeakMB === undefined ? '-' : r.emulatorPeakMB.toFixed(0),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padStart(widths[i] as number)).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
}

await main();
