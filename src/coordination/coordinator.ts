/**
 * The seam between the adaptive controller and a store shared by several processes: what
 * the controller may ask of the fleet, as plain records. The store only keeps and
 * arbitrates state (one congestion event cuts the fleet once; recoveries merge by maximum;
 * send slots never overlap); every decision (how much to cut, how fast to recover) stays
 * in the local controller.
 *
 * Times here are the controller's clock (milliseconds), whatever clock the store keeps:
 * an implementation converts its own time (Redis `TIME` for {@link redisCoordinator}) on
 * every reply, so processes whose clocks disagree still agree on the schedule.
 *
 * Every operation fails open: when the store is down, slow or frozen it resolves to
 * `undefined` within its timeout, and the controller carries on with local state.
 */
import type { Logger } from '../log.js';
import type { Clock } from '../resilience/clock.js';

/** The longest stretch of the schedule (ms) one reservation may take, past its first slot. */
export const RESERVE_WINDOW_MS = 200;

/** What the fleet knows about one host, in the controller's clock. */
export interface FleetState {
  /**
   * Id of the fleet's last congestion event (0: none yet). Remember it with each dispatch
   * and hand it back as `eventSeen`: a throttle of a dispatch made before the current
   * event belongs to an event the fleet already answered.
   */
  event: number;
  /** The fleet's pacing rate in requests per second; `undefined` when it is not pacing. */
  rate: number | undefined;
  /** The concurrency limit (per process) the fleet learned; `undefined` when none yet. */
  limit: number | undefined;
  /** End of the fleet's cool-down after a Retry-After (clock ms); `undefined` when none. */
  pausedUntil: number | undefined;
  /**
   * The fleet's send rate lately: dispatches per second, as the processes report them with
   * their reservations and congestion reports (a count decaying over a second).
   */
  sendRate: number;
  /**
   * The fleet's admitted rate lately: successes per second, reported as the sends are
   * (what the server let through: just under it is where the limit lies).
   */
  admittedRate: number;
  /**
   * Whether the fleet's last cut is on trial: until the throttles of the dispatches made
   * under it tell whether it helped, the rate holds (no recovery) and a throttle opens no
   * other event unless the share under the cut is heavy. See {@link SendCounts.trial}.
   */
  trying: boolean;
  /**
   * The share of throttles the fleet found arrive whatever the load (a trial whose cut
   * did not lower it: the cut was undone); 0 while none is known. A process takes it as
   * its own noise floor: throttles within what it explains are not congestion.
   */
  noise: number;
  /**
   * The current event's knee (requests/s): just under what the server admitted the fleet
   * when the event opened (without the throttles that arrive whatever the load), the highest
   * read in its first moments. Recovery probes gently just above it. `undefined` when the
   * event has none (no successes counted, a trial found noise, or the store keeps none).
   */
  knee?: number | undefined;
  /** When the current event opened (clock ms); `undefined` before the first or when the store keeps none. */
  eventAt?: number | undefined;
}

/** Throttles among the dispatches a process made under one fleet event (a cut on trial). */
export interface TrialCounts {
  /** The fleet event the dispatches left under. */
  event: number;
  /** Dispatches made under it. */
  sent: number;
  /** Those of them refused with a throttle. */
  refused: number;
}

/** What one process did since its last reservation or report: counted into the fleet's rates. */
export interface SendCounts {
  /** Dispatches made. */
  sent?: number | undefined;
  /** Requests that succeeded. */
  admitted?: number | undefined;
  /** Requests refused with a throttle (the fleet's share of throttles before a cut). */
  refused?: number | undefined;
  /**
   * The dispatches made under the fleet's current event, and the throttles among them
   * (counted only while that event's cut is on trial): what decides the trial.
   */
  trial?: TrialCounts | undefined;
}

/** What a process hands back when its state of a host goes away: see {@link Coordinator.release}. */
export interface ReleaseReport extends SendCounts {
  /** Send slots it held and did not use, still ahead in the schedule: the fleet takes them back. */
  returned?: number | undefined;
  /**
   * Those slots' send times (clock ms), when known: the fleet reuses each where it lay (the
   * next reservations take them first) instead of moving its whole schedule back over
   * slots other processes hold. Without them the schedule moves back by `returned`.
   */
  returnedAt?: number[] | undefined;
  /** The fleet event those slots were granted under (slots of an earlier event are not reused). */
  returnedEvent?: number | undefined;
}

/** Send slots reserved for one process. */
export interface SlotGrant {
  /** Fleet state when the slots were reserved. */
  state: FleetState;
  /**
   * Send times (clock ms, ascending), one per request: no other process holds a slot
   * closer than one pacing interval to any of them. Not before the cool-down's end. When
   * the fleet is not pacing they are all "now" (or the cool-down's end).
   */
  slots: number[];
  /**
   * How many of `slots`, the first ones, lie among the slots granted before the fleet's
   * current event (slots handed back at a cut free schedule among the old rate's): sent
   * beside the old rate's requests, they tell nothing of the cut, and a trial of it does
   * not count them. Default 0.
   */
  early?: number | undefined;
}

/** A congestion event seen by one process, and what its controller decided. */
export interface CongestionReport extends SendCounts {
  /** {@link FleetState.event} when the throttled request was dispatched. */
  eventSeen: number;
  /**
   * The fleet's pacing rate after this event (req/s), decided by the controller from the
   * fleet rate it knew; `Infinity` stops pacing; omitted leaves the rate as it is. Also the
   * rate a cool-down's end is spread at when the fleet was not pacing.
   */
  rate?: number | undefined;
  /**
   * When no `rate` is given: the fleet's rate after this event as a factor (0..1) of its
   * rate, or of its send rate (dispatches per second lately) when it was not pacing.
   * The store holds those measures, so this is how a process cuts from the fleet's figures
   * rather than its own.
   */
  cut?: number | undefined;
  /**
   * With `cut`, while the fleet paces and the store has counted successes: the new rate is
   * this share of the fleet's admitted rate (what the server let through lately, as the
   * store counts it when the report lands: fresher than any process's copy), kept between
   * `deepest` × the rate and `shallowest` × the rate. Without successes counted, `cut`.
   */
  knee?: number | undefined;
  /** The deepest cut one event makes with `knee`, a factor in (0, 1). Default: `cut`. */
  deepest?: number | undefined;
  /** The shallowest cut one event makes with `knee`, in [`deepest`, 1). Default: `cut`. */
  shallowest?: number | undefined;
  /**
   * A report made under the current event less than this many ms after the event opened
   * does not open another: processes learn a new rate at their next reservation, so a
   * throttle that soon was caused by sends at the old one (the fleet still adopts what the
   * first report set, and a Retry-After still extends the cool-down). Default 0.
   */
  settleMs?: number | undefined;
  /** The concurrency limit after this event; omitted leaves it as it is. */
  limit?: number | undefined;
  /**
   * The server's Retry-After (ms): the whole fleet waits until then, whether or not this
   * report opened a new event.
   */
  retryAfterMs?: number | undefined;
  /**
   * Dispatches this process made since its last reservation or report, counted into the
   * fleet's send rate before the cut is taken from it (see {@link Coordinator.reserve}).
   */
  sent?: number | undefined;
  /** Successes since its last reservation or report (the fleet's admitted rate). */
  admitted?: number | undefined;
  /**
   * Send slots this process had reserved and drops unused, still ahead in the schedule:
   * the store takes them back (at the rate they were reserved at), so a cut is not
   * followed by a pause as long as the schedule they held (up to 200 ms).
   */
  returned?: number | undefined;
  /**
   * Put the cut this report makes on trial (a pacing fleet cut to its knee): the rate
   * holds until the throttles of the dispatches made under the new event decide it, and
   * when they come at about the share they had before the cut (it did not help: they
   * arrive whatever the load), the cut is undone and that share becomes the fleet's
   * noise floor. Leave it out when the process does not tell noise from congestion.
   */
  tried?: boolean | undefined;
}

/** The store's answer to a {@link CongestionReport}. */
export interface CongestionVerdict {
  /**
   * `true`: this report opened a new event and set the fleet's rate and limit. `false`: the
   * throttled request left before the current event, which has already cut the fleet:
   * adopt `state` instead of cutting again.
   */
  accepted: boolean;
  state: FleetState;
}

/** A recovery step of one process: the fleet takes the highest rate and limit reported. */
export interface RateReport {
  /** {@link FleetState.event} the step was made under; steps from before the current event are dropped. */
  eventSeen: number;
  /** Pacing rate now (req/s); `Infinity` stops pacing; omitted leaves the rate as it is. */
  rate?: number | undefined;
  /** Concurrency limit now; omitted leaves the limit as it is. */
  limit?: number | undefined;
}

/** What a client hands its coordinator: its logger and its clock. */
export interface CoordinatorContext {
  logger: Logger;
  clock: Clock;
}

/**
 * Shared adaptive state for a fleet of processes, keyed by host (the limiter registry's
 * host key). {@link redisCoordinator} is the implementation shipped; any object with
 * these methods works.
 */
export interface Coordinator {
  /**
   * Called by the `Pinecone` client that is given this coordinator: its logger and clock
   * (those given to the coordinator itself take precedence). Starts connecting.
   */
  attach(context: CoordinatorContext): void;
  /**
   * The fleet's state of `host`, read without changing it: a fresh process starts from it
   * (the fleet's rate and limit, no slow start). While the first connection is being made
   * this waits for it (bounded); after that it is bounded like every call.
   */
  join(host: string): Promise<FleetState | undefined>;
  /**
   * Reserve up to `count` send slots (GCRA at the fleet's rate, after any cool-down; an
   * implementation may grant fewer, at least one). Recovery steps noted by
   * {@link reportRate} travel with it. `counts`: what this process sent and had admitted
   * since its last reservation or report (the fleet's send and admitted rates; without
   * it, `count` sends). Slots reserved are not all used (dropped when stale or after an
   * event), so a store counting reservations would read the fleet's send rate too high.
   */
  reserve(host: string, count: number, counts?: SendCounts): Promise<SlotGrant | undefined>;
  /** One congestion event seen here: opens a new fleet event unless the fleet already answered it. */
  reportCongestion(host: string, report: CongestionReport): Promise<CongestionVerdict | undefined>;
  /**
   * A recovery step. Not a call of its own: the latest step per host is sent with the next
   * {@link reserve} of that host (recovery is not urgent; a round trip per success would be).
   */
  reportRate(host: string, report: RateReport): void;
  /**
   * This process's state of `host` goes away (its client closes, or the registry evicts
   * the host): count what it sent and had admitted since its last report (with any
   * recovery step not yet sent) and hand back the slots it held unused. Without it a short
   * job's last sends went uncounted (a fleet of 500-vector jobs read its send rate a third
   * low) and its unused slots held the schedule for the next. Not awaited by the caller;
   * `dispose()` waits for it (within the call's timeout). Optional: a coordinator without
   * it loses only those counts.
   */
  release?(host: string, report: ReleaseReport): void;
  /**
   * Call `listener` with the id of each congestion event of `host` the moment the store
   * opens it, so that a process drops the send slots it holds at the old rate at once
   * instead of at its next reservation (a process reserves a few slots at a time, and
   * eight busy ones held the schedule half a second ahead). Best effort: events missed
   * are learnt with the next reservation as before. Answers the function that stops
   * listening. Optional.
   */
  watch?(host: string, listener: (event: number) => void): () => void;
  /** Whether the store answered its last call (the controller may skip it while not). */
  readonly available: boolean;
  /** Release the connection and stop reconnecting; later calls resolve to `undefined`. */
  dispose(): Promise<void>;
}
