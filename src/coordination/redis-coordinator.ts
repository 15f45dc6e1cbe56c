/**
 * `redisCoordinator()`: the {@link Coordinator} over Redis. Fleet state per host in one
 * hash, changed only by the atomic scripts (scripts.ts, through fleet-store.ts), every call
 * fail-open under its own timer (fail-open.ts), times converted from the server's clock
 * to the caller's on each reply, recovery steps held back and sent with the next
 * reservation. The connection is `@redis/client` opened from a URL (node-redis.ts), or a
 * client the caller already holds.
 */
import { ValidationError } from '../errors.js';
import { ADAPTIVE_LOGGER, type Logger, resolveLogger } from '../log.js';
import { type Clock, systemClock } from '../resilience/clock.js';
import type {
  CongestionReport,
  CongestionVerdict,
  Coordinator,
  CoordinatorContext,
  FleetState,
  RateReport,
  ReleaseReport,
  SendCounts,
  SlotGrant,
} from './coordinator.js';
import { FailOpenGuard, type FailOpenStats } from './fail-open.js';
import { FleetStore, type StoredState } from './fleet-store.js';
import { NodeRedisConnection } from './node-redis.js';
import {
  type CommandSender,
  isCommandSender,
  isScriptClient,
  type ScriptClient,
  scriptClientOver,
} from './script-client.js';
import { eventChannel } from './scripts.js';

/** Options of {@link redisCoordinator}. Times are in seconds, like the client's. */
export interface RedisCoordinatorOptions {
  /**
   * `redis://[[user]:password@]host[:port][/db]` or `rediss://...` (TLS): the coordinator
   * opens (and `dispose()` closes) its own connection with `@redis/client`, an optional
   * peer dependency loaded only then. Exactly one of `url` and `client`.
   */
  url?: string;
  /**
   * A connection you already hold: a connected `@redis/client` client (anything with
   * `sendCommand(args)`), or a {@link ScriptClient} (wrap other clients in three methods).
   * You keep ownership: `dispose()` does not close it.
   */
  client?: ScriptClient | CommandSender;
  /** Prefix of every key (one hash per index host). Default `'pinecone-resilient:'`. */
  keyPrefix?: string;
  /** A host's state expires after this long without a write (seconds). Default 600. */
  ttl?: number;
  /**
   * Bound on each call before falling back to local state (seconds). Default 0.05. It counts
   * the time the process could have read the reply: while the process itself is busy (its
   * timers fire late), a call may take up to 20× it.
   */
  timeout?: number;
  /** Bound on connecting, at start-up and when reconnecting (seconds). Default 1. */
  connectTimeout?: number;
  /**
   * First delay before looking for the store again after it went away (seconds; doubles up
   * to 2). Default 0.1. The late reply to the call that was given up ends the outage sooner,
   * once a second at most.
   */
  probeInterval?: number;
  /** Where the outage warning goes. Default: the logger of the client it is given to. */
  logger?: Logger;
  /** Clock of the times handed out. Default: the clock of the client it is given to. */
  clock?: Clock;
}

/** What a {@link RedisCoordinator} counted. */
export interface CoordinationStats extends FailOpenStats {
  /** Redis commands sent (scripts, the `EVAL` after a `NOSCRIPT`, probes). */
  commands: number;
  /** Whether the store answered its last call. */
  available: boolean;
}

/** Default {@link RedisCoordinatorOptions.keyPrefix}. */
export const DEFAULT_KEY_PREFIX = 'pinecone-resilient:';
const MAX_PROBE_INTERVAL_MS = 2000;
/** Slots per host whose Redis times are remembered for a release (a few reservations' worth). */
const MAX_REMEMBERED_SLOTS = 64;
/** Most slots one reservation may ask for. */
export const MAX_RESERVATION = 1000;

function seconds(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback * 1000;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ValidationError(
      `redisCoordinator: ${field} must be a positive number of seconds; got ${String(value)}`,
      field,
    );
  }
  return value * 1000;
}

/** `redis://host:port/db` of a URL, without credentials or query (for log records). */
function describeUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    parsed = new URL('invalid:');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    // Never echo the value: it may carry a password.
    throw new ValidationError('redisCoordinator: url must be a redis:// or rediss:// URL', 'url');
  }
  return `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
}

/** Counts each command sent through `client`. */
function counted(client: ScriptClient, count: () => void): ScriptClient {
  return {
    evalScriptBySha(sha, keys, args) {
      count();
      return client.evalScriptBySha(sha, keys, args);
    },
    evalScript(source, keys, args) {
      count();
      return client.evalScript(source, keys, args);
    },
    serverTime() {
      count();
      return client.serverTime();
    },
  };
}

function check(ok: boolean, field: string, message: string): void {
  if (!ok) throw new ValidationError(`coordination: ${field} ${message}`, field);
}

function checkHost(host: unknown): void {
  check(typeof host === 'string' && host !== '', 'host', 'must be a non-empty string');
}

function checkReport(report: RateReport | CongestionReport): void {
  check(Number.isInteger(report?.eventSeen) && report.eventSeen >= 0, 'eventSeen', 'must be an integer >= 0');
  const { rate, limit } = report;
  check(rate === undefined || rate > 0, 'rate', 'must be > 0 (Infinity: not pacing)');
  check(
    limit === undefined || (Number.isInteger(limit) && limit >= 1),
    'limit',
    'must be a whole number >= 1',
  );
}

/** A count reported to the store (dispatches, slots handed back). */
function checkCount(count: number | undefined, field = 'sent'): void {
  check(count === undefined || (Number.isInteger(count) && count >= 0), field, 'must be a whole number >= 0');
}

/** The counts a reservation or report carries (see {@link SendCounts}). */
function checkSendCounts(counts: SendCounts | undefined): void {
  checkCount(counts?.sent);
  checkCount(counts?.admitted, 'admitted');
  checkCount(counts?.refused, 'refused');
  const trial = counts?.trial;
  if (trial === undefined) return;
  checkCount(trial.event, 'trial.event');
  checkCount(trial.sent, 'trial.sent');
  checkCount(trial.refused, 'trial.refused');
}

/** Of two optional values, the larger; `undefined` only when both are. */
function maxDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.max(a, b);
}

/** The {@link Coordinator} over Redis; see {@link redisCoordinator}. */
export class RedisCoordinator implements Coordinator {
  readonly #store: FleetStore;
  readonly #guard: FailOpenGuard;
  readonly #owned: NodeRedisConnection | undefined;
  readonly #pending = new Map<string, RateReport>();
  /** Per host: the Redis time of each slot recently granted, by its time on this clock. */
  readonly #granted = new Map<string, Map<number, number>>();
  /** {@link release} calls under way: `dispose()` lets them land first. */
  readonly #releasing = new Set<Promise<void>>();
  #logger: Logger | undefined;
  #clock: Clock | undefined;
  #contextLogger: Logger | undefined;
  #contextClock: Clock | undefined;
  #commands = 0;

  constructor(options: RedisCoordinatorOptions) {
    if (options === null || typeof options !== 'object') {
      throw new ValidationError('redisCoordinator: options must be an object', 'options');
    }
    const { url, client } = options;
    if ((url === undefined) === (client === undefined)) {
      throw new ValidationError('redisCoordinator needs exactly one of url and client', 'url');
    }
    const keyPrefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
    if (typeof keyPrefix !== 'string') {
      throw new ValidationError('redisCoordinator: keyPrefix must be a string', 'keyPrefix');
    }
    const ttlMs = seconds(options.ttl, 'ttl', 600);
    const timeoutMs = seconds(options.timeout, 'timeout', 0.05);
    const connectTimeoutMs = seconds(options.connectTimeout, 'connectTimeout', 1);
    const probeIntervalMs = seconds(options.probeInterval, 'probeInterval', 0.1);
    let base: ScriptClient;
    let store: string;
    if (url !== undefined) {
      if (typeof url !== 'string') throw new ValidationError('redisCoordinator: url must be a string', 'url');
      store = describeUrl(url);
      this.#owned = new NodeRedisConnection({ url, connectTimeoutMs });
      base = this.#owned;
    } else if (isScriptClient(client)) {
      store = 'redis (client given)';
      base = client;
    } else if (isCommandSender(client)) {
      store = 'redis (client given)';
      base = scriptClientOver((args) => client.sendCommand(args));
    } else {
      throw new ValidationError(
        'redisCoordinator: client must have sendCommand(args) (e.g. @redis/client) or be a ScriptClient',
        'client',
      );
    }
    const counting = counted(base, () => {
      this.#commands += 1;
    });
    this.#store = new FleetStore(counting, { keyPrefix, ttlMs });
    this.#logger = options.logger;
    this.#clock = options.clock;
    const owned = this.#owned;
    this.#guard = new FailOpenGuard({
      timeoutMs,
      connectTimeoutMs,
      probeIntervalMs,
      maxProbeIntervalMs: Math.max(probeIntervalMs, MAX_PROBE_INTERVAL_MS),
      probe: () => counting.serverTime(),
      prepare: owned && (() => owned.load()),
      reset: owned && (() => owned.reset()),
      store,
      logger: () => this.#log(),
    });
  }

  get available(): boolean {
    return this.#guard.available;
  }

  /** Counters: commands sent, timeouts, failures, calls skipped while unavailable, outages. */
  stats(): CoordinationStats {
    return { ...this.#guard.stats, commands: this.#commands, available: this.available };
  }

  /** The Redis key of `host`'s state. */
  key(host: string): string {
    return this.#store.key(host);
  }

  attach(context: CoordinatorContext): void {
    this.#contextLogger = context.logger;
    this.#contextClock = context.clock;
    void this.#guard.start();
  }

  /**
   * Connect now (once) if not yet; resolves to whether the store answered. Optional: every
   * call connects first anyway.
   */
  async ready(): Promise<boolean> {
    await this.#guard.start();
    return this.available;
  }

  watch(host: string, listener: (event: number) => void): () => void {
    checkHost(host);
    const owned = this.#owned;
    if (!owned) return () => {};
    return owned.subscribe(eventChannel(this.key(host)), (message) => {
      const event = Number(message);
      if (Number.isInteger(event) && event > 0) listener(event);
    });
  }

  async join(host: string): Promise<FleetState | undefined> {
    checkHost(host);
    const stored = await this.#guard.run(() => this.#store.join(host));
    return stored && this.#local(stored, this.#now()).state;
  }

  async reserve(host: string, count: number, counts?: SendCounts): Promise<SlotGrant | undefined> {
    checkHost(host);
    check(Number.isInteger(count) && count >= 1 && count <= MAX_RESERVATION, 'count', 'must be 1..1000');
    checkSendCounts(counts);
    const recovery = this.#pending.get(host);
    this.#pending.delete(host);
    const stored = await this.#guard.run(() => this.#store.reserve(host, count, recovery, counts));
    if (!stored) {
      // Not sent (or not known to have arrived): keep it for the next reservation.
      if (recovery) this.reportRate(host, recovery);
      return undefined;
    }
    const { state, local } = this.#local(stored, this.#now());
    const server = [
      ...stored.holes,
      ...Array.from({ length: stored.count }, (_, i) => stored.first + i * stored.interval),
    ];
    const slots = server.map(local);
    // Each slot's own Redis time, for handing it back exactly where it lay (a time converted
    // back through a later reply's clock offset lands a few ms off, beside another's slot).
    const granted = this.#granted.get(host) ?? new Map<number, number>();
    this.#granted.set(host, granted);
    for (const [i, at] of slots.entries()) granted.set(at, server[i] as number);
    for (const at of granted.keys()) {
      if (granted.size <= MAX_REMEMBERED_SLOTS) break;
      granted.delete(at);
    }
    return { state, slots, early: stored.early };
  }

  async reportCongestion(host: string, report: CongestionReport): Promise<CongestionVerdict | undefined> {
    checkHost(host);
    checkReport(report);
    const cut = report.cut;
    check(cut === undefined || (cut > 0 && cut < 1), 'cut', 'must be between 0 and 1');
    const { knee, deepest, shallowest, settleMs } = report;
    check(knee === undefined || (knee > 0 && knee <= 1), 'knee', 'must be in (0, 1]');
    check(deepest === undefined || (deepest > 0 && deepest < 1), 'deepest', 'must be between 0 and 1');
    check(
      shallowest === undefined || (shallowest >= (deepest ?? 0) && shallowest < 1),
      'shallowest',
      'must be in [deepest, 1)',
    );
    check(settleMs === undefined || (Number.isFinite(settleMs) && settleMs >= 0), 'settleMs', 'must be >= 0');
    const wait = report.retryAfterMs;
    check(wait === undefined || (Number.isFinite(wait) && wait >= 0), 'retryAfterMs', 'must be >= 0');
    checkSendCounts(report);
    checkCount(report.returned, 'returned');
    const stored = await this.#guard.run(() => this.#store.reportCongestion(host, report));
    if (!stored) return undefined;
    const verdict = { accepted: stored.accepted, state: this.#local(stored, this.#now()).state };
    this.#logCongestion(host, report.eventSeen, verdict);
    return verdict;
  }

  /**
   * DEBUG, once per congestion report the fleet answered: whether it opened an event or
   * one was already open (the report then adopts its rate), and the fleet's state after.
   * A fleet's course, process by process, is read from these (`bench/coordination.ts
   * --trace`).
   */
  #logCongestion(host: string, eventSeen: number, verdict: CongestionVerdict): void {
    const { state, accepted } = verdict;
    const rate = state.rate === undefined ? 'none' : `${state.rate.toFixed(1)}/s`;
    this.#log().debug(
      `Congestion reported to the fleet: host=${host} event_seen=${eventSeen} ` +
        `${accepted ? 'opened' : 'adopted'} event=${state.event} rate=${rate}`,
      {
        logger: ADAPTIVE_LOGGER,
        event: 'coordination_congestion',
        host,
        eventSeen,
        opened: accepted,
        fleetEvent: state.event,
        rate: state.rate,
        knee: state.knee,
        trying: state.trying,
      },
    );
  }

  /** The logger in force: the one given, else the client's, else one from the environment. */
  #log(): Logger {
    return this.#logger ?? this.#contextLogger ?? resolveLogger(undefined);
  }

  reportRate(host: string, report: RateReport): void {
    checkHost(host);
    checkReport(report);
    const before = this.#pending.get(host);
    if (before && before.eventSeen > report.eventSeen) return;
    if (before && before.eventSeen === report.eventSeen) {
      this.#pending.set(host, {
        eventSeen: report.eventSeen,
        rate: maxDefined(before.rate, report.rate),
        limit: maxDefined(before.limit, report.limit),
      });
      return;
    }
    this.#pending.set(host, report);
  }

  release(host: string, report: ReleaseReport): void {
    checkHost(host);
    checkSendCounts(report);
    checkCount(report.returned, 'returned');
    const { returnedAt, returnedEvent } = report;
    check(
      returnedAt === undefined ||
        (Array.isArray(returnedAt) &&
          returnedAt.length <= MAX_RESERVATION &&
          returnedAt.every((x) => Number.isFinite(x))),
      'returnedAt',
      'must be finite times (at most 1000)',
    );
    check(
      returnedEvent === undefined || (Number.isInteger(returnedEvent) && returnedEvent >= 0),
      'returnedEvent',
      'must be an integer >= 0',
    );
    const recovery = this.#pending.get(host);
    this.#pending.delete(host);
    // The slots' Redis times, as granted (a time this coordinator did not grant is left
    // out); none: the schedule moves back by the count, as before.
    const granted = this.#granted.get(host);
    this.#granted.delete(host);
    const server = (returnedAt ?? []).flatMap((at) => {
      const x = granted?.get(at);
      return x === undefined ? [] : [x];
    });
    const stored: ReleaseReport =
      server.length === 0
        ? { ...report, returnedAt: undefined, returnedEvent: undefined }
        : { ...report, returnedAt: server };
    const call = this.#guard
      .run(() => this.#store.release(host, stored, recovery))
      .then(
        () => {},
        () => {},
      )
      .finally(() => this.#releasing.delete(call));
    this.#releasing.add(call);
  }

  async dispose(): Promise<void> {
    // The last counts of states released just before (each call bounded by the timeout).
    await Promise.all(this.#releasing);
    this.#guard.close();
    this.#pending.clear();
    await this.#owned?.close();
  }

  #now(): number {
    return (this.#clock ?? this.#contextClock ?? systemClock).now();
  }

  /**
   * The stored state in the caller's clock. A server time `x` is `now + (x - server now)`,
   * with `now` read when the reply arrived: each process measures from its own clock, so
   * skewed clocks do not matter, and the error is at most the reply's one-way latency.
   */
  #local(stored: StoredState, arrival: number): { state: FleetState; local: (x: number) => number } {
    const local = (x: number) => arrival + (x - stored.now);
    return {
      local,
      state: {
        event: stored.event,
        rate: stored.rate,
        limit: stored.limit,
        pausedUntil: stored.pause > stored.now ? local(stored.pause) : undefined,
        sendRate: stored.sendRate,
        admittedRate: stored.admittedRate,
        trying: stored.trying,
        noise: stored.noise,
        knee: stored.knee,
        eventAt: stored.eventAt === undefined ? undefined : local(stored.eventAt),
      },
    };
  }
}

/**
 * Coordination of the adaptive limiter across processes through Redis: one shared pacing
 * rate, send schedule, learned limit and cool-down per index host, for every process
 * given the same store and `keyPrefix`.
 *
 * @example
 * ```ts
 * import { Pinecone, redisCoordinator } from 'pinecone-resilient';
 * const pc = new Pinecone({ coordination: redisCoordinator({ url: 'redis://127.0.0.1:6379', keyPrefix: 'pc:' }) });
 * ```
 */
export function redisCoordinator(options: RedisCoordinatorOptions): RedisCoordinator {
  return new RedisCoordinator(options);
}
