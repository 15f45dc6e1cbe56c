/**
 * Send slots of one host, reserved from the fleet in small batches and handed out one per
 * dispatch, so that coordination costs well under one store call per request. A batch is
 * what this process used in the last `horizonMs` (its own recent pace predicts the next
 * stretch): a busy process reserves up to `maxBatch` at once, a process that sends little
 * reserves one at a time. Unused slots are not returned (a batch is short
 * by construction); a slot left unused for `staleMs` is dropped rather than sent late in a
 * burst. So the fleet counts sends, not slots: each reservation carries the dispatches made
 * and succeeded since the last one (`takeCounts()` hands them to a congestion report). After a
 * congestion event or a cool-down the controller calls `clear()`: slots reserved at the old
 * rate are not used (and those still ahead are handed back to the fleet's schedule).
 *
 * Two ways to use it: `take()` waits for a slot (one reservation shared by the callers
 * waiting at once); `peek()` + `consume()` never wait, for a state whose decisions are
 * synchronous (`LimiterState.sendAt`): `peek` answers the held slot or `undefined` (decide
 * locally) and reserves the next batch in the background when few are left, calling
 * `onReserved` when it lands.
 */
import type { Coordinator, FleetState, SlotGrant, TrialCounts } from './coordinator.js';

/** Options of {@link SlotReservoir}. */
export interface SlotReservoirOptions {
  /** Time (ms) at this process's recent pace one reservation should cover. Default 500. */
  horizonMs?: number;
  /** Most slots one reservation asks for. Default 16. */
  maxBatch?: number;
  /** A slot this far in the past (ms) is dropped instead of used. Default 1000. */
  staleMs?: number;
  /** Called when a background reservation (started by `peek`) has landed. */
  onReserved?: (() => void) | undefined;
}

/** One slot handed out. */
export interface TakenSlot {
  /** Send time (clock ms); may be in the past (send at once). */
  at: number;
  /** The fleet's state when the slot was reserved (its event: the one the slot was granted under). */
  state: FleetState;
  /** The slot lies among those granted before that event (see {@link SlotGrant.early}). */
  early: boolean;
}

/** Counters of a {@link SlotReservoir}. */
export interface SlotReservoirStats {
  /** Slots handed out. */
  taken: number;
  /** Reservations made (store calls, answered or not). */
  reservations: number;
  /** Slots dropped: stale, or cleared after an event. */
  dropped: number;
}

/** The slots of one host, over a {@link Coordinator}'s `reserve`. */
export class SlotReservoir {
  readonly stats: SlotReservoirStats = { taken: 0, reservations: 0, dropped: 0 };
  readonly #coordinator: Pick<Coordinator, 'reserve'>;
  readonly #host: string;
  #horizon = 500;
  #maxBatch = 16;
  readonly #stale: number;
  readonly #onReserved: (() => void) | undefined;
  /** Slots held, each with the state of the reservation that granted it. */
  #slots: TakenSlot[] = [];
  #state: FleetState | undefined;
  #refill: Promise<boolean> | undefined;
  #waiting = 0;
  /** Dispatches and successes since the counts were last handed to the store (the fleet's rates). */
  #dispatched = 0;
  #admitted = 0;
  #refused = 0;
  /** Dispatches made under the latest fleet event told, and throttles among them, not reported yet. */
  #under: TrialCounts = { event: 0, sent: 0, refused: 0 };
  /** Times of the latest takes within the horizon (at most `maxBatch`). */
  #recent: number[] = [];

  constructor(coordinator: Pick<Coordinator, 'reserve'>, host: string, options: SlotReservoirOptions = {}) {
    this.#coordinator = coordinator;
    this.#host = host;
    this.resize(options);
    this.#stale = options.staleMs ?? 1000;
    this.#onReserved = options.onReserved;
    if (!(this.#stale > 0)) throw new RangeError(`staleMs must be > 0, got ${this.#stale}`);
  }

  /**
   * Change how much one reservation covers (`horizonMs`, `maxBatch`: see
   * {@link SlotReservoirOptions}) from the next reservation on.
   */
  resize(options: Pick<SlotReservoirOptions, 'horizonMs' | 'maxBatch'>): void {
    const horizon = options.horizonMs ?? this.#horizon;
    const maxBatch = options.maxBatch ?? this.#maxBatch;
    if (!(horizon > 0)) throw new RangeError(`horizonMs must be > 0, got ${horizon}`);
    if (!(Number.isInteger(maxBatch) && maxBatch >= 1)) {
      throw new RangeError(`maxBatch must be a whole number >= 1, got ${maxBatch}`);
    }
    this.#horizon = horizon;
    this.#maxBatch = maxBatch;
  }

  /** Slots the next reservation asks for (before counting callers already waiting). */
  get batchSize(): number {
    return Math.max(1, Math.min(this.#maxBatch, this.#recent.length));
  }

  /** Slots held now. */
  get held(): number {
    return this.#slots.length;
  }

  /** The fleet's state at the last reservation; `undefined` before one answered. */
  get state(): FleetState | undefined {
    return this.#state;
  }

  /**
   * The send slot of one dispatch at `now` (clock ms), or `undefined` when the store is
   * unavailable: decide locally.
   */
  async take(now: number): Promise<TakenSlot | undefined> {
    this.#observe(now);
    this.#waiting += 1;
    try {
      // Stale slots are dropped once, before reserving: fresh ones are used whatever their
      // time, so a store whose clock misleads us can never make this loop call it again and again.
      this.#dropStale(now);
      for (;;) {
        const slot = this.#slots.shift();
        if (slot !== undefined) {
          this.stats.taken += 1;
          return slot;
        }
        if (!(await this.#startReserve())) return undefined;
      }
    } finally {
      this.#waiting -= 1;
    }
  }

  /**
   * Without waiting: the send time (clock ms) of the next held slot, or `undefined` when
   * none is held (decide locally). Reserves the next batch in the background when none or
   * few are left.
   */
  peek(now: number): number | undefined {
    this.#dropStale(now);
    if (this.#slots.length <= this.batchSize / 4 && !this.#refill) {
      void this.#startReserve().then(
        (ok) => {
          if (ok) this.#onReserved?.();
        },
        () => {},
      );
    }
    return this.#slots[0]?.at;
  }

  /** A dispatch leaves at `now` on the slot {@link peek} answered; `undefined` if none was held. */
  consume(now: number): TakenSlot | undefined {
    this.#observe(now);
    const slot = this.#slots.shift();
    if (slot === undefined) return undefined;
    this.stats.taken += 1;
    return slot;
  }

  /** A request dispatched by this process succeeded (told to the store with the next report). */
  admitted(): void {
    this.#admitted += 1;
  }

  /**
   * A dispatch (just {@link consume}d) left on a slot granted under fleet event `event`:
   * counted for that event's trial. Counts of an earlier event are dropped (a trial judges the latest cut).
   */
  sentUnder(event: number): void {
    if (event !== this.#under.event) {
      if (event < this.#under.event) return;
      this.#under = { event, sent: 0, refused: 0 };
    }
    this.#under.sent += 1;
  }

  /**
   * A request was refused with a throttle; `event`: the fleet event its slot was granted
   * under, counted for that event's trial (`undefined`: it had no slot of the fleet's).
   */
  refused(event: number | undefined): void {
    this.#refused += 1;
    if (event !== undefined && event === this.#under.event) this.#under.refused += 1;
  }

  /**
   * The dispatches and successes counted since the last call (or reservation), for a
   * report to the store (a congestion report carries them); the counts start again at zero.
   */
  takeCounts(): { sent: number; admitted: number; refused: number; trial: TrialCounts | undefined } {
    const under = this.#under;
    const counts = {
      sent: this.#dispatched,
      admitted: this.#admitted,
      refused: this.#refused,
      trial: under.sent > 0 || under.refused > 0 ? { ...under } : undefined,
    };
    this.#dispatched = 0;
    this.#admitted = 0;
    this.#refused = 0;
    this.#under = { event: under.event, sent: 0, refused: 0 };
    return counts;
  }

  /** The send times of the held slots still ahead at `now` that were granted under fleet event `event`. */
  ahead(now: number, event: number): number[] {
    return this.#slots.filter((slot) => slot.at > now && slot.state.event === event).map((slot) => slot.at);
  }

  /**
   * Drop the slots held (after a congestion event or a cool-down: they were for the old
   * rate). Answers how many of them lay after `now`: schedule the fleet may take back.
   */
  clear(now = Number.NEGATIVE_INFINITY): number {
    const ahead = this.#slots.filter((slot) => slot.at > now).length;
    this.stats.dropped += this.#slots.length;
    this.#slots = [];
    return ahead;
  }

  /** The reservation in flight, or a new one. */
  #startReserve(): Promise<boolean> {
    this.#refill ??= this.#reserve().finally(() => {
      this.#refill = undefined;
    });
    return this.#refill;
  }

  #dropStale(now: number): void {
    while (this.#slots.length > 0 && (this.#slots[0] as TakenSlot).at < now - this.#stale) {
      this.#slots.shift();
      this.stats.dropped += 1;
    }
  }

  async #reserve(): Promise<boolean> {
    // One turn first, so callers arriving together are counted in this reservation.
    await Promise.resolve();
    const count = Math.min(this.#maxBatch, Math.max(this.batchSize, this.#waiting));
    this.stats.reservations += 1;
    const counts = this.takeCounts();
    const grant = await this.#coordinator.reserve(this.#host, count, counts);
    if (!grant) {
      // Not known to have arrived: counted with the next report instead.
      this.#dispatched += counts.sent;
      this.#admitted += counts.admitted;
      this.#refused += counts.refused;
      if (counts.trial && counts.trial.event === this.#under.event) {
        this.#under.sent += counts.trial.sent;
        this.#under.refused += counts.trial.refused;
      }
      return false;
    }
    const state = grant.state;
    this.#state = state;
    const early = grant.early ?? 0;
    for (const [i, at] of grant.slots.entries()) this.#slots.push({ at, state, early: i < early });
    return true;
  }

  /** A dispatch at `now`: the batch size's measure, and the send count the store is told. */
  #observe(now: number): void {
    this.#dispatched += 1;
    this.#recent.push(now);
    const since = now - this.#horizon;
    while (this.#recent.length > this.#maxBatch || (this.#recent[0] as number) <= since) {
      this.#recent.shift();
    }
  }
}
