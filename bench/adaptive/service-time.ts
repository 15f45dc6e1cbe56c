/**
 * The emulator's service time of one batch, measured the way the benchmark's bounds use
 * it: what a perfect client waits per request in flight.
 */
import { Agent, request } from 'undici';
import type { BenchVector } from '../contenders/types.js';
import type { EmulatorProcess } from './emulator.js';

/**
 * The median of 50 sequential round trips (after 10 to warm up) of one pre-encoded batch
 * of `batch` records, by a bare undici client, on a fresh unthrottled index with the
 * regimes' fixed latency: fixed latency plus the measured overhead of the HTTP exchange,
 * the JSON parse and the store on both processes.
 */
export async function measureServiceTime(
  emu: EmulatorProcess,
  batch: BenchVector[],
  dimension: number,
  latencyMs: number,
): Promise<number> {
  const host = await emu.createIndex('calibrate', dimension);
  await emu.setFaults('calibrate', { latency: { fixedMs: latencyMs } });
  const dispatcher = new Agent({ keepAliveTimeout: 10_000 });
  const body = JSON.stringify({ vectors: batch });
  const samples: number[] = [];
  try {
    for (let i = 0; i < 60; i++) {
      const t0 = performance.now();
      const res = await request(`${host}/vectors/upsert`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json' },
        dispatcher,
      });
      await res.body.text();
      if (i >= 10) samples.push(performance.now() - t0);
    }
  } finally {
    await dispatcher.close();
    await emu.deleteIndex('calibrate');
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}
