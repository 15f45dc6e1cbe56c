/**
 * `pinecone-resilient demo`: resilience at work, with no account and no network. It starts
 * the embedded emulator with a token-bucket rate limit, creates an index through the SDK,
 * bulk-upserts a seeded synthetic data set through the SDK (progress bar), queries it, and
 * prints a summary: wall time, vectors/s, requests the emulator rejected, the adaptive
 * limiter's transitions, and wall time ÷ the emulator's admitted-rate lower bound. It also
 * writes the run's timeline as a self-contained HTML report.
 *
 * `--loaders N` splits the load between N loaders at once, each its own client (its own
 * adaptive limiter, as N processes would have): alone each learns the limit and collides
 * with the others; with `--redis <url>` they share one budget through Redis.
 */

import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { Pinecone } from '../client.js';
import type { UpsertProgress } from '../data/index.js';
import { type LocalServer, startLocalServer } from '../local/server.js';
import type { IndexStatsSnapshot } from '../local/stats.js';
import { resolveLogger } from '../log.js';
import { seededRandom } from '../resilience/clock.js';
import { type LowerBound, lowerBound } from './bound.js';
import { type DataPlane, exitCodeFor, grpcIndex, intOption, positiveNumberOption } from './common.js';
import { coordinatorFor } from './coordination.js';
import { EXIT } from './exit.js';
import { formatNumber, formatSeconds, keyValueTable } from './format.js';
import { describeError } from './hints.js';
import { ProgressView } from './progress.js';
import { writeReport } from './report.js';
import { syntheticVectors } from './synthetic.js';
import { TimelineRecorder } from './timeline.js';
import { type Verification, verifyDemoIndex } from './verify.js';

/** Flags of `demo`. */
export interface DemoFlags {
  vectors: number;
  dimension: number;
  rps: number;
  burst?: number;
  maxConcurrency: number;
  batchSize: number;
  latencyMs: number;
  maxRetries: number;
  grpc: boolean;
  report: string | false;
  seed: number;
  progressInterval: number;
  /** Loaders at once, each its own client (default 1). */
  loaders?: number;
  /** Share the loaders' limits through this Redis (`--redis`, or env `PINECONE_REDIS_URL`). */
  redis?: string;
}

/** Name of the index the demo creates. */
export const DEMO_INDEX = 'demo';

/** What a demo run measured (also what the summary and the report show). */
export interface DemoFigures {
  seconds: number;
  vectorsPerSecond: number;
  requestsNeeded: number;
  /** The least time the emulator's settings allow, and whether its limit was reached. */
  bound: LowerBound;
  /** Wall time ÷ `bound.seconds`. */
  ratio: number;
  server: IndexStatsSnapshot['requests'];
  throttledSeen: number;
  decreases: number;
  increases: number;
  finalLimit: number;
  verification: Verification;
  /** Each loader's upsert time (s), in loader order. */
  loaderSeconds: number[];
}

/** Run the demo; returns the exit code. */
export async function runDemo(flags: DemoFlags): Promise<number> {
  const totalStart = performance.now();
  const loaders = flags.loaders ?? 1;
  // A bad --redis is a usage error before anything starts. One fleet per run: nothing an
  // earlier demo learned carries over. Each loader its own connection, as a process would.
  const keyPrefix = `pinecone-resilient-demo:${process.pid}-${Date.now()}:`;
  const coordinators = Array.from({ length: loaders }, () => coordinatorFor(flags.redis, { keyPrefix }));
  const server = await startLocalServer({ port: 0, seed: flags.seed });
  const recorder = new TimelineRecorder();
  const envLogger = process.env.PINECONE_LOG_LEVEL ? resolveLogger(undefined) : undefined;
  const clients = Array.from(
    { length: loaders },
    (_, i) =>
      new Pinecone({
        apiKey: 'pinecone-resilient-demo',
        controllerHost: server.controllerHost,
        logger: recorder.logger(envLogger),
        retryConfig: { maxRetries: flags.maxRetries },
        random: seededRandom(flags.seed + i),
        coordination: coordinators[i],
      }),
  );
  const pc = clients[0] as Pinecone;
  const controller = new AbortController();
  const onSigint = () => controller.abort(new Error('interrupted (SIGINT)'));
  process.once('SIGINT', onSigint);
  try {
    await pc.createIndex({ name: DEMO_INDEX, dimension: flags.dimension, metric: 'cosine' });
    const indexes: DataPlane[] = await Promise.all(
      clients.map((client) =>
        flags.grpc
          ? grpcIndex(client, server.grpcHost(DEMO_INDEX), flags.maxRetries)
          : client.index({ name: DEMO_INDEX }),
      ),
    );
    const index = indexes[0] as DataPlane;
    await server.setFaults(DEMO_INDEX, {
      // A bucket of one second's tokens: the plain reading of "R requests per second".
      rateLimit: { rps: flags.rps, burst: demoBurst(flags) },
      latency: flags.latencyMs > 0 ? { fixedMs: flags.latencyMs, jitterMs: flags.latencyMs / 2 } : null,
    });
    const limitSetAt = performance.now();
    const requestsNeeded = Math.ceil(flags.vectors / flags.batchSize);
    printIntro(flags, server, requestsNeeded, loaders);

    const view = new ProgressView({
      total: flags.vectors,
      intervalMs: flags.progressInterval,
      label: 'demo',
    });
    const idle: UpsertProgress = { upserted: 0, inFlight: 0, limit: 0, throttled: 0 };
    // Each loader's latest progress; the bar and the timeline show their sum.
    const progress: UpsertProgress[] = indexes.map(() => idle);
    let last = idle;
    server.resetStats(DEMO_INDEX);
    const wallStart = Date.now();
    recorder.start(200);
    const idleSeconds = (performance.now() - limitSetAt) / 1000;
    const started = performance.now();
    const loaderSeconds: number[] = indexes.map(() => 0);
    view.start();
    let upserted = 0;
    try {
      const counts = await Promise.all(
        indexes.map(async (loader, i) => {
          const { upsertedCount } = await loader.upsert({
            // Loader i's share of the data set: records i, i + loaders, ...
            vectors: syntheticVectors(flags.vectors, flags.dimension, flags.seed, i, loaders),
            batchSize: flags.batchSize,
            maxConcurrency: flags.maxConcurrency,
            signal: controller.signal,
            onProgress: (p) => {
              progress[i] = p;
              last = sumProgress(progress);
              view.update(last);
              recorder.observe(last);
            },
          });
          loaderSeconds[i] = (performance.now() - started) / 1000;
          return upsertedCount;
        }),
      ).catch((error: unknown) => {
        // One loader failed: stop the others (their accounting is in their own errors).
        controller.abort(error);
        throw error;
      });
      upserted = counts.reduce((a, b) => a + b, 0);
    } finally {
      recorder.stop();
      view.stop();
    }
    const seconds = recorder.elapsed();
    const snapshot = server.stats(DEMO_INDEX);
    const verification = await verifyDemoIndex(index, flags, controller.signal);
    const bound = lowerBound(
      {
        ...flags,
        // The loaders' ceilings add up: the client side carries that many in flight.
        maxConcurrency: flags.maxConcurrency * loaders,
        requests: requestsNeeded,
        burst: demoBurst(flags),
        idleSeconds,
      },
      snapshot.requests.throttled,
    );
    const figures: DemoFigures = {
      seconds,
      vectorsPerSecond: upserted / seconds,
      requestsNeeded,
      bound,
      ratio: seconds / bound.seconds,
      server: snapshot.requests,
      throttledSeen: last.throttled,
      decreases: recorder.decreases,
      increases: recorder.increases,
      finalLimit: last.limit,
      verification,
      loaderSeconds,
    };
    const rows = summaryRows(flags, figures, (performance.now() - totalStart) / 1000);
    process.stdout.write(`\n${keyValueTable('Demo summary', rows)}\n`);
    if (flags.report !== false) {
      const path = resolve(flags.report);
      await writeReport(path, {
        title: `pinecone-resilient demo: ${formatNumber(flags.vectors)} vectors into a rate-limited emulator (${flags.rps} req/s)`,
        command: demoCommand(flags),
        generatedAt: new Date(wallStart).toISOString(),
        summary: rows,
        timeline: recorder.timeline(),
        ceiling: flags.maxConcurrency,
        boundVectorsPerSecond: Number.isFinite(bound.vectorsPerSecond) ? bound.vectorsPerSecond : undefined,
        boundLabel: bound.label,
      });
      process.stdout.write(`\nReport: ${path}\n`);
    }
    if (!verification.ok) {
      process.stderr.write(`error: verification failed: ${verification.problems.join('; ')}\n`);
      return EXIT.failed;
    }
    return EXIT.ok;
  } catch (error) {
    const code = exitCodeFor(error);
    process.stderr.write(code === EXIT.interrupted ? '\nInterrupted.\n' : `error: ${describeError(error)}\n`);
    return code;
  } finally {
    process.off('SIGINT', onSigint);
    await Promise.all(clients.map((client) => client.close()));
    await server.close();
  }
}

/** Several loaders' progress as one: counts summed; the limit is the sum of their limits. */
function sumProgress(all: readonly UpsertProgress[]): UpsertProgress {
  return all.reduce((a, p) => ({
    upserted: a.upserted + p.upserted,
    inFlight: a.inFlight + p.inFlight,
    limit: a.limit + p.limit,
    throttled: a.throttled + p.throttled,
  }));
}

/** The token bucket's size: `--burst`, else one second of `--rps`. */
function demoBurst(flags: DemoFlags): number {
  return flags.burst ?? Math.max(1, Math.round(flags.rps));
}

function printIntro(flags: DemoFlags, server: LocalServer, requests: number, loaders: number): void {
  const who =
    loaders === 1
      ? `at most ${flags.maxConcurrency} in flight (the adaptive limiter tunes below that)`
      : `${loaders} loaders at once, each its own client with at most ${flags.maxConcurrency} in flight, ` +
        (flags.redis
          ? 'sharing one budget through Redis'
          : 'each learning the limit alone (add --redis to share it)');
  process.stdout.write(
    `Local emulator on ${server.controllerHost}: index "${DEMO_INDEX}" (dimension ${flags.dimension}, cosine), ` +
      `rate limit ${flags.rps} requests/s (burst ${demoBurst(flags)})${flags.latencyMs > 0 ? `, latency ${flags.latencyMs} ms + up to ${flags.latencyMs / 2} ms` : ''}.\n` +
      `Upserting ${formatNumber(flags.vectors)} vectors in ${formatNumber(requests)} batches of ${flags.batchSize} over ` +
      `${flags.grpc ? 'gRPC' : 'REST'}, ${who}.\n`,
  );
}

/** The summary table's rows. */
export function summaryRows(flags: DemoFlags, f: DemoFigures, totalSeconds: number): [string, string][] {
  const rejectedShare = f.server.total > 0 ? (f.server.rejected * 100) / f.server.total : 0;
  const v = f.verification;
  return [
    [
      'Vectors',
      `${formatNumber(flags.vectors)} × ${flags.dimension} dims, ${formatNumber(f.requestsNeeded)} batches of ${flags.batchSize}`,
    ],
    [
      'Transport, ceiling',
      `${flags.grpc ? 'gRPC' : 'REST'}, --max-concurrency ${flags.maxConcurrency}, maxRetries ${flags.maxRetries}`,
    ],
    ...loaderRows(flags, f),
    ['Wall time (upsert)', formatSeconds(f.seconds)],
    ['Throughput', `${formatNumber(f.vectorsPerSecond)} vectors/s`],
    ['Lower bound', `${formatSeconds(f.bound.seconds)}, ${f.bound.kind}: ${f.bound.detail}`],
    [
      'Wall time ÷ lower bound',
      f.bound.binding && f.bound.seconds > 0
        ? `${f.ratio.toFixed(2)}×`
        : 'not shown: the emulator throttled nothing, so its rate limit never bound; the client side set the pace (round trips, slow start, CPU)',
    ],
    [
      'Requests to the emulator',
      `${formatNumber(f.server.total)} (${formatNumber(f.server.accepted)} accepted)`,
    ],
    [
      'Requests rejected',
      `${formatNumber(f.server.rejected)} (${rejectedShare.toFixed(1)} %; ${formatNumber(f.server.throttled)} throttled with ${flags.grpc ? 'RESOURCE_EXHAUSTED' : '429'})`,
    ],
    ['Throttled responses seen by SDK', formatNumber(f.throttledSeen)],
    [
      'Limiter transitions',
      `${f.decreases} decreases, ${f.increases} increases (limit at the end: ${f.finalLimit})`,
    ],
    ['Stored (describeIndexStats)', `${formatNumber(v.stored)} of ${formatNumber(flags.vectors)}`],
    ['Queries', v.summary],
    ['Total demo time', formatSeconds(totalSeconds)],
  ];
}

/** With several loaders: how they shared the limit and how far apart they finished. */
function loaderRows(flags: DemoFlags, f: DemoFigures): [string, string][] {
  const times = f.loaderSeconds;
  if (times.length < 2) return [];
  const fastest = Math.min(...times);
  const slowest = Math.max(...times);
  return [
    [
      'Loaders',
      `${times.length} at once, ${flags.redis ? 'one budget shared through Redis (--redis)' : 'each learning the limit alone (no --redis)'}`,
    ],
    [
      'Loaders finished',
      `fastest ${formatSeconds(fastest)}, slowest ${formatSeconds(slowest)} (${(slowest / Math.max(fastest, 1e-9)).toFixed(2)}×)`,
    ],
  ];
}

function demoCommand(flags: DemoFlags): string {
  const loaders = flags.loaders ?? 1;
  return (
    `pinecone-resilient demo --vectors ${flags.vectors} --dimension ${flags.dimension} --rps ${flags.rps} ` +
    `--max-concurrency ${flags.maxConcurrency} --batch-size ${flags.batchSize} --latency-ms ${flags.latencyMs} ` +
    `--burst ${demoBurst(flags)} ` +
    `--seed ${flags.seed}${flags.grpc ? ' --grpc' : ''}${loaders > 1 ? ` --loaders ${loaders}` : ''}` +
    // The URL may carry a password: the report names the flag only.
    `${flags.redis ? ' --redis <url>' : ''}`
  );
}

/** Register `demo` on the program. */
export function registerDemo(program: Command, done: (code: number) => void): Command {
  return program
    .command('demo')
    .summary('see adaptive concurrency at work against a throttled local emulator (no account needed)')
    .description(
      'Start the embedded emulator with a token-bucket rate limit, create an index, bulk-upsert a seeded ' +
        'synthetic data set through the SDK with a progress bar, query it, and print a summary: wall time, ' +
        'vectors/s, requests rejected, adaptive-limiter transitions, and wall time ÷ the lower bound the ' +
        "emulator's admitted rate imposes. Writes the run's timeline to an HTML report. No network needed.",
    )
    .option('--vectors <n>', 'vectors to upsert', intOption(1, 10_000_000), 20_000)
    .option('--dimension <d>', 'dimension of the vectors', intOption(1, 20_000), 128)
    .option(
      '--rps <r>',
      "the emulator's admitted rate: upsert requests per second (token bucket)",
      positiveNumberOption,
      20,
    )
    .option('--burst <n>', 'token-bucket size (default: one second of tokens, i.e. --rps)', intOption(1))
    .option(
      '--max-concurrency <c>',
      'ceiling on requests in flight; the adaptive limiter tunes below it',
      intOption(1, 256),
      16,
    )
    .option('--batch-size <n>', 'vectors per request', intOption(1, 1000), 100)
    .option(
      '--latency-ms <ms>',
      'latency the emulator adds to each request (plus up to half of it at random)',
      intOption(0, 10_000),
      100,
    )
    .option('--max-retries <n>', 'retries per batch', intOption(0, 20), 5)
    .option('--grpc', 'upsert over gRPC instead of REST', false)
    .option('--report <file>', 'write the HTML timeline report here', 'run.html')
    .option('--no-report', 'do not write a report')
    .option(
      '--seed <s>',
      'seed of the data set, the jitter and the emulator faults',
      intOption(0, 2 ** 32 - 1),
      42,
    )
    .option('--progress-interval <ms>', 'without a terminal: ms between progress lines', intOption(100), 2000)
    .option(
      '--loaders <n>',
      'split the load between this many loaders at once, each its own client (as separate processes would be)',
      intOption(1, 64),
      1,
    )
    .addOption(
      new Option(
        '--redis <url>',
        'the loaders share one budget through this Redis (redis://host:port; needs the package @redis/client)',
      ).env('PINECONE_REDIS_URL'),
    )
    .addHelpText(
      'after',
      `
Examples:
  $ pinecone-resilient demo                                  # 20,000 × 128 at 20 req/s; writes run.html
  $ pinecone-resilient demo --vectors 50000 --rps 40 --max-concurrency 32 --report big.html
  $ pinecone-resilient demo --grpc --seed 7
  $ pinecone-resilient demo --loaders 4                      # four loaders, each learning the limit alone
  $ pinecone-resilient demo --loaders 4 --redis redis://127.0.0.1:6379   # the same four, one shared budget
  $ npm run demo                                             # from a clone: build, then the demo`,
    )
    .action(async (flags: DemoFlags) => done(await runDemo(flags)));
}
