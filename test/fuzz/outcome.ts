/**
 * What the response fuzzers share: running one call within a bound, the rules every
 * outcome keeps whatever the response (a typed error or a result, never the API key
 * shown), the tally a run reports, and the watch for unhandled rejections.
 */
import { inspect } from 'node:util';
import fc from 'fast-check';
import type { IndexDataPlane } from '../../src/data/data-plane.js';
import {
  AbortError,
  ApiError,
  ConnectionError,
  PineconeError,
  TimeoutError,
  ValidationError,
} from '../../src/errors.js';
import type { CaseScripts } from '../helpers/case-scripts.js';
import type { InstantClock } from '../helpers/clocks.js';
import type { Op } from './ops.js';

/** How one call ended. */
export type Outcome =
  | { kind: 'result'; value: unknown; ms: number }
  | { kind: 'error'; error: unknown; ms: number }
  | { kind: 'hung'; ms: number };

/** Run `call`, giving up (as `hung`) after `boundMs`. */
export async function bounded(call: () => Promise<unknown>, boundMs: number): Promise<Outcome> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((resolve) => {
    timer = setTimeout(() => resolve('hung'), boundMs);
  });
  try {
    const settled = await Promise.race([
      call().then(
        (value) => ({ kind: 'result' as const, value }),
        (error: unknown) => ({ kind: 'error' as const, error }),
      ),
      hung,
    ]);
    const ms = performance.now() - started;
    return settled === 'hung' ? { kind: 'hung', ms } : { ...settled, ms };
  } finally {
    clearTimeout(timer);
  }
}

/** The SDK's typed error classes a call may end in (never the bare base class). */
const TYPED = [ApiError, ConnectionError, TimeoutError, ValidationError, AbortError];

/**
 * The rules every outcome keeps: it settled; an error is a typed `PineconeError` subclass
 * whose message, stack and inspection never show `apiKey`. Returns what broke, if anything.
 */
export function judgeCommon(outcome: Outcome, apiKey: string): string | undefined {
  if (outcome.kind === 'hung') return `no answer within ${Math.round(outcome.ms)} ms`;
  if (outcome.kind === 'result') return undefined;
  const { error } = outcome;
  if (!(error instanceof PineconeError)) return `an untyped error: ${describeError(error)}`;
  if (!TYPED.some((Cls) => error instanceof Cls)) return `a bare PineconeError: ${describeError(error)}`;
  const shown = `${error.message}\n${error.stack}\n${inspect(error, { depth: 6 })}`;
  if (shown.includes(apiKey)) return `the API key shows in the error: ${describeError(error)}`;
  return undefined;
}

/** `Name: message` of an error, short. */
export function describeError(error: unknown): string {
  if (error instanceof Error)
    return `${error.constructor.name}(${error.name}): ${error.message.slice(0, 240)}`;
  return String(error).slice(0, 240);
}

/** The class of an outcome, for the tally: `result`, `RateLimitError 429`, `ConnectionError BAD_BODY`, ... */
export function outcomeClass(outcome: Outcome): string {
  if (outcome.kind !== 'error') return outcome.kind;
  const e = outcome.error;
  if (e instanceof ApiError) return `${e.name} ${e.grpcCode ?? `${Math.floor(e.status / 100)}xx`}`;
  if (e instanceof ConnectionError) return `ConnectionError ${e.code ?? ''}`.trim();
  return e instanceof Error ? e.name : 'thrown';
}

/** What a fuzz run saw. */
export interface FuzzReport {
  plane: string;
  cases: number;
  /** Outcomes by class. */
  outcomes: Record<string, number>;
  /** Milliseconds per call, sorted. */
  latencies: number[];
  /** Unhandled rejections and uncaught exceptions seen during the run. */
  unhandled: string[];
}

/** A fresh report, and the function that counts an outcome into it. */
export function tally(plane: string): { report: FuzzReport; count(outcome: Outcome): void } {
  const report: FuzzReport = { plane, cases: 0, outcomes: {}, latencies: [], unhandled: [] };
  return {
    report,
    count(outcome) {
      report.cases += 1;
      const key = outcomeClass(outcome);
      report.outcomes[key] = (report.outcomes[key] ?? 0) + 1;
      report.latencies.push(outcome.ms);
    },
  };
}

/** A logger that keeps the delay (seconds) of each retry the SDK announces. */
export function retryDelayLogger(into: number[]) {
  return {
    debug(_message: string, fields: Record<string, unknown>) {
      if (fields.event === 'throttled_response') into.push(Number(fields.delaySeconds));
    },
    info() {},
    warn() {},
  };
}

/** What is wrong with the sleeps (ms) and retry delays (s) of some calls: empty when nothing. */
export function badWaits(sleeps: number[], delays: number[], maxWait: number): string[] {
  const out: string[] = [];
  const sleep = sleeps.find((ms) => !(Number.isFinite(ms) && ms >= 0));
  if (sleep !== undefined) out.push(`slept ${sleep} ms`);
  const delay = delays.find((s) => !(Number.isFinite(s) && s >= 0 && s <= maxWait));
  if (delay !== undefined) out.push(`a retry delay of ${delay} s (maxWait ${maxWait} s)`);
  return out;
}

/** Collect unhandled rejections and uncaught exceptions into `into` until the returned stop is called. */
export function watchUnhandled(into: string[]): () => void {
  const on = (reason: unknown) => into.push(describeError(reason));
  process.on('unhandledRejection', on);
  process.on('uncaughtException', on);
  return () => {
    process.off('unhandledRejection', on);
    process.off('uncaughtException', on);
  };
}

/** Script one case's replies, run its call within `boundMs`, and say how it went. */
async function runScripted<R>(
  server: CaseScripts<R>,
  caseId: number,
  replies: R[],
  call: () => Promise<unknown>,
  boundMs: number,
): Promise<{ outcome: Outcome; served: number }> {
  server.script(caseId, replies);
  const outcome = await bounded(call, boundMs);
  const served = server.served(caseId);
  server.forget(caseId);
  return { outcome, served };
}

/** Options of {@link assertInBatches}. */
export interface BatchOptions {
  /** Cases in all (rounded up to whole batches). */
  numRuns: number;
  seed: number;
  /** Cases run at once in each property run. */
  batch: number;
}

/**
 * fast-check over batches of `batch` cases run at once (each property run is one batch,
 * so a failure shrinks to a smaller batch of smaller cases): `one` judges a case, `after`
 * what the whole batch did (its retry delays, say). Throws fast-check's report with every
 * broken rule of the failing batch.
 */
export async function assertInBatches<C>(
  cases: fc.Arbitrary<C>,
  options: BatchOptions,
  one: (c: C) => Promise<string | undefined>,
  around: { before(batch: C[]): void; after(): string[] },
): Promise<void> {
  await fc.assert(
    fc.asyncProperty(
      fc.array(cases, { minLength: options.batch, maxLength: options.batch }),
      async (batch) => {
        around.before(batch);
        const broken = (await Promise.all(batch.map(one))).filter((b) => b !== undefined);
        broken.push(...around.after());
        if (broken.length > 0) throw new Error(broken.join('\n'));
      },
    ),
    { numRuns: Math.ceil(options.numRuns / options.batch), seed: options.seed, endOnFailure: true },
  );
}

/** Options of a fuzz run. */
export interface ResponseFuzzOptions {
  /** Cases (rounded up to whole batches). */
  numRuns: number;
  seed: number;
  /** Cases run at once (default 8). */
  batch?: number | undefined;
}

/** Cases run at once by default (each property run is a batch of them). */
const BATCH = 8;

/** The fuzzed clients' retries: one, so a case's second reply answers the retry. */
export const FUZZ_MAX_RETRIES = 1;
/** Per-attempt timeout of the fuzzed clients, seconds. */
export const FUZZ_TIMEOUT = 5;
/**
 * Per-attempt timeout, seconds, of a case with a reply only the timeout ends: long enough
 * for its other reply to arrive on a busy machine.
 */
const STALL_TIMEOUT = 0.5;

/** A case: a call and the replies its attempts get (`stalls`: only the timeout ends it). */
export interface FuzzCase<R> {
  op: Op;
  replies: readonly { reply: R; stalls?: boolean | undefined }[];
}

/** What one transport's fuzzer plugs into {@link fuzzResponses}. */
export interface FuzzTarget<R, C extends FuzzCase<R>> {
  plane: string;
  cases: fc.Arbitrary<C>;
  /** The scripted loopback server, closed at the end. */
  server: CaseScripts<R> & { close(): Promise<void> };
  /** The SDK's index on that server, its retries on `clock`, announced to `delays`. */
  index: IndexDataPlane;
  /** Close the SDK's client. */
  close(): Promise<void>;
  clock: InstantClock;
  /** Retry delays (seconds) the SDK logged ({@link retryDelayLogger}). */
  delays: number[];
  /** The client's jitter cap, seconds. */
  maxWait: number;
  /** Why a case's outcome breaks the transport's rules (`served`: attempts answered), or undefined. */
  judge(c: C, outcome: Outcome, served: number, batch: readonly C[]): string | undefined;
}

/**
 * Run `numRuns` generated cases against `target` in batches: each case's call within a
 * bound its timeouts set, judged alone and, per batch, every sleep and retry delay checked.
 * Throws fast-check's report on a broken rule; closes client and server either way.
 */
export async function fuzzResponses<R, C extends FuzzCase<R>>(
  target: FuzzTarget<R, C>,
  options: ResponseFuzzOptions,
): Promise<FuzzReport> {
  const { report, count } = tally(target.plane);
  const stopWatching = watchUnhandled(report.unhandled);
  let caseId = 0;
  let batch: readonly C[] = [];
  const one = async (c: C): Promise<string | undefined> => {
    const id = ++caseId;
    const timeout = c.replies.some((r) => r.stalls) ? STALL_TIMEOUT : FUZZ_TIMEOUT;
    const { outcome, served } = await runScripted(
      target.server,
      id,
      c.replies.map((r) => r.reply),
      () => c.op.call(target.index, id, timeout),
      (FUZZ_MAX_RETRIES + 1) * timeout * 1000 + 2000,
    );
    count(outcome);
    const broken = target.judge(c, outcome, served, batch);
    return broken && `${broken} (served ${served}) in ${fc.stringify(c)}`;
  };
  let firstSleep = 0;
  try {
    await assertInBatches(target.cases, { ...options, batch: options.batch ?? BATCH }, one, {
      before(cases) {
        batch = cases;
        firstSleep = target.clock.sleeps.length;
        target.delays.length = 0;
      },
      after: () => badWaits(target.clock.sleeps.slice(firstSleep), target.delays, target.maxWait),
    });
  } finally {
    stopWatching();
    await target.close();
    await target.server.close();
  }
  report.latencies.sort((a, b) => a - b);
  return report;
}
