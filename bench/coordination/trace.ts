/**
 * `--trace FILE` of `bench/coordination.ts`: every worker logs, through the SDK's own logger
 * at debug level, each refusal it retries (`throttled_response`), each congestion report
 * the fleet answered (`coordination_congestion`: the fleet event the refused request left
 * under, whether the report opened the next event or adopted one already open, the fleet's
 * rate after), its limit's cuts and the coordinator's outages, with the time and its pid;
 * the bench appends them to FILE as JSON lines tagged with the run. The run's figures are
 * comparable with the table's (no sampling calls beside it; a line per record written).
 *
 * Read a file back, per run: where its refusals came (reported under no fleet event, that
 * is before the process heard of the fleet's first event; under the first event until the
 * second opened, the report that opened it among them; later; not reported: its controller
 * counted them without a cut, or Redis was unavailable), when each event opened, at what
 * rate, and when each outage began and how long it lasted:
 *
 *   npx tsx bench/coordination/trace.ts FILE [--run N] [--list]
 *
 * `--list` prints every record of the run(s) in time order.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { LogFields, Logger } from '../../src/log.js';
import { arg } from '../cli-table.js';

/** The prefix of a trace line on a worker's stderr. */
const PREFIX = 'TRACE ';

/** One record as written to the file. */
export interface TraceRecord {
  /** Run number of the bench invocation, and its cell (added by the bench). */
  run?: number;
  cell?: string;
  /** Wall-clock time, ms since the epoch (the workers' clocks are one machine's). */
  t: number;
  pid: number;
  /** The SDK record's `event` (`job_start` for a job's start). */
  event: string;
  /** Whether the worker's coordinator was available when the record was written. */
  up?: boolean | undefined;
  [field: string]: unknown;
}

/** The fields of the SDK's records kept in a trace. */
const KEPT = [
  'status',
  'attempt',
  'delaySeconds',
  'before',
  'after',
  'eventSeen',
  'opened',
  'fleetEvent',
  'rate',
  'knee',
  'trying',
  'reason',
] as const;

function write(record: TraceRecord): void {
  process.stderr.write(`${PREFIX}${JSON.stringify(record)}\n`);
}

const now = () => Math.round(performance.timeOrigin + performance.now());

/** In a worker: note a job's start. */
export function traceJobStart(): void {
  write({ t: now(), pid: process.pid, event: 'job_start' });
}

/** In a worker: a logger writing every record with an `event` as a trace line on stderr. */
export function traceLogger(available: () => boolean | undefined): Logger {
  const record = (_message: string, fields: LogFields) => {
    const f = fields as Record<string, unknown>;
    if (typeof f.event !== 'string') return;
    const kept: Record<string, unknown> = {};
    for (const key of KEPT) if (f[key] !== undefined) kept[key] = f[key];
    write({ t: now(), pid: process.pid, event: f.event, up: available(), ...kept });
  };
  return { debug: record, info: record, warn: record };
}

/** In the bench: a worker's stderr, its trace lines to `file` tagged with the run, the rest passed on. */
export function collectTrace(stderr: Readable, file: string, run: number, cell: string): void {
  createInterface({ input: stderr }).on('line', (line) => {
    if (!line.startsWith(PREFIX)) {
      process.stderr.write(`${line}\n`);
      return;
    }
    const record = JSON.parse(line.slice(PREFIX.length)) as TraceRecord;
    appendFileSync(file, `${JSON.stringify({ run, cell, ...record })}\n`);
  });
}

/** Where one run's refusals came, and its events. */
export interface RunSummary {
  run: number;
  cell: string;
  /** Refusals retried (`throttled_response` with status 429). */
  refused: number;
  /** Reported under no fleet event: before the process heard of the fleet's first event. */
  beforeFirst: number;
  /** Reported under the first event until the second opened (the report that opened it among them). */
  underFirst: number;
  /** Reported later. */
  later: number;
  /** Not reported (its controller counted them without a cut, or Redis was unavailable). */
  unreported: number;
  /** Of the unreported: while the process's coordinator was unavailable. */
  unavailable: number;
  /** Events opened: ms since the run's first job start, the fleet's rate and knee after. */
  events: { at: number; event: number; rate?: number | undefined; knee?: number | undefined }[];
  /** Outages: when each began (ms since the run's first job start) and how long it lasted
   * (ms until its process's coordinator answered again; absent: not within the trace). */
  outages: { at: number; lasted?: number | undefined }[];
}

/** The summaries of the runs in `records`. */
export function summarize(records: TraceRecord[]): RunSummary[] {
  const runs = new Map<number, TraceRecord[]>();
  for (const r of records) {
    const list = runs.get(r.run ?? 0) ?? [];
    list.push(r);
    runs.set(r.run ?? 0, list);
  }
  return [...runs.entries()].map(([run, list]) => {
    list.sort((a, b) => a.t - b.t);
    const t0 = list.find((r) => r.event === 'job_start')?.t ?? list[0]?.t ?? 0;
    const reports = list.filter((r) => r.event === 'coordination_congestion');
    const opened = reports.filter((r) => r.opened === true);
    const second = opened.find((r) => r.fleetEvent === 2)?.t ?? Number.POSITIVE_INFINITY;
    const refusals = list.filter((r) => r.event === 'throttled_response' && r.status === 429);
    const beforeFirst = reports.filter((r) => r.eventSeen === 0).length;
    const underFirst = reports.filter((r) => r.eventSeen === 1 && r.t <= second).length;
    const unreported = Math.max(0, refusals.length - reports.length);
    return {
      run,
      cell: list[0]?.cell ?? '',
      refused: refusals.length,
      beforeFirst,
      underFirst,
      later: reports.length - beforeFirst - underFirst,
      unreported,
      unavailable: refusals.filter((r) => r.up === false).length,
      events: opened.map((r) => ({
        at: r.t - t0,
        event: r.fleetEvent as number,
        rate: r.rate as number | undefined,
        knee: r.knee as number | undefined,
      })),
      outages: list
        .filter((r) => r.event === 'coordination_unavailable')
        .map((r) => {
          const back = list.find((b) => b.event === 'coordination_restored' && b.pid === r.pid && b.t >= r.t);
          return { at: r.t - t0, lasted: back && back.t - r.t };
        }),
    };
  });
}

function main(): void {
  const file = process.argv[2];
  if (!file || file.startsWith('--')) {
    console.error('usage: npx tsx bench/coordination/trace.ts FILE [--run N] [--list]');
    process.exit(2);
  }
  const only = arg('run') === undefined ? undefined : Number(arg('run'));
  const records = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as TraceRecord)
    .filter((r) => only === undefined || r.run === only);
  if (process.argv.includes('--list')) {
    const t0 = new Map<number, number>();
    for (const r of [...records].sort((a, b) => a.t - b.t)) {
      const run = r.run ?? 0;
      if (!t0.has(run) && r.event === 'job_start') t0.set(run, r.t);
      const { run: _run, cell: _cell, t, pid, event, ...rest } = r;
      console.log(
        `run ${run} ${String(t - (t0.get(run) ?? t)).padStart(6)} ms  pid ${pid}  ${event} ${JSON.stringify(rest)}`,
      );
    }
    return;
  }
  const fmt = (x: unknown) => (typeof x === 'number' ? x.toFixed(1) : '-');
  console.log(
    '| run | cell | refused | reported before the first event | under the first, before the second | later | not reported (Redis unavailable) | events opened (ms: rate, knee) | outages (ms: lasted ms) |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const s of summarize(records)) {
    const events = s.events.map((e) => `${e.at}: ${fmt(e.rate)}, ${fmt(e.knee)}`).join('; ');
    console.log(
      `| ${s.run} | ${s.cell} | ${s.refused} | ${s.beforeFirst} | ${s.underFirst} | ${s.later} | ` +
        `${s.unreported} (${s.unavailable}) | ${events} | ${s.outages.map((o) => `${o.at}: ${o.lasted ?? '-'}`).join(', ')} |`,
    );
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
