/**
 * A fleet of P worker processes bulk-loading into ONE throttled emulator (a token bucket,
 * 60 requests/s by default), with and without coordination through Redis. Every worker is
 * a real process (bench/coordination/worker.ts) running `new Pinecone({ coordination? })`;
 * the records are split between them. Figures about what happened (requests rejected,
 * vectors stored) are the emulator's; Redis commands are counted by each coordinator.
 *
 *   npx tsx bench/coordination.ts [--processes 1,4,8,16] [--modes together,staggered,cold]
 *                                 [--variants sdk,redis,spec] [--vectors 24000] [--rps 60]
 *                                 [--latency 20] [--noise 0.12] [--repeat 3] [--each] [--quick]
 *                                 [--timeline FILE] [--trace FILE]
 *
 * Modes: `together` (all start at once), `staggered` (one more every 0.5 s), `cold` (jobs
 * of 500 vectors, each with a fresh client, P at a time). Variants: `sdk` (this SDK, no
 * coordination), `redis` (the same with `coordination: redisCoordinator(...)`; a
 * redis-server is started on loopback), `spec` (the spec's algorithm on the SDK's
 * machinery). `--quick`: 6000 vectors, P = 1 and 8. `--noise p`: the emulator also refuses a
 * random share p of requests with 429 whatever the load (with a large `--rps`, throttles that
 * do not depend on load only; compare the variants' walls, the bound being the bucket's).
 * `--repeat n`: each cell n times in a row, printed as one row of medians (wall, rejected,
 * Redis calls; stored: the least) with every run's range in its notes: on a shared 2-core
 * machine one run's wall and refusals vary more than the targets' margins; `--each` also prints
 * every run's own row as it ends, marked `(run k)`. `--timeline FILE`: each run sampled every
 * 50 ms (the emulator's counts, the fleet's state in Redis) into FILE as JSON lines; read it
 * with `npx tsx bench/coordination/timeline.ts FILE`. `--trace FILE`: every worker's SDK
 * records (refusals retried, congestion reports and the fleet's answers, cuts, outages) with
 * time and pid, as JSON lines appended to FILE; read it with `npx tsx
 * bench/coordination/trace.ts FILE` (where each run's refusals came). With P = 8 among the processes and
 * every mode and variant run, a table of issue 13's targets at 8 processes follows.
 * A full run takes about 8 minutes. Notes: jobs that failed (after their retries), and how
 * many times a coordinated cell's processes found Redis unavailable (a call past its bound,
 * or failed: that process decided alone until a probe answered).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import os from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { IndexStatsSnapshot } from '../src/local.js';
import { type RedisProcess, redisServerPath, startRedis } from '../test/helpers/redis-server.js';
import { startEmulatorProcess } from './adaptive/emulator.js';
import { arg } from './cli-table.js';
import { collectTrace } from './coordination/trace.js';
import type { Job, JobResult, Variant, WorkerConfig } from './coordination/worker.js';

/** Where a run's trace lines go (`--trace`). */
interface TraceTarget {
  file: string;
  run: number;
  cell: string;
}

const DIM = 32;
const BATCH = 50;
const MAX_CONCURRENCY = 4;
const COLD_JOB = 500;
const STAGGER_MS = 500;
const MODES = ['together', 'staggered', 'cold'] as const;
type Mode = (typeof MODES)[number];
const VARIANTS: readonly Variant[] = ['sdk', 'redis', 'spec'];
const WORKER = fileURLToPath(new URL('./coordination/worker.ts', import.meta.url));

function list<T extends string>(value: string | undefined, all: readonly T[], what: string): T[] {
  if (value === undefined) return [...all];
  const picked = value.split(',') as T[];
  for (const p of picked)
    if (!all.includes(p)) throw new Error(`unknown ${what} ${p}; one of ${all.join(', ')}`);
  return picked;
}

/** A worker process: started, ready, given jobs one at a time. */
class Worker {
  readonly #child: ChildProcess;
  readonly #lines: string[] = [];
  #waiting: { resolve: (line: string) => void; reject: (error: Error) => void } | undefined;

  private constructor(child: ChildProcess) {
    this.#child = child;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const waiting = this.#waiting;
      this.#waiting = undefined;
      if (waiting) waiting.resolve(line);
      else this.#lines.push(line);
    });
    child.once('exit', (code) => this.#waiting?.reject(new Error(`worker exited (${code})`)));
  }

  static async start(config: WorkerConfig, trace?: TraceTarget): Promise<Worker> {
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER, JSON.stringify(config)], {
      stdio: ['pipe', 'pipe', trace ? 'pipe' : 'inherit'],
    });
    if (trace) collectTrace(child.stderr!, trace.file, trace.run, trace.cell);
    const worker = new Worker(child);
    const ready = JSON.parse(await worker.#next()) as { ready?: boolean };
    if (!ready.ready) throw new Error('worker did not start');
    return worker;
  }

  async run(job: Job): Promise<JobResult> {
    this.#child.stdin!.write(`${JSON.stringify(job)}\n`);
    return JSON.parse(await this.#next()) as JobResult;
  }

  async close(): Promise<void> {
    if (this.#child.exitCode !== null) return;
    const exited = once(this.#child, 'exit');
    this.#child.stdin!.end();
    await exited;
  }

  #next(): Promise<string> {
    const line = this.#lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.#child.exitCode !== null)
      return Promise.reject(new Error(`worker exited (${this.#child.exitCode})`));
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
    });
  }
}

interface Row {
  processes: number;
  mode: Mode;
  variant: Variant;
  wallMs: number;
  boundMs: number;
  stats: IndexStatsSnapshot;
  intended: number;
  results: JobResult[];
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

/** A failure in a few words: `429 after 4 attempts` from the error's message, else its start. */
function brief(failure: string): string {
  const m = /HTTP (\d+) .*after (\d+) attempts/.exec(failure);
  return m ? `${m[1]} after ${m[2]} attempts` : failure.slice(0, 60);
}

/** The figures of one run of a cell. */
interface Figures {
  wallMs: number;
  ratio: number;
  rejected: number;
  total: number;
  stored: number;
  callsPerRequest: number;
  spread: number;
  failed: number;
  failure: string;
  outages: number;
}

function figures(r: Row): Figures {
  const req = r.stats.requests;
  const times = r.results.map((j) => j.ms);
  const failures = r.results.filter((j) => j.failure);
  return {
    wallMs: r.wallMs,
    ratio: r.wallMs / r.boundMs,
    rejected: req.rejected,
    total: req.total,
    stored: r.stats.vectors.total / r.intended,
    callsPerRequest: r.results.reduce((sum, j) => sum + j.redisCommands, 0) / Math.max(1, req.total),
    spread: Math.max(...times) / Math.min(...times),
    failed: failures.length,
    failure: failures[0]?.failure ?? '',
    outages: r.results.reduce((sum, j) => sum + j.redisOutages, 0),
  };
}

/** The figures that are numbers (a median or a range is taken of each). */
type NumericFigure = { [K in keyof Figures]: Figures[K] extends number ? K : never }[keyof Figures];

/** The middle value (the lower of the two middle ones for an even count). */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] as number;
}

/** A cell's row: one run as it went, or several as medians with each run's range in the notes. */
function formatRow(rows: Row[]): { line: string; figures: Figures } {
  const first = rows[0] as Row;
  const runs = rows.map(figures);
  const pick = (key: NumericFigure) => median(runs.map((f) => f[key]));
  const range = (key: NumericFigure, digits: number) => {
    const values = runs.map((f) => f[key]);
    return `${Math.min(...values).toFixed(digits)}-${Math.max(...values).toFixed(digits)}`;
  };
  const f: Figures = {
    wallMs: pick('wallMs'),
    ratio: pick('ratio'),
    rejected: pick('rejected'),
    total: pick('total'),
    stored: Math.min(...runs.map((r) => r.stored)),
    callsPerRequest: pick('callsPerRequest'),
    spread: pick('spread'),
    failed: runs.reduce((sum, r) => sum + r.failed, 0),
    failure: runs.find((r) => r.failure)?.failure ?? '',
    outages: runs.reduce((sum, r) => sum + r.outages, 0),
  };
  const notes = [
    runs.length > 1
      ? `${runs.length} runs: walls ${range('ratio', 2)}, rejected ${range('rejected', 0)}`
      : '',
    f.failed ? `${f.failed} failed (${brief(f.failure)})` : '',
    f.outages ? `Redis unavailable ${f.outages}×` : '',
  ];
  const line = [
    '',
    first.processes,
    first.mode,
    first.variant,
    `${(f.wallMs / 1000).toFixed(1)} s`,
    f.ratio.toFixed(2),
    `${pct(f.rejected / Math.max(1, f.total))} (${f.rejected}/${f.total})`,
    pct(f.stored),
    first.variant === 'redis' ? f.callsPerRequest.toFixed(2) : '-',
    f.spread.toFixed(2),
    notes.filter(Boolean).join('; '),
    '',
  ]
    .join(' | ')
    .trim();
  return { line, figures: f };
}

/** Issue 13's targets at 8 processes, from the cells' (median) figures. */
function printTargets(cells: Map<string, Figures>): void {
  const at = (mode: Mode, variant: Variant) => cells.get(`8 ${mode} ${variant}`);
  if (!MODES.every((m) => VARIANTS.every((v) => at(m, v)))) return;
  const ours = (mode: Mode) => at(mode, 'redis') as Figures;
  const fewer = (mode: Mode, than: Variant) => {
    const theirs = at(mode, than) as Figures;
    const mine = ours(mode).rejected;
    if (theirs.rejected === 0) return `- (${mine} vs 0)`;
    const share = 1 - mine / theirs.rejected;
    return `${(share * 100).toFixed(0)} % (${mine} vs ${theirs.rejected})`;
  };
  const each = (text: (mode: Mode) => string) => MODES.map(text).join(' | ');
  console.log('');
  console.log('Targets at 8 processes (issue 13):');
  console.log('');
  console.log(`| target | ${MODES.join(' | ')} |`);
  console.log(`|---|${MODES.map(() => '---').join('|')}|`);
  console.log(`| >= 75 % fewer rejected than uncoordinated | ${each((m) => fewer(m, 'sdk'))} |`);
  console.log(`| >= 90 % fewer rejected than the spec's | ${each((m) => fewer(m, 'spec'))} |`);
  console.log(`| wall <= 1.05x the bound | ${each((m) => `${ours(m).ratio.toFixed(2)}x`)} |`);
  console.log(`| 100 % stored | ${each((m) => pct(ours(m).stored))} |`);
  console.log(`| <= 1.1 Redis calls per request | ${each((m) => ours(m).callsPerRequest.toFixed(2))} |`);
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const processes = (arg('processes') ?? (quick ? '1,8' : '1,4,8,16')).split(',').map(Number);
  const modes = list(arg('modes'), MODES, 'mode');
  let variants = list(arg('variants'), VARIANTS, 'variant');
  const total = Number(arg('vectors') ?? (quick ? 6000 : 24_000));
  const rps = Number(arg('rps') ?? 60);
  const latencyMs = Number(arg('latency') ?? 20);
  const noise = Number(arg('noise') ?? 0);
  const repeat = Number(arg('repeat') ?? 1);
  const each = process.argv.includes('--each');
  const timelineFile = arg('timeline');
  const { TimelineSampler } = timelineFile ? await import('./coordination/timeline.js') : {};
  const traceFile = arg('trace');
  if (!(Number.isInteger(repeat) && repeat >= 1)) throw new RangeError('--repeat takes a whole number >= 1');
  if (!(noise >= 0 && noise < 1)) throw new RangeError('--noise takes a share in [0, 1)');
  const requests = Math.ceil(total / BATCH);

  let redis: RedisProcess | undefined;
  if (variants.includes('redis')) {
    if (redisServerPath()) redis = await startRedis();
    else {
      console.log('# redis-server is not installed: the redis variant is left out');
      variants = variants.filter((v) => v !== 'redis');
    }
  }
  const emu = await startEmulatorProcess(7);
  console.log(
    `# bench/coordination.ts ${process.argv.slice(2).join(' ')}`.trimEnd() +
      ` — ${new Date().toISOString()}, node ${process.version}, ${os.cpus().length} cores, ` +
      `load ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
  );
  console.log(
    `# one emulator: token bucket ${rps} req/s, latency ${latencyMs} ms` +
      `${noise > 0 ? `, random 429 on ${(noise * 100).toFixed(0)} %` : ''}; ${total} vectors, batch ${BATCH} ` +
      `(${requests} requests), ${MAX_CONCURRENCY} in flight per process; bound = requests / rps ` +
      `(staggered: or the last start + its share / rps); cold: jobs of ${COLD_JOB} vectors, a fresh client each`,
  );
  console.log(
    '| P | mode | variant | wall | wall ÷ bound | rejected | stored | Redis calls / request | slowest ÷ fastest | notes |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  let run = 0;
  const cells = new Map<string, Figures>();
  try {
    for (const p of processes) {
      for (const mode of modes) {
        for (const variant of variants) {
          const rows: Row[] = [];
          for (let r = 0; r < repeat; r++) {
            run += 1;
            const name = `coord-${run}`;
            const host = await emu.createIndex(name, DIM);
            await emu.setFaults(name, {
              rateLimit: { rps },
              latency: { fixedMs: latencyMs },
              ...(noise > 0 ? { errorRates: { 429: noise } } : {}),
            });
            const config: Omit<WorkerConfig, 'largestJob'> = {
              host,
              variant,
              redisUrl: redis?.url,
              keyPrefix: `bench-${process.pid}-${run}:`,
              dimension: DIM,
              batchSize: BATCH,
              maxConcurrency: MAX_CONCURRENCY,
            };
            const sampler =
              TimelineSampler && timelineFile
                ? new TimelineSampler({
                    file: timelineFile,
                    run,
                    cell: `${p} ${mode} ${variant}`,
                    stats: () => emu.stats(name),
                    redisUrl: variant === 'redis' ? redis?.url : undefined,
                    keyPrefix: config.keyPrefix,
                  })
                : undefined;
            await sampler?.begin();
            let row: Omit<Row, 'stats'>;
            try {
              const trace = traceFile ? { file: traceFile, run, cell: `${p} ${mode} ${variant}` } : undefined;
              row = await scenario(p, mode, variant, config, total, rps, () => sampler?.markStart(), trace);
            } finally {
              await sampler?.stop();
            }
            rows.push({ ...row, stats: await emu.stats(name) });
            if (each && repeat > 1) console.log(`${formatRow([rows.at(-1) as Row]).line} (run ${r + 1})`);
            await emu.deleteIndex(name);
          }
          const { line, figures: cell } = formatRow(rows);
          console.log(line);
          cells.set(`${p} ${mode} ${variant}`, cell);
        }
      }
    }
    printTargets(cells);
  } finally {
    await emu.close();
    await redis?.stop();
  }
}

/** Split `total` vectors into jobs: one per process, or cold jobs of 500. */
function jobsFor(mode: Mode, processes: number, total: number): Job[] {
  const size = mode === 'cold' ? COLD_JOB : Math.ceil(total / processes);
  const jobs: Job[] = [];
  for (let start = 0; start < total; start += size) {
    jobs.push({ idStart: start, vectors: Math.min(size, total - start) });
  }
  return jobs;
}

async function scenario(
  processes: number,
  mode: Mode,
  variant: Variant,
  config: Omit<WorkerConfig, 'largestJob'>,
  total: number,
  rps: number,
  onStart?: () => void,
  trace?: TraceTarget,
): Promise<Omit<Row, 'stats'>> {
  const jobs = jobsFor(mode, processes, total);
  const largestJob = Math.max(...jobs.map((job) => job.vectors));
  const workers = await Promise.all(
    Array.from({ length: processes }, () =>
      Worker.start({ ...config, largestJob, trace: trace !== undefined }, trace),
    ),
  );
  const results: JobResult[] = [];
  onStart?.();
  const t0 = performance.now();
  let wallMs: number;
  try {
    let next = 0;
    await Promise.all(
      workers.map(async (worker, i) => {
        if (mode !== 'cold') {
          if (mode === 'staggered') await new Promise((r) => setTimeout(r, i * STAGGER_MS));
          const job = jobs[i];
          if (job) results.push(await worker.run(job));
          return;
        }
        for (let job = jobs[next++]; job; job = jobs[next++]) results.push(await worker.run(job));
      }),
    );
    wallMs = performance.now() - t0;
  } finally {
    await Promise.all(workers.map((w) => w.close()));
  }
  const requests = Math.ceil(total / BATCH);
  const share = Math.ceil(Math.ceil(total / processes) / BATCH);
  const lastStart = mode === 'staggered' ? (processes - 1) * STAGGER_MS : 0;
  const boundMs = Math.max((requests / rps) * 1000, lastStart + (share / rps) * 1000);
  return { processes, mode, variant, wallMs, boundMs, intended: total, results };
}

await main();
