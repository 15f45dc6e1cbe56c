/**
 * `pinecone-resilient upsert`: load a file of records into an index through the SDK's
 * bulk upsert (batches in parallel under the adaptive limiter), streaming the file so
 * memory stays bounded, with a progress display.
 *
 * It never loses track of a record. When the load stops early (a request failed after
 * its retries, a line of the file could not be read, or Ctrl-C), every record not
 * confirmed written goes to a resume file (the SDK's `error.failedVectors`, then the part
 * of the file never read) and the exact command that finishes the load is printed.
 */
import { type Command, Option } from 'commander';
import type { UpsertProgress } from '../data/index.js';
import type { PineconeError } from '../errors.js';
import {
  addTargetOptions,
  apiKeyFromEnv,
  exitCodeFor,
  intOption,
  openTarget,
  positiveNumberOption,
  type TargetFlags,
} from './common.js';
import { coordinatorFor } from './coordination.js';
import { CliError, EXIT } from './exit.js';
import { formatNumber, formatSeconds } from './format.js';
import { describeError } from './hints.js';
import { type InputFormat, VectorSource } from './input.js';
import { ProgressView } from './progress.js';
import { commandLine, defaultResumePath, invokedAs, writeResumeFile } from './resume.js';

/** Flags of `upsert`. */
export interface UpsertFlags extends TargetFlags {
  file: string;
  format?: InputFormat;
  idPrefix?: string;
  namespace?: string;
  batchSize: number;
  maxConcurrency: number;
  maxRetries: number;
  timeout?: number;
  resumeFile?: string;
  progressInterval: number;
  /** Share the adaptive limits with other loaders through this Redis (`--redis`). */
  redis?: string;
  /** Bound of each Redis call in seconds (`--redis-timeout`); the coordinator's default when absent. */
  redisTimeout?: number;
}

/** Load the file; returns the exit code (see `EXIT` in common.ts). */
export async function runUpsert(flags: UpsertFlags, controllerHostFromCli = false): Promise<number> {
  apiKeyFromEnv(); // the first thing a user must fix, so the first thing checked
  const coordination = coordinatorFor(flags.redis, { timeout: flags.redisTimeout });
  const source = await VectorSource.open(flags.file, { format: flags.format, idPrefix: flags.idPrefix });
  const { pc, index } = await openTarget(flags, {
    maxRetries: flags.maxRetries,
    timeout: flags.timeout,
    coordination,
  }).catch(async (error: unknown) => {
    await coordination?.dispose();
    await source.close();
    throw error;
  });
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) process.exit(EXIT.interrupted);
    process.stderr.write(
      '\nInterrupted: cancelling requests in flight and writing the resume file (Ctrl-C again to quit at once).\n',
    );
    controller.abort(new Error('interrupted (SIGINT)'));
  };
  const view = new ProgressView({ intervalMs: flags.progressInterval });
  let last: UpsertProgress = { upserted: 0, inFlight: 0, limit: 0, throttled: 0 };
  try {
    // One cheap call first: checks host and key before the file is read, and gives the
    // dimension, so a record of the wrong length is reported by its line number.
    const stats = await index.describeIndexStats({ timeout: flags.timeout });
    source.expectDimension(stats.dimension);
    void source.count().then(
      (n) => {
        if (!controller.signal.aborted) view.setTotal(n);
      },
      () => undefined,
    );
    process.on('SIGINT', onSigint);
    // Connect before the progress display starts, so a warning (if any) reads cleanly.
    await coordination?.ready();
    const started = performance.now();
    view.start();
    try {
      const result = await index.upsert({
        vectors: source,
        namespace: flags.namespace,
        batchSize: flags.batchSize,
        maxConcurrency: flags.maxConcurrency,
        timeout: flags.timeout,
        signal: controller.signal,
        onProgress: (p) => {
          last = p;
          view.update(p);
        },
      });
      view.update({ ...last, upserted: result.upsertedCount, inFlight: 0 });
      // The line count is an estimate (blank lines); now the true total is known.
      view.setTotal(result.upsertedCount);
      view.stop();
      const seconds = (performance.now() - started) / 1000;
      if (source.error)
        return await stoppedAtBadRecord(source, flags, result.upsertedCount, controllerHostFromCli);
      process.stdout.write(
        `Upserted ${formatNumber(result.upsertedCount)} vectors in ${formatSeconds(seconds)} ` +
          `(${formatNumber(result.upsertedCount / Math.max(seconds, 1e-9))} vectors/s)` +
          `${flags.namespace ? ` into namespace "${flags.namespace}"` : ''}. ` +
          `Throttled responses: ${formatNumber(last.throttled)}; adaptive limit at the end: ${last.limit} (ceiling ${flags.maxConcurrency}).\n`,
      );
      return EXIT.ok;
    } catch (error) {
      view.stop();
      return await failed(error as PineconeError, source, flags, controllerHostFromCli);
    }
  } finally {
    process.off('SIGINT', onSigint);
    await source.close();
    await pc.close();
  }
}

/** The upsert threw: write the resume file and say how to finish. */
async function failed(
  error: PineconeError,
  source: VectorSource,
  flags: UpsertFlags,
  controllerHostFromCli: boolean,
): Promise<number> {
  const code = exitCodeFor(error);
  const what = code === EXIT.interrupted ? 'Interrupted' : `error: ${describeError(error)}`;
  process.stderr.write(`${what}\n`);
  if (error.failedVectors === undefined) {
    if (source.taken === 0) {
      process.stderr.write('Nothing was written.\n');
      return code;
    }
    // Not from the bulk path, so nothing says which records were confirmed. Upserts are
    // idempotent by id: loading the whole file again is safe.
    process.stderr.write(
      `It is unknown which records were written; run the same command again (upserts are idempotent).\n`,
    );
    return code;
  }
  const written = error.upsertedCount ?? 0;
  const summary = await writeResume(source, error.failedVectors, flags);
  process.stderr.write(
    `${formatNumber(written)} vectors were written (confirmed). ` +
      (summary.failed + summary.unread === 0
        ? 'Nothing is left to load.\n'
        : `The other ${formatNumber(summary.failed + summary.unread)} are in ${summary.path} ` +
          `(${formatNumber(summary.failed)} not confirmed written, ${formatNumber(summary.unread)} not yet read from ${flags.file}).\n`),
  );
  if (source.error) process.stderr.write(`Reading had also stopped: ${source.error.message}\n`);
  if (summary.failed + summary.unread > 0) printResume(flags, summary.path, controllerHostFromCli);
  return code;
}

/** Reading stopped at a record that could not be read; everything before it is written. */
async function stoppedAtBadRecord(
  source: VectorSource,
  flags: UpsertFlags,
  written: number,
  controllerHostFromCli: boolean,
): Promise<number> {
  const bad = source.error as NonNullable<VectorSource['error']>;
  process.stderr.write(`error: ${bad.message}\n`);
  const summary = await writeResume(source, [], flags);
  const where = source.format === 'npy' ? `row ${bad.position}` : `line ${bad.position}`;
  process.stderr.write(
    `${formatNumber(written)} vectors were written: every record before ${where}. ` +
      `Reading stopped there; ${
        source.format === 'jsonl'
          ? `that line (now line 1 of ${summary.path}: fix it there) and the ${formatNumber(summary.unread - 1)} after it`
          : `the ${formatNumber(summary.unread)} records after it (the bad one is left out)`
      } are in ${summary.path}.\n`,
  );
  if (summary.unread > 0) printResume(flags, summary.path, controllerHostFromCli);
  return EXIT.usage;
}

async function writeResume(
  source: VectorSource,
  failedVectors: Parameters<typeof writeResumeFile>[1],
  flags: UpsertFlags,
) {
  const path = flags.resumeFile ?? defaultResumePath(flags.file);
  try {
    return await writeResumeFile(path, failedVectors, source.rest());
  } catch (error) {
    throw new CliError(`could not write the resume file ${path}: ${(error as Error).message}`, EXIT.failed);
  }
}

/** Print the command that finishes the load from the resume file. */
function printResume(flags: UpsertFlags, resumePath: string, controllerHostFromCli: boolean): void {
  const words = ['upsert'];
  if (flags.host) words.push('--host', flags.host);
  if (flags.index) words.push('--index', flags.index);
  if (flags.controllerHost && controllerHostFromCli) words.push('--controller-host', flags.controllerHost);
  if (flags.grpc) words.push('--grpc');
  words.push('--file', resumePath);
  if (flags.namespace !== undefined) words.push('--namespace', flags.namespace);
  words.push('--batch-size', String(flags.batchSize), '--max-concurrency', String(flags.maxConcurrency));
  words.push('--max-retries', String(flags.maxRetries));
  if (flags.timeout !== undefined) words.push('--timeout', String(flags.timeout));
  // Typed on the command line (not only in PINECONE_REDIS_URL, which the resume run reads anyway).
  if (flags.redis && flags.redis !== process.env.PINECONE_REDIS_URL) words.push('--redis', flags.redis);
  if (flags.redis && flags.redisTimeout !== undefined)
    words.push('--redis-timeout', String(flags.redisTimeout));
  process.stderr.write(`Resume with:\n  ${commandLine(invokedAs(), words)}\n`);
}

/** Register `upsert` on the program. */
export function registerUpsert(program: Command, done: (code: number) => void): Command {
  const command = program
    .command('upsert')
    .summary('bulk-load a JSON Lines, CSV or .npy file into an index')
    .description(
      'Stream records from a file into an index: batches go out in parallel under the adaptive ' +
        'concurrency limiter (which backs off when the server throttles), with retries per batch. ' +
        'On failure or Ctrl-C, every record not confirmed written goes to a resume file and the ' +
        'command that finishes the load is printed. The API key comes from PINECONE_API_KEY.\n\n' +
        'JSON Lines: one {"id": "...", "values": [...], "sparseValues": {...}, "metadata": {...}} per line.\n\n' +
        'CSV: a header row with "id" and "values" (numbers separated by spaces or ";", or a JSON array), ' +
        'an optional "metadata" JSON column; other columns become string metadata.\n\n' +
        '.npy: a 2-D float32/float64 array; row i gets the id <id-prefix><i>.',
    );
  addTargetOptions(command)
    .requiredOption('-f, --file <path>', 'records to load (.jsonl / .ndjson, .csv or .npy)')
    .option('--format <format>', 'jsonl, csv or npy (default: from the file extension)')
    .option('--id-prefix <prefix>', '.npy only: ids are <prefix><row number>', '')
    .option('-n, --namespace <namespace>', 'namespace to write to (default: the default namespace)')
    .option(
      '--batch-size <n>',
      'records per request (1..1000; requests also stay under 2 MB)',
      intOption(1, 1000),
      100,
    )
    .option(
      '--max-concurrency <n>',
      'ceiling on requests in flight; the adaptive limiter tunes below it',
      intOption(1, 256),
      8,
    )
    .option('--max-retries <n>', 'retries per batch (0 = a single attempt)', intOption(0, 20), 3)
    .option('--timeout <seconds>', 'per-attempt timeout in seconds (default 30)', positiveNumberOption)
    .option(
      '--resume-file <path>',
      'where to write the records not written (default: <file>.resume.jsonl beside the input)',
    )
    .option('--progress-interval <ms>', 'without a terminal: ms between progress lines', intOption(100), 2000)
    .addOption(
      new Option(
        '--redis <url>',
        'share the adaptive limits with every loader given the same Redis (redis://host:port); ' +
          'needs the package @redis/client; if Redis is away the load goes on with per-process limits',
      ).env('PINECONE_REDIS_URL'),
    )
    .option(
      '--redis-timeout <seconds>',
      'bound of each Redis call; past it the loader goes on alone until Redis answers again (default 0.05)',
      positiveNumberOption,
    )
    .addHelpText(
      'after',
      `
Exit codes:
  0    every record written
  1    a request failed after its retries (throttling, server or network errors): resume file written
  2    usage or input error: bad flags, no API key, unknown index, a line that cannot be read
       (everything before it is written; it and the rest are in the resume file)
  130  interrupted by Ctrl-C: resume file written

Examples:
  $ export PINECONE_API_KEY=...
  $ pinecone-resilient upsert --host my-index-abc123.svc.pinecone.io --file embeddings.jsonl
  $ pinecone-resilient upsert --index products --file products.csv --namespace v2 --max-concurrency 16
  $ pinecone-resilient upsert --host http://127.0.0.1:5081 --file vectors.npy --id-prefix doc- --grpc
  $ pinecone-resilient upsert --host my-index-abc123.svc.pinecone.io --file embeddings.resume.jsonl   # finish a load
  $ pinecone-resilient upsert --host my-index-abc123.svc.pinecone.io --file part-1.jsonl --redis redis://127.0.0.1:6379 &
  $ pinecone-resilient upsert --host my-index-abc123.svc.pinecone.io --file part-2.jsonl --redis redis://127.0.0.1:6379   # one shared budget`,
    )
    .action(async (flags: UpsertFlags, cmd: Command) => {
      if (flags.format !== undefined && !['jsonl', 'csv', 'npy'].includes(flags.format)) {
        throw new CliError(`--format must be jsonl, csv or npy; got ${JSON.stringify(flags.format)}`);
      }
      done(await runUpsert(flags, cmd.getOptionValueSource('controllerHost') === 'cli'));
    });
  return command;
}
