/**
 * The rows of `bench/adaptive-regimes.ts`: one per regime and contender, judged by the
 * emulator's stats against issue 12's targets: limits that depend on load within 5 % of
 * the bound (10 % for the 2/s bucket) with at most 3 % of requests rejected; faults that
 * arrive whatever the load at least half the fault-free throughput (random 429s on 12 %;
 * a third on 25 %); everything stored everywhere.
 */
import type { IndexStatsSnapshot } from '../../src/local.js';
import type { RunReport } from '../contenders/types.js';

/** One run's figures. */
export interface Row {
  regime: string;
  contender: string;
  wallMs: number;
  /** The bound, or for faults that arrive whatever the load the contender's fault-free wall. */
  boundMs: number;
  versusFaultFree?: boolean;
  /** Rejected ÷ all requests that reached the emulator. */
  rejected: number;
  /** Vectors stored (emulator) ÷ intended. */
  stored: number;
  report: RunReport;
  stats: IndexStatsSnapshot;
}

/** The table's header lines (markdown). */
export const TABLE_HEADER = [
  '| regime | contender | wall | bound (or fault-free wall) | wall ÷ bound | rejected | stored | target met | notes |',
  '|---|---|---|---|---|---|---|---|---|',
];

/** Issue 12's targets: wall ÷ bound at most, rejected share at most (undefined: none). */
function target(r: Row): { ratio: number; rejected: number | undefined } {
  if (r.regime === 'rate-2') return { ratio: 1.1, rejected: undefined };
  if (r.regime === 'random-429-12') return { ratio: 2, rejected: undefined };
  if (r.regime === 'random-429-25') return { ratio: 3, rejected: undefined };
  if (r.versusFaultFree) return { ratio: Number.POSITIVE_INFINITY, rejected: undefined };
  return { ratio: 1.05, rejected: 0.03 };
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

/** One markdown row. A run that did not store everything shows its time ratio in parentheses. */
export function formatRow(r: Row): string {
  const ratio = r.wallMs / r.boundMs;
  const complete = r.stored >= 1;
  const aim = target(r);
  const misses = [
    complete && ratio > aim.ratio ? 'time' : '',
    aim.rejected !== undefined && r.rejected > aim.rejected ? 'rejected' : '',
    complete ? '' : 'stored',
  ].filter(Boolean);
  const notes = [...(r.report.failure ? [r.report.failure] : []), ...(r.report.notes ?? [])].join('; ');
  const cells = [
    r.regime,
    r.contender,
    `${(r.wallMs / 1000).toFixed(2)} s`,
    `${(r.boundMs / 1000).toFixed(2)} s${r.versusFaultFree ? ' (fault-free)' : ''}`,
    complete ? `${ratio.toFixed(2)}x` : `(${ratio.toFixed(2)}x)`,
    pct(r.rejected),
    pct(r.stored),
    misses.length ? `no: ${misses.join(', ')}` : 'yes',
    notes,
  ];
  return `| ${cells.join(' | ')} |`;
}
