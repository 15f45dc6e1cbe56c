/**
 * Fail-open around every call to the shared store. Each call runs under our own timer
 * (a client's command timeout may stop counting once a command is written, and a frozen
 * server never answers): past it, or on any error, the call resolves to `undefined`, the
 * store is marked unavailable, ONE warning is logged, and later calls return `undefined`
 * at once (no waiting) while probes in the background look for the store again. The first
 * probe that answers switches back.
 *
 * A reply that comes after its call was given up proves the store answers: the outage that
 * call began ends at once, as an answered probe would end it (at most one such early end
 * per {@link FailOpenOptions.lateAnswerGapMs}, so a store steadily slower than the bound
 * does not flap on every call).
 *
 * The first connection is made once, ahead of the first call (`start`); calls made
 * meanwhile wait for it, bounded by the start-up timeout, so a fresh process can start
 * from the fleet's state. Timers for probes are unref'd: a store that is away never holds
 * the process open.
 */
import { ADAPTIVE_LOGGER, type Logger } from '../log.js';

/** Options of {@link FailOpenGuard}. */
export interface FailOpenOptions {
  /** Bound on one call, ms. */
  timeoutMs: number;
  /** Bound on connecting (start-up, and each background probe), ms. */
  connectTimeoutMs: number;
  /** Delay before the first probe after the store went away, ms; doubles per failed probe. */
  probeIntervalMs: number;
  /** Longest delay between probes, ms. */
  maxProbeIntervalMs: number;
  /**
   * Least time between two outages ended early by a late reply, ms (default 1000): a reply
   * to a call given up ends the outage that call began, at once, unless one did within this
   * time. 8 processes starting together on 2 cores gave up calls whose replies came 0-14 ms
   * later, and each then decided alone for 150 ms (the probe's delay and round trip), the
   * moment the fleet was to learn its first rate.
   */
  lateAnswerGapMs?: number | undefined;
  /** A cheap round trip that proves the store answers (e.g. `TIME`). */
  probe: () => Promise<unknown>;
  /** Work before the first connection that is not a wait on the store (loading the client). */
  prepare?: (() => Promise<void>) | undefined;
  /** Drop a connection that stopped answering, so the next probe opens a fresh one. */
  reset?: (() => void) | undefined;
  /** How the store is named in log records (no credentials). */
  store: string;
  /** The logger in force (read when a record is written). */
  logger: () => Logger;
}

/** What the guard counted. */
export interface FailOpenStats {
  /** Calls that ran out of time. */
  timeouts: number;
  /** Calls that failed (connection refused or closed, an error reply...). */
  failures: number;
  /** Calls answered `undefined` at once because the store was unavailable. */
  skipped: number;
  /** Times the store went from available to unavailable (start-up failure included). */
  outages: number;
}

type GuardState = 'idle' | 'starting' | 'up' | 'down' | 'closed';

type Outcome<T> = { kind: 'ok'; value: T } | { kind: 'timeout' } | { kind: 'error'; error: unknown };

/**
 * A call's bound while the process itself is busy: at most this many times `timeout` (1 s
 * at the default 50 ms, the connect bound's default). At 4× (200 ms), 16 processes starting
 * together on 2 cores, each starved of CPU while it validated its first batch, took 10-16
 * of their first calls a run for outages (calls of 260-330 ms, the process late all along).
 */
const BUSY_BOUND = 20;

/** Consecutive probe timeouts after which the connection is dropped and opened afresh. */
const PROBE_TIMEOUTS_BEFORE_RESET = 2;
/** Outages closer together than this log at debug level, not warn. */
const WARN_EVERY_MS = 60_000;

/**
 * `promise` under a timer of `ms`. When the timer fires the verdict waits one turn of the
 * event loop's I/O phase, so a reply that arrived while the loop was busy (a long
 * synchronous task in the process) still counts. A timer that fires late by more than half
 * of `ms`, or whose turn to the verdict comes that late (the process itself was busy, and
 * could not have read a reply), gives the reply half of `ms` more, and so on up to
 * {@link BUSY_BOUND} × `ms` in all: 8 processes starting together on 2 cores each took its
 * first Redis calls for an outage (verdicts at 73-200 ms, the replies read 2-21 ms later)
 * and decided alone at the very moment the fleet was to start from one state. A store that
 * is slow while the process is not still gets `ms`. An unref'd timer (`hold: false`) does
 * not keep the process alive: for background work nobody waits on.
 */
export function bounded<T>(promise: Promise<T>, ms: number, hold = true): Promise<Outcome<T>> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome: Outcome<T>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    // However busy the process, the verdict comes by BUSY_BOUND × ms.
    const cap = performance.now() + BUSY_BOUND * ms;
    let timer: NodeJS.Timeout | undefined;
    const arm = (delay: number): void => {
      const due = performance.now() + delay;
      timer = setTimeout(() => {
        const fired = performance.now();
        setImmediate(() => {
          if (settled) return;
          const now = performance.now();
          // Late (the timer, or the turn to the verdict): the process was busy; look again.
          if (Math.max(fired - due, now - fired) > ms / 2 && now < cap) arm(ms / 2);
          else settle({ kind: 'timeout' });
        });
      }, delay);
      if (!hold) timer.unref();
    };
    arm(ms);
    promise.then(
      (value) => settle({ kind: 'ok', value }),
      (error: unknown) => settle({ kind: 'error', error }),
    );
  });
}

function reasonOf(outcome: Outcome<unknown>, ms: number): string {
  if (outcome.kind === 'timeout') return `no answer within ${ms} ms`;
  if (outcome.kind === 'error') {
    const error = outcome.error as { message?: unknown } | undefined;
    return String(error?.message ?? outcome.error).slice(0, 200);
  }
  return 'ok';
}

/** Availability of one store, and the bound on each call to it. */
export class FailOpenGuard {
  readonly stats: FailOpenStats = { timeouts: 0, failures: 0, skipped: 0, outages: 0 };
  readonly #o: FailOpenOptions;
  #state: GuardState = 'idle';
  #startup: Promise<void> | undefined;
  #probeTimer: NodeJS.Timeout | undefined;
  #probeDelay: number;
  #probeTimeouts = 0;
  #lastWarning = Number.NEGATIVE_INFINITY;
  #warned = false;
  #downSince = 0;
  #lastLateAnswer = Number.NEGATIVE_INFINITY;

  constructor(options: FailOpenOptions) {
    this.#o = options;
    this.#probeDelay = options.probeIntervalMs;
  }

  /** Whether the store answered the last call (or probe). */
  get available(): boolean {
    return this.#state === 'up';
  }

  /** Make the first connection now (once); calls wait for it. */
  start(): Promise<void> {
    if (this.#state !== 'idle') return this.#startup ?? Promise.resolve();
    this.#state = 'starting';
    this.#startup = (async () => {
      let outcome: Outcome<unknown>;
      try {
        await this.#o.prepare?.();
        outcome = await bounded(this.#o.probe(), this.#o.connectTimeoutMs);
      } catch (error) {
        outcome = { kind: 'error', error };
      }
      if (this.#state !== 'starting') return;
      if (outcome.kind === 'ok') this.#state = 'up';
      else this.#down(reasonOf(outcome, this.#o.connectTimeoutMs));
    })();
    return this.#startup;
  }

  /**
   * Run one call under the timer; `undefined` when the store is unavailable, does not
   * answer in time, or fails.
   */
  async run<T>(call: () => Promise<T>): Promise<T | undefined> {
    if (this.#state === 'idle') void this.start();
    if (this.#state === 'starting') await this.#startup;
    if (this.#state !== 'up') {
      this.stats.skipped += 1;
      return undefined;
    }
    let promise: Promise<T>;
    try {
      promise = call();
    } catch (error) {
      promise = Promise.reject(error);
    }
    const started = performance.now();
    const outcome = await bounded(promise, this.#o.timeoutMs);
    if (outcome.kind === 'ok') return outcome.value;
    if (outcome.kind === 'timeout') this.stats.timeouts += 1;
    else this.stats.failures += 1;
    const outages = this.stats.outages;
    this.#down(reasonOf(outcome, this.#o.timeoutMs));
    if (outcome.kind === 'timeout' && this.stats.outages > outages) {
      // This call began the outage: its reply, if it comes as late as a probe's may, ends it.
      const outage = this.stats.outages;
      promise.then(
        () => this.#lateAnswer(outage, started),
        () => {},
      );
    }
    return undefined;
  }

  /** A reply to the call that began outage number `outage` came, late. */
  #lateAnswer(outage: number, started: number): void {
    const now = performance.now();
    if (this.#state !== 'down' || this.stats.outages !== outage) return;
    if (now - started > this.#o.connectTimeoutMs) return;
    if (now - this.#lastLateAnswer < (this.#o.lateAnswerGapMs ?? 1000)) return;
    this.#lastLateAnswer = now;
    clearTimeout(this.#probeTimer);
    this.#probeTimer = undefined;
    this.#up();
  }

  /** Stop probing; every later call resolves to `undefined`. */
  close(): void {
    this.#state = 'closed';
    clearTimeout(this.#probeTimer);
    this.#probeTimer = undefined;
  }

  #down(reason: string): void {
    if (this.#state !== 'up' && this.#state !== 'starting') return;
    this.#state = 'down';
    this.stats.outages += 1;
    this.#downSince = performance.now();
    this.#probeDelay = this.#o.probeIntervalMs;
    this.#probeTimeouts = 0;
    // One warning per outage; outages closer together than a minute (a flapping store)
    // go to debug, so a log is not flooded.
    this.#warned = this.#downSince - this.#lastWarning >= WARN_EVERY_MS;
    if (this.#warned) this.#lastWarning = this.#downSince;
    const log = this.#o.logger();
    (this.#warned ? log.warn : log.debug).call(
      log,
      `Coordination store ${this.#o.store} unavailable (${reason}); limits are per process until it answers again.`,
      { logger: ADAPTIVE_LOGGER, event: 'coordination_unavailable', store: this.#o.store, reason },
    );
    this.#scheduleProbe();
  }

  #up(): void {
    this.#state = 'up';
    const seconds = ((performance.now() - this.#downSince) / 1000).toFixed(1);
    const log = this.#o.logger();
    (this.#warned ? log.info : log.debug).call(
      log,
      `Coordination store ${this.#o.store} answers again after ${seconds}s; limits are shared again.`,
      { logger: ADAPTIVE_LOGGER, event: 'coordination_restored', store: this.#o.store },
    );
  }

  #scheduleProbe(): void {
    this.#probeTimer = setTimeout(() => void this.#runProbe(), this.#probeDelay);
    this.#probeTimer.unref();
    this.#probeDelay = Math.min(this.#probeDelay * 2, this.#o.maxProbeIntervalMs);
  }

  async #runProbe(): Promise<void> {
    this.#probeTimer = undefined;
    if (this.#state !== 'down') return;
    const outcome = await bounded(this.#o.probe(), this.#o.connectTimeoutMs, false);
    if (this.#state !== 'down') return;
    if (outcome.kind === 'ok') {
      this.#up();
      return;
    }
    // A failed probe means the connection is unusable (closed, refused): open a fresh one
    // next time. One that only timed out may be a server that is slow for a moment.
    this.#probeTimeouts = outcome.kind === 'timeout' ? this.#probeTimeouts + 1 : PROBE_TIMEOUTS_BEFORE_RESET;
    if (this.#probeTimeouts >= PROBE_TIMEOUTS_BEFORE_RESET) {
      this.#probeTimeouts = 0;
      this.#o.reset?.();
    }
    this.#scheduleProbe();
  }
}
