/**
 * A host's limiter state shared by a fleet of processes through a {@link Coordinator}: the
 * in-process {@link AimdState} decides, exactly as without coordination, and the fleet
 * shares what matters between processes:
 *
 * - **one pacing rate and a send schedule**: every dispatch takes a send slot reserved
 *   from the fleet (GCRA at the fleet's rate, reserved in small batches), so the fleet's
 *   requests are spaced as one client's would be; while the fleet is not pacing the slots
 *   are "now", each process's own pacing (if its controller started it) is the brake, and
 *   the dispatches each process reports make the fleet's send rate;
 * - **one decrease per congestion event**: a congestion event this process sees is
 *   reported with the event id its request left under; the first report of an event sets
 *   the fleet's rate (a cut of the fleet's rate; when it was not pacing yet, its send
 *   rate times the share of its own sends the local controller now paces at) and limit,
 *   a later one adopts what the first set instead of cutting again; a state answered
 *   late, from before the event last taken, is not taken;
 * - **recovery** by the fastest-recovering process (the fleet keeps the highest rate and
 *   limit reported since the event), and a **cool-down** after a Retry-After that every
 *   process waits out;
 * - **a fresh process starts from the fleet's state**: its limit and rate, no slow start.
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
import type { Coordinator, FleetState } from './coordinator.js';
import { SlotReservoir } from './slot-reservoir.js';

/** How far a fleet rate is cut at a congestion event (the local pacer's factor). */
const FLEET_DECREASE = 0.7;

/**
 * Bounds of the first fleet rate as a share of the fleet's send rate (see
 * {@link CoordinatedState.onThrottle}): never a cut that is no cut, nor one to almost nothing.
 */
const FIRST_CUT_MIN = 0.05;
const FIRST_CUT_MAX = 0.95;

/**
 * Recovery per second while the fleet paces and requests succeed, as a fraction of the rate
 * the last event set (additive: back to the rate before a 0.7 cut in about 1.4 s).
 */
const FLEET_RECOVERY_PER_SECOND = 0.3;

/** While no slot is held yet, look again this soon (ms): a reservation is a loopback round trip. */
const SLOT_POLL_MS = 2;

/** A dispatch, with the fleet event it left under. */
interface FleetDispatch extends Dispatch {
  readonly fleetEvent: number;
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
  #disposed = false;

  constructor(options: CoordinatedStateOptions) {
    this.#local = options.local;
    this.#coordinator = options.coordinator;
    this.#host = options.host;
    this.#clock = options.clock;
    this.#slots = new SlotReservoir(this.#coordinator, this.#host);
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
    return this.#local.admit(ceiling, held);
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
      return Math.max(now, slot ?? now, this.#local.sendAt(now));
    }
    // The fleet's slot replaces local pacing; the local pacer keeps its own measure, for
    // when the coordinator goes away.
    if (slot !== undefined) return Math.max(now, slot);
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
    this.#slots.consume(now);
    const fleetDispatch: FleetDispatch = { ...d, fleetEvent: this.#fleet?.event ?? 0 };
    return fleetDispatch;
  }

  onSuccess(now: number, d: Dispatch): void {
    const before = this.#local.snapshot();
    this.#local.onSuccess(now, d);
    const fleet = this.#fleet;
    if (!this.#shared || !fleet) return;
    const after = this.#local.snapshot();
    // Recovery travels with the next reservation (no call of its own).
    let rate: number | undefined;
    if (fleet.rate !== undefined) {
      const dt = Math.min(Math.max(0, now - this.#lastRecovery), 1000);
      this.#lastRecovery = now;
      rate = fleet.rate + (FLEET_RECOVERY_PER_SECOND * (this.#eventRate ?? fleet.rate) * dt) / 1000;
      fleet.rate = rate;
    }
    const limit = after.limit > before.limit ? after.limit : undefined;
    if (rate !== undefined || limit !== undefined) {
      this.#coordinator.reportRate(this.#host, { eventSeen: fleet.event, rate, limit });
    }
  }

  onThrottle(now: number, d: Dispatch, info?: ThrottleInfo): ThrottleVerdict | undefined {
    const verdict = this.#local.onThrottle(now, d, info);
    if (verdict !== 'congestion' || !this.#shared) return verdict;
    const fleet = this.#fleet!;
    const local = this.#local.snapshot();
    const cut = this.#cut(now, fleet, local);
    const retryAfterMs =
      info?.retryAfterMs === undefined
        ? undefined
        : Math.min(info.retryAfterMs, info.maxWaitMs ?? info.retryAfterMs);
    const eventSeen = (d as FleetDispatch).fleetEvent ?? fleet.event;
    // Slots reserved at the old rate are not used.
    this.#slots.clear();
    void this.#coordinator
      .reportCongestion(this.#host, {
        eventSeen,
        cut,
        limit: local.limit,
        retryAfterMs,
        sent: this.#slots.takeDispatched(),
      })
      .then(
        (answer) => {
          if (answer && !this.#disposed) this.#adopt(answer.state, !answer.accepted);
        },
        () => {},
      );
    return verdict;
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
    this.#disposed = true;
    this.#slots.clear();
  }

  /**
   * The fleet's rate after a congestion event, as a factor of a rate the store holds (a
   * process's copy may be stale): of the fleet's rate when it paces; when it does not yet,
   * of what the fleet has been sending, by the share of its own sends this process's
   * controller now paces at (alone: the fleet's rate is the local pacing rate, set from
   * what the server admitted, not 0.7 × a send rate that included the refused requests).
   * No rate while the local controller does not pace either (its limit is the brake).
   */
  #cut(now: number, fleet: FleetState, local: LimiterSnapshot): number | undefined {
    if (fleet.rate !== undefined) return FLEET_DECREASE;
    // Down to one request in flight without local pacing (pacing turned off): the rule before.
    if (local.pacingRate === undefined) return local.limit <= 1 ? FLEET_DECREASE : undefined;
    const sent = this.#sent.rate(now);
    if (!(sent > 0)) return FLEET_DECREASE;
    return Math.min(FIRST_CUT_MAX, Math.max(FIRST_CUT_MIN, local.pacingRate / sent));
  }

  /**
   * Take the fleet's state. `limit`: also take its limit (a fresh process joining, or a
   * report the fleet had already answered: one decrease per event, fleet-wide). A state
   * from before the event last taken (a reservation answered late) is not taken: it would
   * undo that event's cut.
   */
  #adopt(fleet: FleetState, limit: boolean): void {
    const known = this.#fleet;
    if (known !== undefined && fleet.event < known.event) return;
    this.#fleet = { ...fleet };
    if (known === undefined || fleet.event !== known.event) this.#eventRate = fleet.rate;
    if (known === undefined || fleet.rate !== known.rate) this.#lastRecovery = this.#clock.now();
    this.#local.adopt(
      { limit: limit ? fleet.limit : undefined, pausedUntil: fleet.pausedUntil },
      this.#ceiling,
    );
  }
}
