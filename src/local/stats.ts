/**
 * Request accounting of one index: counts per operation and outcome, and a per-second
 * time series (for the demo's timeline picture). Transport-agnostic: a transport reports
 * each finished request with {@link StatsRecorder.record}.
 */
import { type Clock, systemClock } from '../resilience/clock.js';
import type { DataOperation } from './operation-names.js';

/**
 * How a request ended: the HTTP status answered, or a fault that left no proper answer
 * (`reset`: connection destroyed; `truncated` / `malformed`: a 2xx whose body cannot be
 * read; `hang`: never answered, the client gave up; `reset-after-write`: the operation ran
 * (a write is stored), then the connection was destroyed; `slow-body`: the operation ran and
 * the client gave up while its answer trickled in), or `aborted`: the client went away
 * before its request was read in full (no fault of the server's).
 */
export type Outcome =
  | number
  | 'reset'
  | 'truncated'
  | 'malformed'
  | 'hang'
  | 'reset-after-write'
  | 'slow-body'
  | 'aborted';

/** One second of the time series. */
export interface TimelinePoint {
  /** Seconds since the stats started (0, 1, 2, ...). */
  t: number;
  /** Requests answered 2xx with a readable body. */
  accepted: number;
  /** Requests not accepted, whatever the reason (throttled, faulted, invalid). */
  rejected: number;
  /** Requests answered 429. */
  throttled: number;
  /** Injected faults: 5xx, resets, truncated and malformed bodies. */
  faulted: number;
  /** Vectors written by accepted upserts. */
  vectorsUpserted: number;
  /** The most requests in flight at once during this second. */
  inFlightMax: number;
}

/** Totals over the life of the stats. */
export interface RequestTotals {
  total: number;
  accepted: number;
  rejected: number;
  throttled: number;
  faulted: number;
}

/** What `stats(name)` and `GET /admin/indexes/{name}/stats` return. */
export interface IndexStatsSnapshot {
  index: string;
  /** When these stats started (ISO 8601); `t` of the timeline counts from here. */
  startedAt: string;
  /** Seconds since `startedAt`. */
  uptimeSeconds: number;
  /** Seed of the index's current fault sequence. */
  seed: number;
  requests: RequestTotals;
  /** Per operation, per outcome (`"200"`, `"429"`, `"reset"`, ...): request counts. */
  operations: Partial<Record<DataOperation, Record<string, number>>>;
  vectors: {
    /** Records stored now. */
    total: number;
    /** Records stored now per namespace (the default namespace is `__default__`). */
    namespaces: Record<string, number>;
    /** Vectors written by accepted upserts since the stats started. */
    upserted: number;
  };
  inFlight: { current: number; max: number };
  /** One point per second from 0 to now (at most the last hour), gaps filled with zeros. */
  timeline: TimelinePoint[];
}

/** How many seconds of the timeline are kept. */
export const TIMELINE_SECONDS = 3600;

function emptyPoint(t: number): TimelinePoint {
  return { t, accepted: 0, rejected: 0, throttled: 0, faulted: 0, vectorsUpserted: 0, inFlightMax: 0 };
}

/** Is the outcome an injected fault (as opposed to a throttle, a client error or a client abort)? */
export function isFault(outcome: Outcome): boolean {
  return typeof outcome === 'number' ? outcome >= 500 : outcome !== 'aborted';
}

/** Collects the stats of one index. */
export class StatsRecorder {
  private startMs = 0;
  private startWall = 0;
  private totals: RequestTotals = { total: 0, accepted: 0, rejected: 0, throttled: 0, faulted: 0 };
  private ops: Partial<Record<DataOperation, Record<string, number>>> = {};
  private upserted = 0;
  private maxInFlight = 0;
  private points = new Map<number, TimelinePoint>();
  private readonly clock: Clock;

  constructor(clock: Clock = systemClock) {
    this.clock = clock;
    this.reset();
  }

  /** Forget everything and restart the timeline at t = 0. */
  reset(): void {
    this.startMs = this.clock.now();
    this.startWall = Date.now();
    this.totals = { total: 0, accepted: 0, rejected: 0, throttled: 0, faulted: 0 };
    this.ops = {};
    this.upserted = 0;
    this.maxInFlight = 0;
    this.points = new Map();
  }

  /** Report a finished request. `vectorsUpserted`: vectors an accepted upsert wrote. */
  record(operation: DataOperation, outcome: Outcome, vectorsUpserted = 0): void {
    const perOp = this.ops[operation] ?? {};
    this.ops[operation] = perOp;
    const key = String(outcome);
    perOp[key] = (perOp[key] ?? 0) + 1;
    const point = this.point();
    this.totals.total++;
    const accepted = typeof outcome === 'number' && outcome >= 200 && outcome < 300;
    if (accepted) {
      this.totals.accepted++;
      point.accepted++;
      this.upserted += vectorsUpserted;
      point.vectorsUpserted += vectorsUpserted;
    } else {
      this.totals.rejected++;
      point.rejected++;
      if (outcome === 429) {
        this.totals.throttled++;
        point.throttled++;
      } else if (isFault(outcome)) {
        this.totals.faulted++;
        point.faulted++;
      }
    }
  }

  /** Report the number of requests in flight after one was admitted. */
  observeInFlight(inFlight: number): void {
    if (inFlight > this.maxInFlight) this.maxInFlight = inFlight;
    const point = this.point();
    if (inFlight > point.inFlightMax) point.inFlightMax = inFlight;
  }

  /** The snapshot, given the parts the recorder does not own. */
  snapshot(parts: {
    index: string;
    seed: number;
    inFlight: number;
    namespaces: Record<string, number>;
  }): IndexStatsSnapshot {
    const now = this.second();
    const first = Math.max(0, now - TIMELINE_SECONDS + 1);
    const timeline: TimelinePoint[] = [];
    for (let t = first; t <= now; t++) timeline.push({ ...(this.points.get(t) ?? emptyPoint(t)) });
    let total = 0;
    for (const n of Object.values(parts.namespaces)) total += n;
    return {
      index: parts.index,
      startedAt: new Date(this.startWall).toISOString(),
      uptimeSeconds: (this.clock.now() - this.startMs) / 1000,
      seed: parts.seed,
      requests: { ...this.totals },
      operations: structuredClone(this.ops),
      vectors: { total, namespaces: { ...parts.namespaces }, upserted: this.upserted },
      inFlight: { current: parts.inFlight, max: this.maxInFlight },
      timeline,
    };
  }

  private second(): number {
    return Math.max(0, Math.floor((this.clock.now() - this.startMs) / 1000));
  }

  private point(): TimelinePoint {
    const t = this.second();
    let p = this.points.get(t);
    if (!p) {
      p = emptyPoint(t);
      this.points.set(t, p);
      // Forget seconds that fell out of the window (at most one per new second).
      const old = t - TIMELINE_SECONDS;
      for (const key of this.points.keys()) {
        if (key > old) break;
        this.points.delete(key);
      }
    }
    return p;
  }
}
