/**
 * The REST response fuzzer's engine, shared by `response-fuzz.test.ts` (CI) and
 * `bench/response-fuzz.ts`: each case is a data-plane call (`ops.ts`) and the one or two
 * raw replies (`rest-replies.ts`) a scripted loopback server gives its attempts; the
 * client retries once (`maxRetries: 1`) on an instant clock. Every outcome is judged:
 *
 * - the rules of `outcome.ts` (settled within a bound, typed error, key never shown);
 * - each retry delay is within `[0, maxWait]`, whatever Retry-After said, and every sleep
 *   (pacing too) is a finite, non-negative time;
 * - per attempt, when the server answered every attempt the SDK counts: an attempt that
 *   was retried got a retryable reply (a 408/429/5xx of the retryable set, a 2xx whose
 *   body could not be used, a broken response); the last reply decides: a readable
 *   non-2xx status ends in the `ApiError` of that status (after every retry when it is
 *   retryable), a 2xx in a valid result (certainly when its body is the well-formed
 *   answer) or a `ConnectionError` `BAD_BODY`, a broken response in a `ConnectionError`
 *   or a `TimeoutError`.
 */
import fc from 'fast-check';
import { Pinecone } from '../../src/client.js';
import { ApiError, ConnectionError, errorClassForStatus, TimeoutError } from '../../src/errors.js';
import { seededRandom } from '../../src/resilience/clock.js';
import { InstantClock } from '../helpers/clocks.js';
import { startRawResponseServer } from '../helpers/raw-response-server.js';
import { OPS, type Op } from './ops.js';
import {
  describeError,
  FUZZ_MAX_RETRIES,
  FUZZ_TIMEOUT,
  type FuzzReport,
  fuzzResponses,
  judgeCommon,
  type Outcome,
  type ResponseFuzzOptions,
  retryDelayLogger,
} from './outcome.js';
import { FUZZ_KEY, type GeneratedReply, restReply } from './rest-replies.js';

const MAX_WAIT = 3;
const RETRYABLE = new Set([408, 429, 500, 502, 503, 504]);

/** One case: a call and the replies its attempts get. */
export interface RestCase {
  op: Op;
  replies: GeneratedReply[];
}

const restCase: fc.Arbitrary<RestCase> = fc.constantFrom(...OPS).chain((op) =>
  fc.array(restReply(op.restBody), { minLength: 1, maxLength: 2 }).map((replies) => ({
    op,
    replies,
    // fast-check prints this for a counterexample.
    [fc.toStringMethod]: () =>
      `${op.name} ← ${replies.map((r) => `${r.label} ${JSON.stringify(r.reply.bytes.toString('latin1').slice(0, 600))}`).join(' then ')}`,
  })),
);

/** Why the outcome of `c` (`served`: attempts the server answered) breaks the rules, or undefined. */
export function judgeRestCase(c: RestCase, outcome: Outcome, served: number): string | undefined {
  const common = judgeCommon(outcome, FUZZ_KEY);
  if (common) return common;
  if (outcome.kind === 'hung') return undefined;
  const error = outcome.kind === 'error' ? outcome.error : undefined;
  const attempts = error === undefined ? served : (error as { attempts?: number }).attempts;
  if (served === 0) return outcome.kind === 'result' ? 'a result without any response' : undefined;
  // An attempt the server never saw (a kept connection closed under it): the map from
  // attempts to replies is lost; the common rules were all there is to judge.
  if (attempts !== served) return undefined;
  const reply = (i: number) => c.replies[Math.min(i, c.replies.length - 1)]!.meaning;
  for (let i = 0; i < served - 1; i++) {
    const m = reply(i);
    if (m.kind === 'status' && m.status >= 300 && !RETRYABLE.has(m.status)) {
      return `retried after HTTP ${m.status}, which is not retryable`;
    }
    if (m.kind === 'status' && m.status < 300 && m.wellFormed) {
      return `retried after a well-formed ${m.status}`;
    }
  }
  const last = reply(served - 1);
  const attemptsLeft = served < FUZZ_MAX_RETRIES + 1;
  if (outcome.kind === 'result') {
    if (last.kind === 'broken') return 'a result from a broken response';
    if (last.kind === 'status' && last.status >= 300) return `a result from HTTP ${last.status}`;
    const why = c.op.check(outcome.value);
    return why ? `an invalid result: ${why}` : undefined;
  }
  if (last.kind === 'ambiguous') return undefined;
  if (last.kind === 'broken') {
    if (!(error instanceof ConnectionError || error instanceof TimeoutError)) {
      return `a broken response ended in ${describeError(error)}`;
    }
    return attemptsLeft ? 'a broken response was not retried' : undefined;
  }
  if (last.status < 300) {
    if (last.wellFormed) return `a well-formed ${last.status} ended in ${describeError(error)}`;
    if (!(error instanceof ConnectionError && error.code === 'BAD_BODY')) {
      return `a ${last.status} with an unusable body ended in ${describeError(error)}`;
    }
    return attemptsLeft ? `a ${last.status} with an unusable body was not retried` : undefined;
  }
  const Expected = errorClassForStatus(last.status);
  if (!(error instanceof ApiError && error.status === last.status && error.constructor === Expected)) {
    return `HTTP ${last.status} ended in ${describeError(error)}, not ${Expected.name}`;
  }
  return attemptsLeft && RETRYABLE.has(last.status) ? `HTTP ${last.status} was not retried` : undefined;
}

/** Fuzz the REST client with `numRuns` generated cases. Throws fast-check's report on a broken rule. */
export async function fuzzRestResponses(options: ResponseFuzzOptions): Promise<FuzzReport> {
  const server = await startRawResponseServer();
  const clock = new InstantClock();
  const delays: number[] = [];
  const pc = new Pinecone({
    apiKey: FUZZ_KEY,
    logger: retryDelayLogger(delays),
    clock,
    random: seededRandom(options.seed),
    retryConfig: { maxRetries: FUZZ_MAX_RETRIES, maxWait: MAX_WAIT },
    timeout: FUZZ_TIMEOUT,
  });
  return fuzzResponses(
    {
      plane: 'REST',
      cases: restCase,
      server,
      index: pc.index({ host: server.url }),
      close: () => pc.close(),
      clock,
      delays,
      maxWait: MAX_WAIT,
      judge: judgeRestCase,
    },
    options,
  );
}
