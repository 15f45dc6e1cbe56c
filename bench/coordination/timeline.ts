/**
 * `--timeline FILE` of `bench/coordination.ts`: while each run goes, every 50 ms, what the
 * emulator counted (requests answered so far, refused among them, in flight) and, in a
 * coordinated run, the fleet's state in Redis (its rate, knee, event, trial, limit), one
 * JSON line per sample appended to FILE, times in ms from the run's start (when the jobs
 * are handed to the workers, started and ready before it). Sampling costs the machine two
 * loopback calls per sample beside the run; the figures of a run sampled are not the
 * table's.
 *
 * Read a file back as a table per run, one row per `--every` ms (default 100), with the
 * requests per second and refusals in each interval beside the fleet's state at its end:
 *
 *   npx tsx bench/coordination/timeline.ts FILE [--run N] [--every 100] [--until 3000]
 *
 * It shows what the table's figures cannot: when the fleet's events came, where its rate
 * stood against the bucket, how long a trial held it, when the refusals came.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createClient } from '@redis/client';
import type { IndexStatsSnapshot } from '../../src/local.js';
import { arg } from '../cli-table.js';

/** One sample as written to the file. */
export interface TimelineSample {
  /** Run number of the bench invocation, and its cell. */
  run: number;
  cell: string;
  /** ms since the run's start. */
  t: number;
  /** Requests the emulator answered so far, refused among them, in flight now. */
  total: number;
  rejected: number;
  inFlight: number;
  /** The fleet's hash (decimal strings as stored; see src/coordination/scripts.ts), `{}` when none. */
  fleet: Record<string, string>;
}

/** Samples one run until {@link stop}. */
export class TimelineSampler {
  readonly #file: string;
  readonly #run: number;
  readonly #cell: string;
  readonly #stats: () => Promise<IndexStatsSnapshot>;
  readonly #redis: ReturnType<typeof createClient> | undefined;
  readonly #keyPrefix: string | undefined;
  /** The fleet's hash key, once the run's first reservation made it. */
  #key: string | undefined;
  #start = 0;
  #stopped = false;
  #loop: Promise<void> | undefined;

  constructor(options: {
    file: string;
    run: number;
    cell: string;
    stats: () => Promise<IndexStatsSnapshot>;
    redisUrl?: string | undefined;
    keyPrefix?: string | undefined;
  }) {
    this.#file = options.file;
    this.#run = options.run;
    this.#cell = options.cell;
    this.#stats = options.stats;
    this.#keyPrefix = options.keyPrefix;
    this.#redis = options.redisUrl ? createClient({ url: options.redisUrl }) : undefined;
  }

  /** Connect to Redis (before the run, so the run does not wait for it). */
  async begin(): Promise<void> {
    await this.#redis?.connect();
  }

  /** The run starts now: sample from here, times counted from here. */
  markStart(): void {
    this.#start = performance.now();
    this.#loop ??= this.#sample();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
    await this.#redis?.quit();
  }

  async #sample(): Promise<void> {
    while (!this.#stopped) {
      const at = performance.now();
      const [stats, fleet] = await Promise.all([this.#stats(), this.#fleet()]);
      const sample: TimelineSample = {
        run: this.#run,
        cell: this.#cell,
        t: Math.round(at - this.#start),
        total: stats.requests.total,
        rejected: stats.requests.rejected,
        inFlight: stats.inFlight.current,
        fleet,
      };
      appendFileSync(this.#file, `${JSON.stringify(sample)}\n`);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 50 - (performance.now() - at))));
    }
  }

  /**
   * The fleet's hash of the run's host: the one key under the run's own prefix (its event
   * channel is no key), looked up until it exists, then read by name.
   */
  async #fleet(): Promise<Record<string, string>> {
    if (!this.#redis || this.#keyPrefix === undefined) return {};
    this.#key ??= (await this.#redis.keys(`${this.#keyPrefix}*`))[0];
    return this.#key ? await this.#redis.hGetAll(this.#key) : {};
  }
}

/** A file's samples as tables, one per run (see the module's header). */
export function renderTimeline(
  samples: readonly TimelineSample[],
  options: { run?: number; everyMs?: number; untilMs?: number } = {},
): string {
  const every = options.everyMs ?? 100;
  const runs = new Map<number, TimelineSample[]>();
  for (const s of samples) {
    if (options.run !== undefined && s.run !== options.run) continue;
    runs.set(s.run, [...(runs.get(s.run) ?? []), s]);
  }
  const lines: string[] = [];
  const fixed = (value: string | undefined) => (value === undefined ? '-' : Number(value).toFixed(1));
  for (const [run, list] of runs) {
    lines.push(`run ${run}: ${list[0]?.cell ?? ''}`);
    lines.push('| t (ms) | requests/s | refused | in flight | event | rate | knee | trial | limit |');
    lines.push('|---|---|---|---|---|---|---|---|---|');
    let prev: TimelineSample | undefined;
    for (const s of list) {
      if (options.untilMs !== undefined && s.t > options.untilMs) break;
      if (prev && s.t - prev.t < every) continue;
      const dt = prev ? Math.max(1, s.t - prev.t) : 0;
      const rate = prev ? ((s.total - prev.total) * 1000) / dt : 0;
      const refused = prev ? s.rejected - prev.rejected : s.rejected;
      const f = s.fleet;
      const trial = f.trial === undefined ? '-' : `${f.trial} (${f.trial_n ?? 0}/${f.trial_t ?? 0})`;
      lines.push(
        `| ${s.t} | ${prev ? rate.toFixed(0) : '-'} | ${refused} (${s.rejected}) | ${s.inFlight} | ${f.event ?? '-'} | ${fixed(f.rate)} | ${fixed(f.knee)} | ${trial} | ${f.limit ?? '-'} |`,
      );
      prev = s;
    }
    lines.push('');
  }
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (!file || file.startsWith('--')) {
    console.error('usage: npx tsx bench/coordination/timeline.ts FILE [--run N] [--every 100] [--until ms]');
    process.exit(2);
  }
  const samples = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as TimelineSample);
  const num = (value: string | undefined) => (value === undefined ? undefined : Number(value));
  console.log(
    renderTimeline(samples, {
      run: num(arg('run')),
      everyMs: num(arg('every')),
      untilMs: num(arg('until')),
    }),
  );
}
