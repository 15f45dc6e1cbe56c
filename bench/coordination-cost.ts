/**
 * What coordination through Redis costs, apart from any limiter: loading `@redis/client`
 * in a fresh process, the first connection, the latency of each call (sequential, and with
 * 8 connections calling at once), and the Redis calls per request the slot reservoir
 * makes when P processes share a fleet rate (each process takes slots at its share of the
 * rate, as a paced limiter would). Needs redis-server (started here, on loopback).
 *
 *   npx tsx bench/coordination-cost.ts [--calls 2000] [--seconds 5]
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import type { Coordinator } from '../src/coordination/coordinator.js';
import { type RedisCoordinator, redisCoordinator } from '../src/coordination/redis-coordinator.js';
import { SlotReservoir } from '../src/coordination/slot-reservoir.js';
import { startRedis } from '../test/helpers/redis-server.js';
import { arg } from './cli-table.js';

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

const ms = (x: number) => `${x.toFixed(3)} ms`;

/** Median over 5 fresh processes of the time `import('@redis/client')` takes. */
function importMs(): number {
  const code =
    "const t = performance.now(); await import('@redis/client'); console.log(performance.now() - t);";
  const runs = Array.from({ length: 5 }, () =>
    Number(execFileSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' })),
  );
  return runs.sort((a, b) => a - b)[2] as number;
}

async function latency(
  label: string,
  coordinators: RedisCoordinator[],
  calls: number,
  call: (c: RedisCoordinator, i: number) => Promise<unknown>,
): Promise<string> {
  const samples: number[] = [];
  await Promise.all(
    coordinators.map(async (c, k) => {
      for (let i = k; i < calls; i += coordinators.length) {
        const t = performance.now();
        if ((await call(c, i)) === undefined) throw new Error(`${label}: store unavailable`);
        samples.push(performance.now() - t);
      }
    }),
  );
  samples.sort((a, b) => a - b);
  return `| ${label} | ${coordinators.length} | ${calls} | ${ms(quantile(samples, 0.5))} | ${ms(quantile(samples, 0.99))} | ${ms(samples.at(-1) ?? Number.NaN)} |`;
}

/** P processes (one coordinator each) taking slots at their share of `rate` for `seconds`. */
async function callsPerRequest(url: string, processes: number, rate: number, seconds: number) {
  const host = `cost-${processes}.svc.test`;
  const fleet = Array.from({ length: processes }, () =>
    redisCoordinator({ url, keyPrefix: `bench-cost-${process.pid}:` }),
  );
  await Promise.all(fleet.map((c) => c.ready()));
  await fleet[0]?.reportCongestion(host, { eventSeen: 0, rate });
  const before = fleet.reduce((sum, c) => sum + c.stats().commands, 0);
  let requests = 0;
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    fleet.map(async (c: Coordinator) => {
      const reservoir = new SlotReservoir(c, host);
      while (performance.now() < end) {
        const slot = await reservoir.take(performance.now());
        if (!slot) throw new Error('store unavailable');
        requests += 1;
        await new Promise((r) => setTimeout(r, Math.max(0, slot.at - performance.now())));
      }
    }),
  );
  const commands = fleet.reduce((sum, c) => sum + c.stats().commands, 0) - before;
  await Promise.all(fleet.map((c) => c.dispose()));
  return `| ${processes} | ${rate} | ${requests} | ${(requests / seconds).toFixed(1)} | ${(commands / requests).toFixed(3)} |`;
}

async function main(): Promise<void> {
  const calls = Number(arg('calls') ?? 2000);
  const seconds = Number(arg('seconds') ?? 5);
  const redis = await startRedis();
  try {
    console.log(
      `# bench/coordination-cost.ts ${process.argv.slice(2).join(' ')}`.trimEnd() +
        ` — ${new Date().toISOString()}, node ${process.version}, ${os.cpus().length} cores, ` +
        `load ${os
          .loadavg()
          .map((l) => l.toFixed(2))
          .join(' ')}, redis-server on loopback`,
    );
    console.log(`\nimport('@redis/client') in a fresh process (median of 5): ${importMs().toFixed(0)} ms`);
    const t = performance.now();
    const first = redisCoordinator({ url: redis.url, keyPrefix: `bench-cost-${process.pid}:` });
    await first.ready();
    console.log(
      `first connection in this process (loading the module included): ${(performance.now() - t).toFixed(0)} ms`,
    );

    console.log('\n| call | connections | calls | p50 | p99 | max |');
    console.log('|---|---|---|---|---|---|');
    const eight = Array.from({ length: 8 }, () =>
      redisCoordinator({ url: redis.url, keyPrefix: `bench-cost-${process.pid}:` }),
    );
    await Promise.all(eight.map((c) => c.ready()));
    const host = 'latency.svc.test';
    await first.reportCongestion(host, { eventSeen: 0, rate: 1e6 });
    for (const group of [[first], eight]) {
      console.log(await latency('join', group, calls, (c) => c.join(host)));
      console.log(await latency('reserve 8 slots', group, calls, (c) => c.reserve(host, 8)));
      console.log(
        await latency('reportCongestion (stale event)', group, calls, (c) =>
          c.reportCongestion(host, { eventSeen: 0, rate: 1e6 }),
        ),
      );
    }
    await Promise.all([first, ...eight].map((c) => c.dispose()));

    console.log('\n| processes | fleet rate (req/s) | requests | achieved (req/s) | Redis calls / request |');
    console.log('|---|---|---|---|---|');
    for (const processes of [1, 4, 8, 16])
      console.log(await callsPerRequest(redis.url, processes, 60, seconds));
  } finally {
    await redis.stop();
  }
}

await main();
