/**
 * The rows of `bench/adaptive-regimes.ts`: one per regime and contender, judged by the
 * emulator's stats against the aim (within 10 % of the bound, under 5 % of requests
 * rejected, everything stored).
 */
import type { IndexStatsSnapshot } from '../../src/local.js';
import type { RunReport } from '../contenders/types.js';

/** One run's figures. */
export interface Row {
  regime: string;
  contender: string;
  wallMs: number;
  boundMs: number;
  /** Rejected ÷ all requests that reached the emulator. */
  rejected: number;
  /** Vectors stored (emulator) ÷ intended. */
  stored: number;
  report: RunReport;
  stats: IndexStatsSnapshot;
}

/** The table's header lines (markdown). */
export const TABLE_HEADER = [
  '| regime | contender | wall | bound | wall ÷ bound | rejected | stored | aim met | notes |',
  '|---|---|---|---|---|---|---|---|---|',
];

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

/** One markdown row. A run that did not store everything shows its time ratio in parentheses. */
export function formatRow(r: Row): string {
  const ratio = r.wallMs / r.boundMs;
  const complete = r.stored >= 1;
  const misses = [
    complete && ratio > 1.1 ? 'time' : '',
    r.rejected >= 0.05 ? 'rejected' : '',
    complete ? '' : 'stored',
  ].filter(Boolean);
  const notes = [...(r.report.failure ? [r.report.failure] : []), ...(r.report.notes ?? [])].join('; ');
  const cells = [
    r.regime,
    r.contender,
    `${(r.wallMs / 1000).toFixed(2)} s`,
    `${(r.boundMs / 1000).toFixed(2)} s`,
    complete ? `${ratio.toFixed(2)}x` : `(${ratio.toFixed(2)}x)`,
    pct(r.rejected),
    pct(r.stored),
    misses.length ? `no: ${misses.join(', ')}` : 'yes',
    notes,
  ];
  return `| ${cells.join(' | ')} |`;
}
