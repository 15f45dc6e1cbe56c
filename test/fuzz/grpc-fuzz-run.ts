/**
 * The gRPC response fuzzer's engine, shared by `response-fuzz.test.ts` (CI) and
 * `bench/response-fuzz.ts`: each case is a data-plane call that goes over gRPC
 * (`ops.ts`, `grpc-bodies.ts`) and the one or two answers (`grpc-replies.ts`) a scripted
 * loopback HTTP/2 server gives its attempts; the `GrpcIndex` retries once
 * (`maxRetries: 1`) on an instant clock. Every outcome is judged:
 *
 * - the rules of `outcome.ts` (settled within a bound, typed error, key never shown);
 * - each retry delay is within `[0, 60 s]` (gRPC's fixed cap), every sleep finite;
 * - per attempt, when the server answered every attempt the SDK counts: a retried
 *   attempt got a retryable answer (a status of the default retryable set whose pushback
 *   is absent or not negative, an OK whose message could not be used, a stall, anything
 *   grpc-js reads its own way); the last answer decides: a status ends in the `ApiError`
 *   of that code (INTERNAL and UNAVAILABLE may be a `ConnectionError` when the message
 *   reads like grpc-js's own network words), retried while attempts remain when
 *   retryable; an OK in a valid result (certainly when its message is the call's answer)
 *   or a `ConnectionError` `BAD_BODY`; a stall in a `TimeoutError`.
 *
 * A batch with an answer that drops the connection affects every call on it: such a
 * batch is judged by the rules of `outcome.ts` only.
 */
import fc from 'fast-check';
import { ApiError, ConnectionError, GRPC_CODE_NAMES, TimeoutError } from '../../src/errors.js';
import { GrpcIndex } from '../../src/grpc.js';
import { seededRandom } from '../../src/resilience/clock.js';
import { DEFAULT_RETRYABLE_GRPC_CODES, GRPC_MAX_WAIT, parsePushback } from '../../src/transport/grpc.js';
import { InstantClock } from '../helpers/clocks.js';
import { startRawGrpcResponseServer } from '../helpers/raw-grpc-response-server.js';
import { GRPC_BODIES } from './grpc-bodies.js';
import { type GeneratedGrpcReply, type GrpcMeaning, grpcReply } from './grpc-replies.js';
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
import { FUZZ_KEY } from './rest-replies.js';

/** One case: a call and the answers its attempts get. */
export interface GrpcCase {
  op: Op;
  replies: GeneratedGrpcReply[];
}

const grpcCase: fc.Arbitrary<GrpcCase> = fc
  .constantFrom(...OPS.filter((op) => GRPC_BODIES[op.name] !== undefined))
  .chain((op) =>
    fc.array(grpcReply(GRPC_BODIES[op.name]!), { minLength: 1, maxLength: 2 }).map((replies) => ({
      op,
      replies,
      [fc.toStringMethod]: () => `${op.name} ← ${replies.map((r) => r.label).join(' then ')}`,
    })),
  );

/** Whether the SDK should retry after this answer (when attempts remain). */
function retryable(m: GrpcMeaning): boolean {
  if (m.kind === 'ok') return !m.wellFormed;
  if (m.kind !== 'status') return true;
  const pushback = parsePushback(m.pushback);
  return DEFAULT_RETRYABLE_GRPC_CODES.has(m.code) && (pushback === undefined || pushback >= 0);
}

/**
 * Why the outcome of `c` (`served`: attempts the server answered) breaks the rules, or
 * undefined; not `strict`: only the rules of `outcome.ts`.
 */
export function judgeGrpcCase(
  c: GrpcCase,
  outcome: Outcome,
  served: number,
  strict = true,
): string | undefined {
  const common = judgeCommon(outcome, FUZZ_KEY);
  if (common || !strict || outcome.kind === 'hung') return common;
  const error = outcome.kind === 'error' ? outcome.error : undefined;
  const attempts = error === undefined ? served : (error as { attempts?: number }).attempts;
  if (served === 0) return outcome.kind === 'result' ? 'a result without any answer' : undefined;
  if (attempts !== served) return undefined;
  const answer = (i: number) => c.replies[Math.min(i, c.replies.length - 1)]!.meaning;
  for (let i = 0; i < served - 1; i++) {
    const m = answer(i);
    if (m.kind === 'ambiguous' || m.kind === 'stall') continue;
    if (!retryable(m)) return `retried after ${JSON.stringify(m)}, which is not to be retried`;
  }
  const last = answer(served - 1);
  const attemptsLeft = served < FUZZ_MAX_RETRIES + 1;
  if (outcome.kind === 'result') {
    if (last.kind === 'status' || last.kind === 'stall') return `a result from ${JSON.stringify(last)}`;
    const why = c.op.check(outcome.value);
    return why ? `an invalid result: ${why}` : undefined;
  }
  if (last.kind === 'ambiguous') return undefined;
  if (last.kind === 'stall') {
    if (!(error instanceof TimeoutError)) return `a stall ended in ${describeError(error)}`;
    return attemptsLeft ? 'a stall was not retried' : undefined;
  }
  if (last.kind === 'ok') {
    if (last.wellFormed) return `a well-formed OK ended in ${describeError(error)}`;
    if (!(error instanceof ConnectionError && error.code === 'BAD_BODY')) {
      return `an OK with an unusable message ended in ${describeError(error)}`;
    }
    return attemptsLeft ? 'an OK with an unusable message was not retried' : undefined;
  }
  const name = GRPC_CODE_NAMES[last.code];
  const readsAsNetwork = (last.code === 13 || last.code === 14) && error instanceof ConnectionError;
  if (!(readsAsNetwork || (error instanceof ApiError && error.grpcCode === name))) {
    return `status ${name} ended in ${describeError(error)}`;
  }
  return attemptsLeft && retryable(last) ? `status ${name} was not retried` : undefined;
}

/** Fuzz the gRPC client with `numRuns` generated cases. Throws fast-check's report on a broken rule. */
export async function fuzzGrpcResponses(options: ResponseFuzzOptions): Promise<FuzzReport> {
  const server = await startRawGrpcResponseServer();
  const clock = new InstantClock();
  const delays: number[] = [];
  const index = new GrpcIndex({
    host: server.url,
    apiKey: FUZZ_KEY,
    maxRetries: FUZZ_MAX_RETRIES,
    clock,
    random: seededRandom(options.seed),
    timeout: FUZZ_TIMEOUT,
    logger: retryDelayLogger(delays),
  });
  return fuzzResponses(
    {
      plane: 'gRPC',
      cases: grpcCase,
      server,
      index,
      close: () => index.close(),
      clock,
      delays,
      maxWait: GRPC_MAX_WAIT,
      // An answer that drops the connection fails every call on it: such a batch keeps the common rules only.
      judge: (c, outcome, served, batch) =>
        judgeGrpcCase(c, outcome, served, !batch.some((b) => b.replies.some((r) => r.reply.dropSession))),
    },
    options,
  );
}
