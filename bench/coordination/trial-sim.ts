/**
 * A congestion trial's verdicts, simulated over the real fleet scripts on a redis-server
 * (no processes, no emulator): how often a trial finds noise where the throttles arrive
 * whatever the load, and where a limit refuses sends that jitter at the rate the cut
 * landed at but stops refusing under a deeper one.
 *
 * Each trial runs on a fresh host: a fleet pacing at 1000/s whose 100 dispatches lately drew
 * refusals at the share before (Binomial), cut to its knee with the cut put on trial (as a
 * process that tells noise reports it); then its dispatches under the cut come in reports of
 * 4, each refused at the first stage's share, or at the second stage's once the trial goes
 * on under a deeper cut, until the trial ends. Cuts with under 5 % before are not tried and
 * are left out. Printed per scenario: the share of trials that found noise, the share that
 * went on at a second stage, and the dispatches under the trial (mean).
 *
 *   npx tsx bench/coordination/trial-sim.ts [--trials 1000] [--seed 1]
 *
 * It reads only the fleet store's API, so the same file run in another checkout (a
 * worktree) weighs that checkout's scripts side by side.
 */
import { FleetStore } from '../../src/coordination/fleet-store.js';
import { NodeRedisConnection } from '../../src/coordination/node-redis.js';
import { seededRandom } from '../../src/resilience/clock.js';
import { startRedis } from '../../test/helpers/redis-server.js';
import { arg, markdownTable } from '../cli-table.js';

interface Scenario {
  name: string;
  /** The share refused before the cut, under it (first stage), and under a second stage's deeper cut. */
  before: number;
  first: number;
  second: number;
}

const SCENARIOS: Scenario[] = [
  ...[0.06, 0.08, 0.12, 0.2].map((p) => ({ name: `random ${p * 100} %`, before: p, first: p, second: p })),
  ...[0, 0.01, 0.02, 0.03].map((q) => ({
    name: `limit at the cut (8 %), ${q * 100} % under a deeper one`,
    before: 0.08,
    first: 0.08,
    second: q,
  })),
  { name: 'limit under the cut (8 % before, 1 % after)', before: 0.08, first: 0.01, second: 0 },
];

/** The knee cut of a pacing fleet, put on trial (the coordinated state's report). */
const TRIED = { cut: 0.7, knee: 0.95, deepest: 0.49, shallowest: 0.95, tried: true } as const;
const CHUNK = 4;
const CONCURRENT = 16;

interface Outcome {
  tried: boolean;
  noise: boolean;
  second: boolean;
  dispatches: number;
}

async function trial(store: FleetStore, host: string, s: Scenario, random: () => number): Promise<Outcome> {
  const draws = (n: number, p: number) =>
    Array.from({ length: n }, () => random() < p).filter(Boolean).length;
  await store.reportCongestion(host, { eventSeen: 0, rate: 1000, limit: 4 });
  // 99 dispatches and the reporter's own throttle: the share before.
  const refused = draws(99, s.before);
  await store.reserve(host, 1, undefined, { sent: 100, admitted: 99 - refused, refused });
  const cut = await store.reportCongestion(host, { eventSeen: 1, ...TRIED, limit: 2, refused: 1 });
  if (!cut.trying) return { tried: false, noise: false, second: false, dispatches: 0 };
  let event = cut.event;
  let second = false;
  let dispatches = 0;
  for (;;) {
    const share = second ? s.second : s.first;
    const r = draws(CHUNK, share);
    dispatches += CHUNK;
    const v = await store.reserve(host, 1, undefined, {
      sent: CHUNK,
      admitted: CHUNK - r,
      refused: r,
      trial: { event, sent: CHUNK, refused: r },
    });
    if (!v.trying) return { tried: true, noise: v.noise > 0, second, dispatches };
    if (v.event !== event) {
      // A deeper cut under an event of its own: the second stage.
      event = v.event;
      second = true;
    }
    if (dispatches > 2000) throw new Error(`${s.name}: no verdict after ${dispatches} dispatches`);
  }
}

async function main(): Promise<void> {
  const trials = Number(arg('trials', '1000'));
  const seed = Number(arg('seed', '1'));
  const redis = await startRedis();
  const connections = Array.from(
    { length: CONCURRENT },
    () => new NodeRedisConnection({ url: redis.url, connectTimeoutMs: 1000 }),
  );
  const prefix = `trial-sim-${process.pid}:`;
  try {
    console.log(
      `# bench/coordination/trial-sim.ts --trials ${trials} --seed ${seed} — ${new Date().toISOString()}`,
    );
    const rows: string[][] = [];
    for (const [k, s] of SCENARIOS.entries()) {
      const outcomes: Outcome[] = [];
      let next = 0;
      await Promise.all(
        connections.map(async (c, w) => {
          const store = new FleetStore(c, { keyPrefix: prefix, ttlMs: 60_000 });
          while (next < trials) {
            const i = next++;
            // A random source of its own per trial: the same draws whatever order they run in.
            const random = seededRandom(seed * 1_000_003 + k * 10_007 + i);
            outcomes.push(await trial(store, `s${k}-t${i}-w${w}.svc.test`, s, random));
          }
        }),
      );
      const tried = outcomes.filter((o) => o.tried);
      const share = (f: (o: Outcome) => boolean) =>
        `${((100 * tried.filter(f).length) / tried.length).toFixed(1)} %`;
      const mean = tried.reduce((a, o) => a + o.dispatches, 0) / tried.length;
      rows.push([
        s.name,
        String(tried.length),
        share((o) => o.noise),
        share((o) => o.second),
        mean.toFixed(0),
      ]);
    }
    console.log(
      markdownTable(
        ['scenario', 'trials', 'found noise', 'second stage', 'dispatches under the trial (mean)'],
        rows,
      ),
    );
  } finally {
    await Promise.all(connections.map((c) => c.close()));
    await redis.stop();
  }
}

await main();
