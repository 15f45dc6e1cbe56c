/**
 * `bench/coordination/trace.ts`: where a traced run's refusals came, from the SDK's own
 * records (the bench's `--trace`).
 */
import { describe, expect, it } from 'vitest';
import { summarize, type TraceRecord } from '../../bench/coordination/trace.js';

const refusal = (t: number, pid: number, up = true): TraceRecord => ({
  run: 1,
  cell: '8 together redis',
  t,
  pid,
  event: 'throttled_response',
  status: 429,
  up,
});
const report = (
  t: number,
  eventSeen: number,
  opened: boolean,
  fleetEvent: number,
  rate: number,
): TraceRecord => ({
  run: 1,
  cell: '8 together redis',
  t,
  pid: 1,
  event: 'coordination_congestion',
  eventSeen,
  opened,
  fleetEvent,
  rate,
  knee: rate,
  up: true,
});

describe('trace summary', () => {
  it('sorts a run’s refusals by the fleet event their reports came under, and counts the rest as unreported', () => {
    const records: TraceRecord[] = [
      { run: 1, cell: '8 together redis', t: 1000, pid: 1, event: 'job_start' },
      { run: 1, cell: '8 together redis', t: 1002, pid: 2, event: 'job_start' },
      { run: 1, cell: '8 together redis', t: 1150, pid: 2, event: 'coordination_unavailable', up: false },
      // The burst: three refusals reported under no event (the first opens event 1), one
      // unreported while Redis was away, one counted by its controller.
      refusal(1300, 1),
      report(1305, 0, true, 1, 70),
      refusal(1310, 2, false),
      { run: 1, cell: '8 together redis', t: 1312, pid: 2, event: 'coordination_restored', up: true },
      refusal(1320, 3),
      report(1325, 0, false, 1, 70),
      refusal(1330, 4),
      report(1335, 0, false, 1, 70),
      refusal(1340, 5),
      // Under the first rate, before the second event: two (the second opens it).
      refusal(1500, 1),
      report(1505, 1, false, 1, 70),
      refusal(1700, 1),
      report(1705, 1, true, 2, 55),
      // Later: one under event 2, after it opened.
      refusal(4000, 3),
      report(4005, 2, true, 3, 56),
      // A second outage of the same process, not over when the trace ends.
      { run: 1, cell: '8 together redis', t: 4100, pid: 2, event: 'coordination_unavailable', up: false },
      // Another run's record is its own.
      { ...refusal(1200, 9), run: 2 },
    ];
    const [one, two] = summarize(records);
    expect(one).toEqual({
      run: 1,
      cell: '8 together redis',
      refused: 8,
      beforeFirst: 3,
      underFirst: 2,
      later: 1,
      unreported: 2,
      unavailable: 1,
      events: [
        { at: 305, event: 1, rate: 70, knee: 70 },
        { at: 705, event: 2, rate: 55, knee: 55 },
        { at: 3005, event: 3, rate: 56, knee: 56 },
      ],
      outages: [
        { at: 150, lasted: 162 },
        { at: 3100, lasted: undefined },
      ],
    });
    expect(two).toMatchObject({ run: 2, refused: 1, unreported: 1, events: [] });
  });
});
