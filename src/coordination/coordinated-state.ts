/**
 * A host's limiter state shared by a fleet of processes through a {@link Coordinator}: the
 * in-process {@link AimdState} decides, exactly as without coordination, and the fleet
 * shares what matters between processes:
 *
 * - **one pacing rate and a send schedule**: every dispatch takes a send slot reserved
 *   from the fleet (GCRA at the fleet's rate, reserved in small batches), so the fleet's
 *   requests are spaced as one client's would be; while the fleet is not pacing the slots
 *   are "now" (each send still waits for one, reserved a moment ago, so it leaves knowing
 *   the fleet's state), each process's own pacing (if its controller started it) is the
 *   brake, and the dispatches each process reports make the fleet's send rate;
 * - **one decrease per congestion event**: a congestion event this process sees is
 *   reported with the event id its request left under; the first report of an event sets
 *   the fleet's rate (a cut of the fleet's rate; when it was not pacing yet, its send
 *   rate times the share of its own sends the local controller now paces at, or 0.7 of
 *   it when that controller does not pace) and limit,
 *   a later one adopts what the first set instead of cutting again; a state answered
 *   late, from before the event last taken, is not taken;
 * - **recovery** by the fastest-recovering process (the fleet keeps the highest rate and
 *   limit reported since the event), gentle just above the knee (what the server admitted
 *   when the event came; a rate under it goes to it at once), and a **cool-down** after a
 *   Retry-After that every process waits out; a cut whose trial finds noise is undone
 *   fleet-wide; while the fleet paces its schedule is the brake, so a process may keep its
 *   share of the rate in flight whatever its concurrency limit;
 * - **a fresh process starts from the fleet's state**: its limit and rate, no slow start;
 * - **an equal turn**: every busy process reserves the same few slots at a time, and a state
 *   going away releases its last counts and the slots it did not use.
 *
 * It fails open: while the coordinator is unavailable (Redis down, slow or frozen: its
 * calls answer `undefined` within their bound) every decision is the local state's own,
 * including its own pacing, and shared state is used again once the coordinator answers.
 */

import type { AimdState } from '../resilience/aimd-state.js';
import type { Clock } from '../resilience/clock.js';
import type {
  Dispatch,
  LimiterSnapshot,
  LimiterState,
  ThrottleInfo,
  ThrottleVerdict,
} from '../resilience/limiter-state.js';
import { SendRateMeter } from '../resilience/pacer.js';
import {
  type CongestionReport,
  type Coordinator,
  type FleetState,
  RESERVE_WINDOW_MS,
} from './coordinator.js';
import { SlotReservoir } from './slot-reservoir.js';

/** How far a fleet rate is cut at a congestion event (the local pacer's factor). */
const FLEET_DECREASE = 0.7;

/** The shallowest cut a congestion event makes (a cut that is no cut would not be one). */
const SHALLOWEST_CUT = 0.95;

/** The least share of the fleet's send rate its first rate may be (not one to almost nothing). */
const FIRST_RATE_MIN_SHARE = 0.05;

/**
 * Recovery per second while the fleet paces and requests succeed, as a fraction of the rate
 * the last event set (additive: back to the rate before a 0.7 cut in about 1.4 s).
 */
const FLEET_RECOVERY_PER_SECOND = 0.3;

/**
 * Recovery per second, as a fraction of the knee (just under what the server admitted the
 * fleet when the last event came), while the fleet's rate lies between the knee and
 * {@link NEAR_KNEE} × it: the limit is close above, so it is probed gently (from the knee
 * to a limit 5 % above it in about a second) instead of overshot at the full pace.
 */
const FLEET_PROBE_PER_SECOND = 0.05;

/**
 * The gentle probe above the knee doubles its pace every this many ms it goes on without
 * an event (up to the full recovery pace): the longer no throttle comes, the less the knee
 * says about where the limit lies. A knee read low (successes are counted a reservation
 * late, and a fleet that had just started read 50/s under a bucket of 60/s) held 16
 * processes 10-17 % under the limit for 3.6 s at the fixed pace.
 */
const PROBE_DOUBLING_MS = 1000;

/**
 * Recovery per second, as a fraction of the rate itself, once the fleet's trial found the
 * last cut's throttles arrive whatever the load (no knee, no limit known): the rate doubles
 * each second (a random 12 % of throttles cut 4 processes to 36/s, and the step of 0.3 of
 * that rate per second took seconds to climb to the 150-250/s they could send; half of the
 * rate per second, 3.5 s from 47/s to 250/s).
 */
const FLEET_GROWTH_PER_SECOND = 1;
const NEAR_KNEE = 1.15;

/** A cut goes to this share of the fleet's admitted rate (the knee); a first rate too. */
const BELOW_ADMITTED = 0.95;

/** The fleet's rate is in use while it sends at least this share of it: only then does it rise. */
const IN_USE = 0.9;

/**
 * The fleet's rate is in use, too, while this process's sends wait for their slots (within
 * this many ms): the schedule is what holds it. The fleet's send rate, a count decaying over
 * a second, lags a rate that just rose: read alone, each rise waited 1.5-2 s for it.
 */
const HELD_BY_SCHEDULE_MS = 250;

/**
 * Most send slots one reservation takes. Every busy process asks for as many, so each gets
 * an equal turn at the fleet's schedule; a batch that grew with a process's recent sends let
 * the processes that happened to send more reserve more, and one finished in half the time
 * of another.
 */
const FAIR_BATCH = 4;

/**
 * While the fleet paces, a reservation takes what this process sent in the last half second,
 * at most {@link FAIR_BATCH}. While it does not, what it sent in the last 20 ms (at most 16):
 * one slot at a time for a process sending as in a start-up, so each send leaves knowing
 * the fleet's state as of a moment ago and the first congestion event's rate reaches every
 * process at its next send (8 processes starting together, reserving 4 "now" slots at a
 * time, ran on at their own slow starts for up to 0.4 s after the fleet's first rate was set,
 * and each was refused before it heard of it); a process sending fast reserves several, the
 * next reservation made while a quarter of them is left, so a round trip to Redis never
 * caps its rate. Those slots are "now": they only count sends.
 */
const PACED_RESERVATION = { horizonMs: 500, maxBatch: FAIR_BATCH };
const UNPACED_RESERVATION = { horizonMs: 20, maxBatch: 16 };

/** While no slot is held yet, look again this soon (ms): a reservation is a loopback round trip. */
const SLOT_POLL_MS = 2;

/** A dispatch, with the fleet event it left under. */
interface FleetDispatch extends Dispatch {
  readonly fleetEvent: number;
  /**
   * The fleet event its send slot was granted under (what a trial of that event's cut
   * counts); `undefined` when it left without one of the fleet's slots.
   */
  readonly slotEvent: number | undefined;
}

/** Options of {@link CoordinatedState}. */
export interface CoordinatedStateOptions {
  /** The in-process state that decides (created with the limiter's `notify`). */
  local: AimdState;
  coordinator: Coordinator;
  /** The limiter's host key (the fleet's key of this host). */
  host: string;
  clock: Clock;
}

/** The {@link LimiterState} of a host whose rate and limit a fleet shares. */
export class CoordinatedState implements LimiterState {
  readonly #local: AimdState;
  readonly #coordinator: Coordinator;
  readonly #host: string;
  readonly #clock: Clock;
  readonly #slots: SlotReservoir;
  /** The fleet's state as last heard (with this process's recovery since); `undefined` before the first answer. */
  #fleet: FleetState | undefined;
  /** The reservoir's state last taken (each reservation's answer is a new object). */
  #slotState: FleetState | undefined;
  /** The ceiling of the latest call, for transitions adopted from the fleet. */
  #ceiling = 1;
  #lastRecovery = 0;
  /** The fleet's rate as its current event set it: the recovery step is a fraction of it. */
  #eventRate: number | undefined;
  /** This process's dispatches per second lately (what its local pacing rate is a share of). */
  readonly #sent = new SendRateMeter();
  /** The fleet's knee (just under what the server admitted it when the current event came): recovery slows past it. */
  #knee: number | undefined;
  /** The fleet event this process's own report opened, and the fleet's rate before it. */
  #ownCut: { event: number; rate: number | undefined } | undefined;
  /** When (clock ms) a send of this process last waited for its slot in the fleet's schedule. */
  #scheduledAt = Number.NEGATIVE_INFINITY;
  /** Whether the fleet's trial found its current event's throttles were noise (no knee, no limit known). */
  #unbounded = false;
  /** When (clock ms) this process first probed above the knee under the current event. */
  #probeSince: number | undefined;
  #disposed = false;
  #unwatch: (() => void) | undefined;

  constructor(options: CoordinatedStateOptions) {
    this.#local = options.local;
    this.#coordinator = options.coordinator;
    this.#host = options.host;
    this.#clock = options.clock;
    this.#slots = new SlotReservoir(this.#coordinator, this.#host, UNPACED_RESERVATION);
    // A fresh process starts from what the fleet learned.
    void this.#coordinator.join(this.#host).then(
      (fleet) => {
        if (fleet && !this.#disposed) this.#adopt(fleet, true);
      },
      () => {},
    );
  }

  /** Whether the fleet's schedule is in force (the coordinator answers and knows the host). */
  get #shared(): boolean {
    return this.#coordinator.available && this.#fleet !== undefined;
  }

  admit(ceiling: number, held: number): boolean {
    this.#ceiling = Number.isFinite(ceiling) ? ceiling : this.#ceiling;
    const local = this.#local.admit(ceiling, held);
    if (local || !this.#shared || this.#fleet?.rate === undefined) return local;
    // The fleet paces: its schedule is the brake, and a concurrency limit cut at each event
    // must not hold this process under its share of the fleet's rate (one process against
    // a bucket of 60/s at 20 ms was held to 45-50/s at a limit of 1).
    const rtt = this.#local.snapshot().smoothedRttMs;
    if (rtt === undefined) return false;
    const need = Math.ceil((this.#shareRate(this.#clock.now()) * rtt) / 1000) + 1;
    return held < Math.min(ceiling, need);
  }

  sendAt(now: number): number {
    const slot = this.#slots.peek(now);
    const state = this.#slots.state;
    if (state && state !== this.#slotState) {
      this.#slotState = state;
      this.#adopt(state, false);
    }
    if (!this.#shared) return this.#local.sendAt(now);
    if (this.#fleet?.rate === undefined) {
      // The fleet is not pacing: its slots are "now" and only count sends, and this
      // process's own pacing (started by its own events, before the fleet's first rate
      // is known, or on a trial of a cut) is the brake, exactly as without coordination.
      // A send waits for a slot (see UNPACED_RESERVATION), so it leaves knowing the fleet's
      // state as of a moment ago.
      return Math.max(now, slot ?? now + SLOT_POLL_MS, this.#local.sendAt(now));
    }
    // The fleet's slot replaces local pacing; the local pacer keeps its own measure, for
    // when the coordinator goes away.
    if (slot !== undefined) {
      if (slot > now) this.#scheduledAt = now;
      if (slot > now + RESERVE_WINDOW_MS) this.#watch();
      return Math.max(now, slot);
    }
    return now + SLOT_POLL_MS;
  }

  get pausedUntil(): number {
    const fleet = this.#shared
      ? (this.#fleet?.pausedUntil ?? Number.NEGATIVE_INFINITY)
      : Number.NEGATIVE_INFINITY;
    return Math.max(this.#local.pausedUntil, fleet);
  }

  dispatch(now: number, ceiling: number, inFlight: number): Dispatch {
    const d = this.#local.dispatch(now, ceiling, inFlight);
    this.#sent.record(now);
    const slot = this.#slots.consume(now);
    const fleetEvent = this.#fleet?.event ?? 0;
    // A trial counts the dispatches sent on its cut's schedule: a slot granted before the
    // cut, still held when the process heard of it, was the old rate's, and so was one
    // granted among the old rate's slots.
    const slotEvent = slot && !slot.early ? slot.state.event : undefined;
    if (slotEvent !== undefined) this.#slots.sentUnder(slotEvent);
    const fleetDispatch: FleetDispatch = { ...d, fleetEvent, slotEvent };
    return fleetDispatch;
  }

  onSuccess(now: number, d: Dispatch): void {
    const before = this.#local.snapshot();
    this.#local.onSuccess(now, d);
    this.#slots.admitted();
    const fleet = this.#fleet;
    if (!this.#shared || !fleet) return;
    const after = this.#local.snapshot();
    if (after.restores > before.restores) this.#undoCut();
    // Recovery travels with the next reservation (no call of its own).
    let rate: number | undefined;
    // The rate rises only while the fleet uses it: a rate the fleet does not reach (its
    // processes' limits or their work hold it under) says nothing about the server's limit,
    // and raised anyway it climbed far past it (to 90/s over a bucket of 60/s), unchecked
    // until the fleet could suddenly send at it, at the end of a run, and was throttled.
    // Nor while the fleet's last cut is on trial: the level holds until it is judged.
    // A hold earns no recovery credit for when it ends.
    if (fleet.trying) this.#lastRecovery = now;
    if (
      fleet.rate !== undefined &&
      !fleet.trying &&
      (Math.max(fleet.sendRate, this.#sent.rate(now)) >= IN_USE * fleet.rate ||
        now - this.#scheduledAt <= HELD_BY_SCHEDULE_MS)
    ) {
      const dt = Math.min(Math.max(0, now - this.#lastRecovery), 1000);
      this.#lastRecovery = now;
      const set = this.#eventRate ?? fleet.rate;
      const knee = this.#knee;
      const near = knee !== undefined && fleet.rate >= 0.97 * knee && fleet.rate < NEAR_KNEE * knee;
      if (near) this.#probeSince ??= now;
      const probing = now - (this.#probeSince ?? now);
      // Once the fleet's trial found the last cut's throttles arrive whatever the load,
      // nothing says where a limit lies: the rate grows in proportion to itself.
      const step = near
        ? Math.min(
            FLEET_RECOVERY_PER_SECOND * set,
            FLEET_PROBE_PER_SECOND * knee * 2 ** (probing / PROBE_DOUBLING_MS),
          )
        : this.#unbounded
          ? Math.max(FLEET_RECOVERY_PER_SECOND * set, FLEET_GROWTH_PER_SECOND * fleet.rate)
          : FLEET_RECOVERY_PER_SECOND * set;
      rate = fleet.rate + (step * dt) / 1000;
      // Under the knee the server is known to admit more: go to it at once. (A first rate,
      // cut from a send rate read while the fleet was still ramping up, lay at 39/s under a
      // bucket of 60/s whose knee read 48/s, and climbed back for two seconds.)
      if (knee !== undefined && rate < knee) rate = knee;
      fleet.rate = rate;
    }
    const limit = after.limit > before.limit ? after.limit : undefined;
    if (rate !== undefined || limit !== undefined) {
      this.#coordinator.reportRate(this.#host, { eventSeen: fleet.event, rate, limit });
    }
  }

  onThrottle(now: number, d: Dispatch, info?: ThrottleInfo): ThrottleVerdict | undefined {
    this.#slots.refused((d as FleetDispatch).slotEvent);
    // While the fleet paces, its trial of a cut decides (see the store's trials); the
    // process's own, read from its own few requests, misled (one process took a token
    // bucket's draining burst for noise, and 80 of its requests were refused unreported).
    // Nor does a throttle before this process's first answer pause it: the fleet's
    // schedule spaces its sends (see AimdState.pauseUnanswered).
    const paced = this.#shared && this.#fleet?.rate !== undefined;
    this.#local.tryCuts = !paced;
    this.#local.pauseUnanswered = !paced;
    this.#local.tolerateSlowStartThrottle = !this.#shared;
    const restores = this.#local.snapshot().restores;
    const verdict = this.#local.onThrottle(now, d, info);
    if (!this.#shared) return verdict;
    if (verdict === 'noise' && this.#local.snapshot().restores > restores) this.#undoCut();
    if (verdict !== 'congestion') return verdict;
    const fleet = this.#fleet!;
    const local = this.#local.snapshot();
    const cut = this.#cut(now, fleet, local);
    const rtt = local.smoothedRttMs ?? 0;
    const retryAfterMs =
      info?.retryAfterMs === undefined
        ? undefined
        : Math.min(info.retryAfterMs, info.maxWaitMs ?? info.retryAfterMs);
    const eventSeen = (d as FleetDispatch).fleetEvent ?? fleet.event;
    // Slots reserved at the old rate are not used; those still ahead go back to the schedule.
    const returned = this.#slots.clear(now);
    void this.#coordinator
      .reportCongestion(this.#host, {
        eventSeen,
        ...cut,
        // Only a rate settles: it reaches the others with their next reservation. Before
        // the fleet paces, an event only cuts the reporter's limit, and one held back made
        // the reporter adopt the fleet's uncut limit instead (4 processes staggered lost a
        // batch in 2 of 10 runs, its 4 attempts refused during the first seconds).
        settleMs: fleet.rate === undefined ? undefined : RESERVE_WINDOW_MS + 2 * rtt,
        // (0 before the controller's first admit(): no limit learnt, none to share; the
        // store rejects a limit under 1, and the whole report with it.)
        limit: local.limit >= 1 ? local.limit : undefined,
        retryAfterMs,
        ...this.#slots.takeCounts(),
        returned,
        tried: this.#local.tellsNoise,
      })
      .then(
        (answer) => {
          if (!answer || this.#disposed) return;
          // The cut this process made, to undo if its trial finds the throttles were noise.
          if (answer.accepted) this.#ownCut = { event: answer.state.event, rate: fleet.rate };
          this.#adopt(answer.state, !answer.accepted);
        },
        () => {},
      );
    return verdict;
  }

  /**
   * Listen to the fleet's events from now on (once): a new event's rate reaches this process
   * at once, the slots it holds at the old rate go (the store starts the schedule again from
   * the event) and its next send reserves anew, learning the new rate. Only once its slots
   * lie further ahead than one reservation's window, the schedule booked by other busy
   * processes (8 busy processes, 4 slots each, held it half a second ahead; a cut reached
   * their sends only after that): a short job's process does not open the connection
   * listening takes (a fresh client per 500-vector job, alone, took 9 % longer with it).
   */
  #watch(): void {
    if (this.#unwatch || this.#disposed) return;
    this.#unwatch =
      this.#coordinator.watch?.(this.#host, (event) => {
        if (this.#disposed || event <= (this.#fleet?.event ?? 0)) return;
        this.#slots.clear();
      }) ?? (() => {});
  }

  /**
   * The local controller undid its last cut (its trial found the throttles were noise):
   * undo the fleet's cut that event made too, if this process made it and no event came
   * since (the store drops a step from before its current event; the highest rate wins).
   */
  #undoCut(): void {
    const own = this.#ownCut;
    this.#ownCut = undefined;
    if (!own || own.event !== this.#fleet?.event) return;
    this.#coordinator.reportRate(this.#host, {
      eventSeen: own.event,
      rate: own.rate ?? Number.POSITIVE_INFINITY,
    });
    if (this.#fleet) this.#fleet.rate = own.rate;
    if (own.rate === undefined) this.#slots.resize(UNPACED_RESERVATION);
    this.#knee = undefined;
  }

  holdAfterThrottle(now: number, d: Dispatch, verdict: ThrottleVerdict): number {
    return this.#local.holdAfterThrottle(now, d, verdict);
  }

  snapshot(): LimiterSnapshot {
    const local = this.#local.snapshot();
    return {
      ...local,
      pacingRate: this.#shared ? this.#fleet?.rate : local.pacingRate,
      pausedUntil: this.pausedUntil,
    };
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#unwatch?.();
    // The last sends and successes, and the slots held unused, go back to the fleet: those
    // of the latest event it granted with their times, so it reuses each where it lay.
    const now = this.#clock.now();
    const event = this.#slots.state?.event;
    const returnedAt = event === undefined ? [] : this.#slots.ahead(now, event);
    const returned = this.#slots.clear(now);
    const counts = this.#slots.takeCounts();
    if (this.#coordinator.available && (counts.sent > 0 || counts.admitted > 0 || returned > 0)) {
      this.#coordinator.release?.(this.#host, {
        ...counts,
        returned,
        ...(returnedAt.length > 0 ? { returnedAt, returnedEvent: event } : {}),
      });
    }
  }

  /**
   * The fleet's rate after a congestion event, as the store is to take it from the figures
   * it holds (a process's copy may be stale: one read 19/s admitted where the store counted
   * 42/s). When the fleet paces: down to the knee, 0.95 × what the server admitted the
   * fleet lately, as the store counts it when the report lands (a cut of 0.95 at least, 0.49
   * at most; 0.7 before any success was counted): a rate limit lies just above what it
   * admits, and a 0.7 cut at every event kept the fleet at about 0.8 of it. When it does
   * not pace yet: of what the fleet has been sending, by the share of its own sends this
   * process's controller now paces at (alone: the fleet's rate is the local pacing rate, set
   * from what the server admitted, not 0.7 × a send rate that included the refused
   * requests). (Capping that first rate at the knee was tried: the admitted rate read
   * during slow start is what the fleet sent, not the limit, and four processes started at
   * 14/s under a bucket of 60/s.) 0.7 of it while the local controller does not pace (its
   * limit is no brake on a fleet). Which rule applies is the store's to know: the knee
   * goes with every cut.
   */
  #cut(
    now: number,
    fleet: FleetState,
    local: LimiterSnapshot,
  ): Pick<CongestionReport, 'cut' | 'knee' | 'deepest' | 'shallowest'> {
    // The store takes the knee from its own count of successes, fresher than this copy, and
    // knows whether the fleet paces (this copy may not: a copy that thought it did not, after
    // undoing a first rate, cut a pacing fleet by 0.95 where the knee was 0.65 of it, and
    // four processes were refused a batch's attempts).
    const knee = {
      knee: BELOW_ADMITTED,
      deepest: FLEET_DECREASE * FLEET_DECREASE,
      shallowest: SHALLOWEST_CUT,
    };
    if (fleet.rate !== undefined) return { cut: FLEET_DECREASE, ...knee };
    // Refused before it had an answer (a fresh process, its first requests sent at once),
    // or its controller does not pace (its limit is its brake, halved at this event): the
    // fleet starts pacing at 0.7 of the send rate the store counts all the same (none when
    // it counts no sends). Limits are no brake on a fleet (16 processes at 2 in flight
    // each, 20 ms apart, could send 1600/s): 16 processes started 0.5 s apart saw five
    // events cut only limits in their first 1.5 s, where 26 of their 29 refusals came and
    // one request was refused three times running; one process's cold jobs, each at the
    // fleet's limit of 2, sent at 100/s into a bucket of 60/s, and a job's refused request
    // slept up to 1.4 s. (Before, only a fresh process refused before its first answer
    // started the fleet pacing: a fleet of short jobs never paced otherwise, each job's first
    // burst refused, 500-vector jobs of 170 ms taking 0.3-1.8 s.)
    if (local.smoothedRttMs === undefined || local.pacingRate === undefined) {
      return { cut: FLEET_DECREASE, ...knee };
    }
    const sent = this.#sent.rate(now);
    if (!(sent > 0)) return { cut: FLEET_DECREASE, ...knee };
    const share = Math.min(SHALLOWEST_CUT, Math.max(FIRST_RATE_MIN_SHARE, local.pacingRate / sent));
    return { cut: share, ...knee };
  }

  /** This process's share of the fleet's pacing rate (req/s): the rate × its share of the fleet's sends. */
  #shareRate(now: number): number {
    const rate = this.#fleet?.rate ?? 0;
    const sent = this.#sent.rate(now);
    const fleetSent = Math.max(this.#fleet?.sendRate ?? 0, sent);
    return fleetSent > 0 ? (rate * sent) / fleetSent : rate;
  }

  /**
   * Take the fleet's state. `limit`: also take its limit (a fresh process joining, or a
   * report the fleet had already answered: one decrease per event, fleet-wide). A state
   * from before the event last taken (a reservation answered late) is not taken: it would
   * undo that event's cut. (Should the store's state expire while this process runs on,
   * its ids restart below the one known here; this process's next report, congestion or
   * recovery, carries the id it knows and the store takes it up: see scripts.ts.)
   */
  #adopt(fleet: FleetState, limit: boolean): void {
    const known = this.#fleet;
    if (known !== undefined && fleet.event < known.event) return;
    let takeLimit = limit;
    this.#fleet = { ...fleet };
    this.#slots.resize(fleet.rate === undefined ? UNPACED_RESERVATION : PACED_RESERVATION);
    const now = this.#clock.now();
    if (known === undefined || fleet.event !== known.event) {
      this.#eventRate = fleet.rate;
      // A process joining a fleet already probing probes as far along as the fleet: from
      // when the event opened.
      this.#probeSince = known === undefined ? fleet.eventAt : undefined;
    } else if (fleet.noise > 0 && fleet.noise !== known.noise) {
      // The fleet's trial found the last cut's throttles arrive whatever the load (only
      // such a verdict sets a floor): the limit before the cut is back.
      takeLimit = true;
    }
    // The knee is the store's, read when the event opened and refined in its first moments
    // (scripts.ts). Taken by each process from the admitted rate it read itself, it was the
    // rate the fleet then sent for every process that joined later: each of a fleet's cold
    // jobs took itself to be just above the knee and probed gently, and one process's jobs
    // climbed from 45/s to 55/s in 6 s under a bucket of 60/s (210 ms a job against 167).
    this.#knee = fleet.knee;
    // A floor known and no knee: the trial found the throttles arrive whatever the load, so
    // nothing says where a limit lies.
    this.#unbounded = fleet.noise > 0 && fleet.knee === undefined;
    if (known === undefined || fleet.rate !== known.rate) this.#lastRecovery = now;
    // The fleet's noise floor, when its trials found (or forgot) one: throttles within
    // what it explains are not congestion here either.
    const noise = fleet.noise !== (known?.noise ?? 0) ? fleet.noise : undefined;
    this.#local.adopt(
      { limit: takeLimit ? fleet.limit : undefined, pausedUntil: fleet.pausedUntil, noise },
      this.#ceiling,
    );
  }
}
