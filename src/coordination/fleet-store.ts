/**
 * Typed calls of the fleet scripts (scripts.ts) over a {@link ScriptClient}: arguments
 * encoded, replies parsed and checked, times left in the server's clock (ms since the
 * epoch). A script the server has not cached (a restart, `SCRIPT FLUSH`) is sent by source
 * once (`EVAL`, which caches it again). No timeouts and no fallback here: that is the
 * caller's (fail-open.ts).
 */
import type { CongestionReport, RateReport, ReleaseReport, SendCounts, TrialCounts } from './coordinator.js';
import type { ScriptClient } from './script-client.js';
import { CONGESTION, JOIN, type LuaScript, RELEASE, RESERVE } from './scripts.js';

/** One host's shared state as stored, times in the server's clock (ms). */
export interface StoredState {
  /** The server's clock when the script ran. */
  now: number;
  rate: number | undefined;
  limit: number | undefined;
  event: number;
  /** End of the cool-down; 0 when there never was one. */
  pause: number;
  /** The fleet's send rate: dispatches reported per second lately (a count decaying over 1 s). */
  sendRate: number;
  /** The fleet's admitted rate: successes reported per second lately (decaying with it). */
  admittedRate: number;
  /** Whether the last cut is on trial. */
  trying: boolean;
  /** The fleet's noise floor (0: none known). */
  noise: number;
  /** The current event's knee, requests/s; `undefined` when none. */
  knee: number | undefined;
  /** When the current event opened (server clock, ms); `undefined` before the first. */
  eventAt: number | undefined;
}

/** Answer of {@link FleetStore.reserve}: the slots are `first + i * interval`. */
export interface StoredReservation extends StoredState {
  first: number;
  interval: number;
  /** The schedule's slots granted from `first` (with `holes`, at most those asked for). */
  count: number;
  /**
   * How many of all the slots granted (`holes` first, then the schedule's), the first ones,
   * lie among the slots granted before the current event.
   */
  early: number;
  /** Slots handed back from among other processes' (ms, Redis time, ascending), granted first. */
  holes: number[];
}

/** Answer of {@link FleetStore.reportCongestion}. */
export interface StoredVerdict extends StoredState {
  accepted: boolean;
}

/** Options of {@link FleetStore}. */
export interface FleetStoreOptions {
  /** Prepended to the host to make the key. */
  keyPrefix: string;
  /** TTL of a host's hash, ms, set again by every write. */
  ttlMs: number;
}

function optional(field: string): number | undefined {
  return field === '' ? undefined : Number(field);
}

function encodeRate(rate: number | undefined): string {
  if (rate === undefined) return '';
  return rate === Number.POSITIVE_INFINITY ? 'inf' : String(rate);
}

function encodeOptional(value: number | undefined): string {
  return value === undefined ? '' : String(value);
}

/** The throttles since the last report and a trial's counts, as four script arguments. */
function encodeThrottles(refused: number | undefined, trial: TrialCounts | undefined): string[] {
  return [
    encodeOptional(refused),
    encodeOptional(trial?.event),
    encodeOptional(trial?.sent),
    encodeOptional(trial?.refused),
  ];
}

/** A recovery step as three script arguments (eventSeen, rate, limit), empty when none. */
function encodeRecovery(recovery: RateReport | undefined): string[] {
  return recovery
    ? [String(recovery.eventSeen), encodeRate(recovery.rate), encodeOptional(recovery.limit)]
    : ['', '', ''];
}

/** Run `script`, by SHA first, by source when the server does not have it cached. */
export async function runScript(
  client: ScriptClient,
  script: LuaScript,
  keys: readonly string[],
  args: readonly string[],
): Promise<unknown> {
  try {
    return await client.evalScriptBySha(script.sha, keys, args);
  } catch (error) {
    if (!/NOSCRIPT/.test(String((error as Error)?.message ?? error))) throw error;
    return client.evalScript(script.source, keys, args);
  }
}

/** The fleet scripts of one key prefix, over one client. */
export class FleetStore {
  readonly #client: ScriptClient;
  readonly #keyPrefix: string;
  readonly #ttl: string;

  constructor(client: ScriptClient, options: FleetStoreOptions) {
    this.#client = client;
    this.#keyPrefix = options.keyPrefix;
    this.#ttl = String(Math.max(1, Math.round(options.ttlMs)));
  }

  /** The Redis key of `host`'s state. */
  key(host: string): string {
    return `${this.#keyPrefix}${host}`;
  }

  /** Read `host`'s state. */
  async join(host: string): Promise<StoredState> {
    return parseReply(await this.#run(JOIN, host, []), STATE_FIELDS, JOIN.name).state;
  }

  /**
   * Reserve `count` slots, merging a recovery step first when given; `counts`: dispatches
   * and successes since the caller's last report (default: `count` dispatches).
   */
  async reserve(
    host: string,
    count: number,
    recovery?: RateReport,
    counts?: SendCounts,
  ): Promise<StoredReservation> {
    const step = encodeRecovery(recovery);
    const tally = [
      encodeOptional(counts?.sent),
      encodeOptional(counts?.admitted),
      ...encodeThrottles(counts?.refused, counts?.trial),
    ];
    const { state, extra } = parseReply(
      await this.#run(RESERVE, host, [String(count), ...step, ...tally]),
      STATE_FIELDS + 4,
      RESERVE.name,
      true,
    );
    return {
      ...state,
      first: Number(extra[0]),
      interval: Number(extra[1]),
      count: Number(extra[2]),
      early: Number(extra[3]),
      holes: extra.slice(4).map(Number),
    };
  }

  /**
   * A process's last call for `host`: its counts, a recovery step, the slots it hands back
   * (`returnedAt` here in Redis time, as granted, with the event they were granted under).
   */
  async release(host: string, report: ReleaseReport, recovery?: RateReport): Promise<StoredState> {
    const reply = await this.#run(RELEASE, host, [
      ...encodeRecovery(recovery),
      encodeOptional(report.sent),
      encodeOptional(report.admitted),
      encodeOptional(report.returned),
      ...encodeThrottles(report.refused, report.trial),
      (report.returnedAt ?? []).map((x) => x.toFixed(3)).join(','),
      encodeOptional(report.returnedEvent),
    ]);
    return parseReply(reply, STATE_FIELDS, RELEASE.name).state;
  }

  /** Report a congestion event (compare-and-set on the event id). */
  async reportCongestion(host: string, report: CongestionReport): Promise<StoredVerdict> {
    const reply = await this.#run(CONGESTION, host, [
      String(report.eventSeen),
      encodeRate(report.rate),
      encodeOptional(report.limit),
      encodeOptional(report.retryAfterMs),
      encodeOptional(report.cut),
      encodeOptional(report.sent),
      encodeOptional(report.returned),
      encodeOptional(report.admitted),
      encodeOptional(report.knee),
      encodeOptional(report.deepest),
      encodeOptional(report.settleMs),
      encodeOptional(report.shallowest),
      ...encodeThrottles(report.refused, report.trial),
      report.tried ? '1' : '',
    ]);
    const { state, extra } = parseReply(reply, STATE_FIELDS + 1, CONGESTION.name);
    return { ...state, accepted: extra[0] === '1' };
  }

  #run(script: LuaScript, host: string, args: string[]): Promise<unknown> {
    return runScript(this.#client, script, [this.key(host)], [this.#ttl, ...args]);
  }
}

/** Fields of the state every script answers first. */
const STATE_FIELDS = 11;

/** Check a script's reply (`length` strings, the state first) and read it. */
function parseReply(
  reply: unknown,
  length: number,
  name: string,
  atLeast = false,
): { state: StoredState; extra: string[] } {
  const fields = Array.isArray(reply) ? reply.map(String) : [];
  const [now, rate, limit, event, pause, sent, ok, trying, noise, knee, eventAt] = fields as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const state: StoredState = {
    now: Number(now),
    rate: optional(rate),
    limit: optional(limit),
    event: Number(event),
    pause: Number(pause),
    sendRate: Number(sent),
    admittedRate: Number(ok),
    trying: trying === '1',
    noise: Number(noise),
    knee: optional(knee),
    eventAt: optional(eventAt),
  };
  const fits = atLeast ? fields.length >= length : fields.length === length;
  if (!fits || !Number.isFinite(state.now) || !Number.isInteger(state.event)) {
    throw new TypeError(`unexpected reply from the ${name} script: ${JSON.stringify(reply)?.slice(0, 200)}`);
  }
  return { state, extra: fields.slice(STATE_FIELDS) };
}
