/**
 * Fault injection for one index, independent of the transport. A transport asks
 * {@link FaultInjector.decide} once per request BEFORE touching the store and acts on the
 * {@link FaultDecision}; it brackets admitted requests with `enter()` / `leave()` so the
 * in-flight cap sees them. Randomness comes from a seeded PRNG that draws exactly two
 * numbers per decided request, so the same seed and the same request sequence give the
 * same faults whatever the timing (only the token bucket and the in-flight cap depend on
 * time and concurrency).
 */
import { type Clock, type RandomSource, seededRandom, systemClock } from '../resilience/clock.js';
import { EmulatorError, invalidArgument, resourceExhausted, serverError } from './errors.js';
import { DATA_OPERATIONS, type DataOperation } from './operation-names.js';

/** Token-bucket rate limit. */
export interface RateLimitConfig {
  /** Requests admitted per second, sustained (> 0). */
  rps: number;
  /**
   * Most tokens the bucket holds, i.e. the largest burst admitted after an idle spell.
   * Default: `max(1, ceil(rps / 10))` (a tenth of a second's worth).
   */
  burst?: number;
  /** Send `Retry-After: <seconds>` on throttled responses (omitted by default, like Pinecone). */
  retryAfterSeconds?: number;
}

/** Added latency before a request is served (throttles are answered at once). */
export interface LatencyConfig {
  /** Fixed delay, ms. */
  fixedMs?: number;
  /** Uniform random extra delay in [0, jitterMs), ms. */
  jitterMs?: number;
}

/**
 * The statuses that can be injected at random. 429 here is a throttle that does not depend
 * on load (a shared, noisy project; a proxy shedding at random), unlike `rateLimit` and
 * `maxInFlight`, whose 429s depend on how fast and how much the client sends.
 */
export type InjectedStatus = 429 | 500 | 502 | 503 | 504;

/** Injected server errors: probability (0..1) of each status per request. */
export type ErrorRates = Partial<Record<InjectedStatus, number>>;

/** `Retry-After` on injected statuses. */
export interface ErrorRetryAfterConfig {
  /** The header's value, seconds (whole seconds are sent; fractions round up). */
  seconds: number;
  /** Share (0..1) of injected statuses that carry it (default 1). */
  share?: number;
}

/** Faults of one index. Every field is optional; `{}` means a well-behaved server. */
export interface FaultConfig {
  /** Token bucket; over the rate, requests get 429. `null` or absent: unlimited. */
  rateLimit?: RateLimitConfig | null;
  /** Requests served at once; more get 429 at once. `null` or absent: unlimited. */
  maxInFlight?: number | null;
  /** Probability per request of each injected status (a random 429, or a server error). */
  errorRates?: ErrorRates | null;
  /**
   * `Retry-After` on injected statuses (`errorRates`): `seconds` on `share` of them
   * (default 1, i.e. all); the rest carry none. Absent: none carries it.
   */
  errorRetryAfter?: ErrorRetryAfterConfig | null;
  /** Probability the request is admitted and never answered (no status, no headers). */
  hangRate?: number;
  /** Probability the operation runs (a write is stored) and then the connection is reset. */
  resetAfterWriteRate?: number;
  /** Probability the operation runs and its 2xx body is sent slowly, over `slowBodyMs`. */
  slowBodyRate?: number;
  /** How long a slow body takes to send, ms (default 2000). */
  slowBodyMs?: number;
  /** Added latency. */
  latency?: LatencyConfig | null;
  /** Probability the connection is reset (destroyed) without a response. */
  resetRate?: number;
  /** Probability of a 2xx whose body is cut short (Content-Length larger than what is sent). */
  truncateRate?: number;
  /** Probability of a 2xx whose body is not JSON. */
  malformedRate?: number;
  /** Apply the faults only to these operations (default: every data-plane operation). */
  operations?: DataOperation[] | null;
  /** Seed of this index's fault sequence (default: derived from the server's seed and the index name). */
  seed?: number;
}

/**
 * What to do with one request. `proceed`, `reset-after-write` and `slow-body` run the
 * operation (a write is stored); every other variant leaves the store untouched.
 */
export type FaultDecision =
  | { action: 'proceed'; delayMs: number }
  /** Run the operation, then destroy the connection without answering. */
  | { action: 'reset-after-write'; delayMs: number }
  /** Run the operation and send its 2xx answer slowly, the body spread over `durationMs`. */
  | { action: 'slow-body'; delayMs: number; durationMs: number }
  /** Answer 429 at once (not counted in flight). */
  | { action: 'throttle'; reason: 'rate-limit' | 'in-flight'; error: EmulatorError }
  /**
   * Answer with an injected status after `delayMs` (a random 429 too: it is admitted and
   * counted in flight like a server error); `proxyText` set: a plain-text body, as proxies send.
   */
  | { action: 'error'; status: InjectedStatus; delayMs: number; error: EmulatorError; proxyText?: string }
  /** Destroy the connection without answering. */
  | { action: 'reset'; delayMs: number }
  /** Never answer: hold the request until the client gives up (or the server closes). */
  | { action: 'hang'; delayMs: number }
  /** 2xx, a Content-Length larger than the bytes sent, then close. */
  | { action: 'truncate'; delayMs: number }
  /** 2xx with a body that is not JSON. */
  | { action: 'malformed'; delayMs: number };

const STATUSES: readonly InjectedStatus[] = [429, 500, 502, 503, 504];

/** Default {@link FaultConfig.slowBodyMs}. */
export const DEFAULT_SLOW_BODY_MS = 2000;

/** Rates of {@link FaultConfig} besides `errorRates`, in the order their slices are laid out. */
const RATE_FIELDS = [
  'resetRate',
  'truncateRate',
  'malformedRate',
  'hangRate',
  'resetAfterWriteRate',
  'slowBodyRate',
] as const;

function checkRate(value: unknown, field: string): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw invalidArgument(`faults.${field} must be a number between 0 and 1, got ${JSON.stringify(value)}`);
  }
  return value;
}

function checkNonNegative(value: unknown, field: string, integer = false): number | undefined {
  if (value === undefined) return undefined;
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < 0 ||
    (integer && !Number.isInteger(value))
  ) {
    throw invalidArgument(
      `faults.${field} must be a non-negative ${integer ? 'integer' : 'number'}, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** The longest delay (`latency.fixedMs`, `latency.jitterMs`, `slowBodyMs`): ten minutes, well inside Node's timer range. */
export const MAX_LATENCY_MS = 600_000;

function checkLatency(value: unknown, field: string): number | undefined {
  const ms = checkNonNegative(value, field);
  if (ms !== undefined && ms > MAX_LATENCY_MS) {
    throw invalidArgument(`faults.${field} must be at most ${MAX_LATENCY_MS} (ten minutes), got ${ms}`);
  }
  return ms;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Validate a fault configuration (from options, the CLI or the admin endpoint) and return
 * a normalized copy. Throws a 400 `EmulatorError` naming the bad field.
 */
export function validateFaultConfig(input: unknown): FaultConfig {
  if (input === undefined || input === null) return {};
  if (!isObject(input)) throw invalidArgument('faults must be an object');
  const known = new Set([
    'rateLimit',
    'maxInFlight',
    'errorRates',
    'latency',
    'resetRate',
    'truncateRate',
    'malformedRate',
    'errorRetryAfter',
    'hangRate',
    'resetAfterWriteRate',
    'slowBodyRate',
    'slowBodyMs',
    'operations',
    'seed',
  ]);
  for (const key of Object.keys(input))
    if (!known.has(key)) throw invalidArgument(`faults.${key} is not a fault option`);
  const out: FaultConfig = {};
  if (input.rateLimit != null) {
    const rl = input.rateLimit;
    if (isObject(rl)) rejectUnknownKeys(rl, 'rateLimit', ['rps', 'burst', 'retryAfterSeconds']);
    if (!isObject(rl) || typeof rl.rps !== 'number' || !(rl.rps > 0) || !Number.isFinite(rl.rps)) {
      throw invalidArgument('faults.rateLimit.rps must be a positive number');
    }
    const burst = checkNonNegative(rl.burst, 'rateLimit.burst');
    if (burst !== undefined && burst < 1) throw invalidArgument('faults.rateLimit.burst must be at least 1');
    const retryAfter = checkNonNegative(rl.retryAfterSeconds, 'rateLimit.retryAfterSeconds');
    out.rateLimit = { rps: rl.rps };
    if (burst !== undefined) out.rateLimit.burst = burst;
    if (retryAfter !== undefined) out.rateLimit.retryAfterSeconds = retryAfter;
  }
  if (input.maxInFlight != null) {
    const cap = checkNonNegative(input.maxInFlight, 'maxInFlight', true);
    if (!cap) throw invalidArgument('faults.maxInFlight must be a positive integer');
    out.maxInFlight = cap;
  }
  let total = 0;
  if (input.errorRates != null) {
    if (!isObject(input.errorRates)) throw invalidArgument('faults.errorRates must be an object');
    const rates: ErrorRates = {};
    for (const [key, value] of Object.entries(input.errorRates)) {
      const status = Number(key) as InjectedStatus;
      if (!STATUSES.includes(status)) {
        throw invalidArgument(`faults.errorRates.${key}: only ${STATUSES.join(', ')} can be injected`);
      }
      rates[status] = checkRate(value, `errorRates.${key}`);
      total += rates[status];
    }
    out.errorRates = rates;
  }
  if (input.latency != null) {
    if (!isObject(input.latency)) throw invalidArgument('faults.latency must be an object');
    rejectUnknownKeys(input.latency, 'latency', ['fixedMs', 'jitterMs']);
    const fixedMs = checkLatency(input.latency.fixedMs, 'latency.fixedMs');
    const jitterMs = checkLatency(input.latency.jitterMs, 'latency.jitterMs');
    out.latency = {};
    if (fixedMs !== undefined) out.latency.fixedMs = fixedMs;
    if (jitterMs !== undefined) out.latency.jitterMs = jitterMs;
  }
  for (const key of RATE_FIELDS) {
    if (input[key] !== undefined) {
      out[key] = checkRate(input[key], key);
      total += out[key];
    }
  }
  if (total > 1 + 1e-9) throw invalidArgument(`faults: the error and fault rates add up to ${total} > 1`);
  if (input.errorRetryAfter != null) {
    const ra = input.errorRetryAfter;
    if (isObject(ra)) rejectUnknownKeys(ra, 'errorRetryAfter', ['seconds', 'share']);
    const seconds = isObject(ra) ? checkNonNegative(ra.seconds, 'errorRetryAfter.seconds') : undefined;
    if (seconds === undefined)
      throw invalidArgument('faults.errorRetryAfter.seconds must be a non-negative number');
    out.errorRetryAfter = { seconds };
    if ((ra as Record<string, unknown>).share !== undefined) {
      out.errorRetryAfter.share = checkRate((ra as Record<string, unknown>).share, 'errorRetryAfter.share');
    }
  }
  const slowBodyMs = checkLatency(input.slowBodyMs, 'slowBodyMs');
  if (slowBodyMs !== undefined) out.slowBodyMs = slowBodyMs;
  if (input.operations != null) {
    if (!Array.isArray(input.operations) || !input.operations.every((op) => DATA_OPERATIONS.includes(op))) {
      throw invalidArgument(`faults.operations must be a list of: ${DATA_OPERATIONS.join(', ')}`);
    }
    out.operations = [...input.operations];
  }
  if (input.seed !== undefined) {
    if (typeof input.seed !== 'number' || !Number.isInteger(input.seed)) {
      throw invalidArgument('faults.seed must be an integer');
    }
    out.seed = input.seed;
  }
  return out;
}

/** Whether the decision runs the operation (the store is touched). */
export function runsOperation(
  decision: FaultDecision,
): decision is Extract<FaultDecision, { action: 'proceed' | 'reset-after-write' | 'slow-body' }> {
  return (
    decision.action === 'proceed' ||
    decision.action === 'reset-after-write' ||
    decision.action === 'slow-body'
  );
}

/** A misspelt option (`rsp`) is named as such, not reported as the missing one (`rps`). */
function rejectUnknownKeys(value: Record<string, unknown>, path: string, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw invalidArgument(`faults.${path}.${key} is unknown; ${path} takes ${known.join(', ')}`);
    }
  }
}

/** The default burst for a rate: a tenth of a second's worth, at least one request. */
export function defaultBurst(rps: number): number {
  return Math.max(1, Math.ceil(rps / 10));
}

/**
 * A token bucket refilled continuously at `rps`. It starts with ONE token, not full: over
 * any window that starts when the limit is (re)set, at most `1 + rps * seconds` requests
 * are admitted, so a measured rate matches `rps` from the first second.
 */
export class TokenBucket {
  private tokens = 1;
  private last: number;

  constructor(
    readonly rps: number,
    readonly burst: number,
    private readonly clock: Clock,
  ) {
    this.last = clock.now();
    this.tokens = Math.min(1, burst);
  }

  /** Take a token if one is available. */
  take(): boolean {
    const now = this.clock.now();
    const elapsed = now - this.last;
    if (elapsed > 0) {
      this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.rps) / 1000);
      this.last = now;
    }
    // The epsilon absorbs float error: ten refills of 0.1 must make a whole token.
    if (this.tokens >= 1 - 1e-9) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }
}

/** Options of a {@link FaultInjector}. */
export interface FaultInjectorOptions {
  /** Index name, used in messages. */
  name: string;
  /** Seed used when the config has none. */
  defaultSeed: number;
  /** Time source of the token bucket (default: real time). */
  clock?: Clock;
}

/** Decides the fate of each request of one index. */
export class FaultInjector {
  private current: FaultConfig = {};
  private random: RandomSource = seededRandom(0);
  private bucket: TokenBucket | undefined;
  private active = 0;
  private readonly clock: Clock;
  private seedInUse = 0;

  constructor(
    config: FaultConfig,
    private readonly options: FaultInjectorOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.configure(config);
  }

  /** The configuration in force (a copy). */
  get config(): FaultConfig {
    return structuredClone(this.current);
  }

  /** The seed of the current fault sequence. */
  get seed(): number {
    return this.seedInUse;
  }

  /** Requests admitted and not yet finished. */
  get inFlight(): number {
    return this.active;
  }

  /**
   * Replace the configuration. Restarts the random sequence from the seed and refills the
   * token bucket with one token, so a run can be replayed from any `configure`.
   */
  configure(config: FaultConfig): void {
    const valid = validateFaultConfig(config);
    this.current = valid;
    this.seedInUse = (valid.seed ?? this.options.defaultSeed) >>> 0;
    this.random = seededRandom(this.seedInUse);
    const rl = valid.rateLimit;
    this.bucket = rl ? new TokenBucket(rl.rps, rl.burst ?? defaultBurst(rl.rps), this.clock) : undefined;
  }

  /** A request of this operation is being admitted: count it in flight. */
  enter(): void {
    this.active++;
  }

  /** An admitted request has been answered (or abandoned). */
  leave(): void {
    if (this.active > 0) this.active--;
  }

  /** Decide what happens to one request. Call once per request, before `enter()`. */
  decide(operation?: DataOperation): FaultDecision {
    const c = this.current;
    if (operation && c.operations && !c.operations.includes(operation))
      return { action: 'proceed', delayMs: 0 };
    // Always two draws, whatever the outcome, so the sequence depends only on the request count.
    const roll = this.random();
    const jitter = this.random();
    if (c.maxInFlight != null && this.active >= c.maxInFlight) {
      return {
        action: 'throttle',
        reason: 'in-flight',
        error: resourceExhausted(
          `Request failed. Too many concurrent requests: index ${this.options.name} serves at most ${c.maxInFlight} requests at once. Retry later.`,
        ),
      };
    }
    if (this.bucket && !this.bucket.take()) {
      const rl = c.rateLimit!;
      return {
        action: 'throttle',
        reason: 'rate-limit',
        error: resourceExhausted(
          `Request failed. You've reached the max request rate of ${rl.rps} requests per second for index ${this.options.name}. Slow down and retry.`,
          rl.retryAfterSeconds,
        ),
      };
    }
    const delayMs = (c.latency?.fixedMs ?? 0) + jitter * (c.latency?.jitterMs ?? 0);
    // One roll against the cumulative rates: each outcome owns a slice of [0, 1).
    // Where in its slice the roll fell (0..1) decides, without another draw, whether an
    // injected status carries Retry-After.
    const slices: [number, (within: number) => FaultDecision][] = [
      [c.resetRate ?? 0, () => ({ action: 'reset', delayMs })],
      [c.truncateRate ?? 0, () => ({ action: 'truncate', delayMs })],
      [c.malformedRate ?? 0, () => ({ action: 'malformed', delayMs })],
      [c.hangRate ?? 0, () => ({ action: 'hang', delayMs })],
      [c.resetAfterWriteRate ?? 0, () => ({ action: 'reset-after-write', delayMs })],
      [
        c.slowBodyRate ?? 0,
        () => ({ action: 'slow-body', delayMs, durationMs: c.slowBodyMs ?? DEFAULT_SLOW_BODY_MS }),
      ],
      ...STATUSES.map((s): [number, (within: number) => FaultDecision] => [
        c.errorRates?.[s] ?? 0,
        (within) => {
          const ra = c.errorRetryAfter;
          const hint = ra && within < (ra.share ?? 1) ? ra.seconds : undefined;
          return injectedError(s, delayMs, this.options.name, hint);
        },
      ]),
    ];
    let edge = 0;
    for (const [rate, outcome] of slices) {
      if (roll < edge + rate) return outcome((roll - edge) / rate);
      edge += rate;
    }
    return { action: 'proceed', delayMs };
  }
}

function injectedError(
  status: InjectedStatus,
  delayMs: number,
  index: string,
  retryAfterSeconds: number | undefined,
): FaultDecision {
  const decision = injectedErrorBody(status, delayMs, index);
  if (retryAfterSeconds !== undefined) {
    (decision as { error: EmulatorError }).error = withRetryAfter(decision.error, retryAfterSeconds);
  }
  return decision;
}

function withRetryAfter(error: EmulatorError, retryAfterSeconds: number): EmulatorError {
  return new EmulatorError(error.message, {
    httpStatus: error.httpStatus,
    grpcCode: error.grpcCode,
    stringCode: error.stringCode,
    retryAfterSeconds,
  });
}

function injectedErrorBody(
  status: InjectedStatus,
  delayMs: number,
  index: string,
): Extract<FaultDecision, { action: 'error' }> {
  switch (status) {
    case 429:
      return {
        action: 'error',
        status,
        delayMs,
        error: resourceExhausted(
          `Request failed. You've reached the max request rate for index ${index} (injected at random by the emulator, whatever the load). Retry later.`,
        ),
      };
    case 502:
      return {
        action: 'error',
        status,
        delayMs,
        error: serverError(502, 'Bad gateway (injected by the emulator)'),
        proxyText:
          'upstream connect error or disconnect/reset before headers. reset reason: connection failure',
      };
    case 503:
      return {
        action: 'error',
        status,
        delayMs,
        error: serverError(
          503,
          'Service unavailable: the index is overloaded (injected by the emulator). Retry later.',
        ),
      };
    case 504:
      return {
        action: 'error',
        status,
        delayMs,
        error: serverError(504, 'Gateway timeout (injected by the emulator)'),
        proxyText: 'upstream request timeout',
      };
    default:
      return {
        action: 'error',
        status,
        delayMs,
        error: serverError(500, 'Internal error (injected by the emulator)'),
      };
  }
}
