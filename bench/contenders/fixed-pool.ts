/**
 * A plain loader as many people write one (the "naive loop"): a fixed number of workers
 * over the batches, each batch retried on 429, 5xx and network errors with exponential
 * backoff and jitter (100 ms × 2^n × U[0.5, 1.5), capped at 20 s; 3 retries unless the
 * regime says otherwise, as it does for every contender), plain undici with the regime's
 * per-attempt timeout. A batch that still fails is recorded and the workers go on, so
 * this contender stores as much as it can.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { type BenchVector, type Contender, describeError, type RunInput, type RunReport } from './types.js';

const BASE_DELAY_MS = 100;
const MAX_DELAY_MS = 20_000;
const DEFAULT_MAX_RETRIES = 3;

/** A fixed pool of `workers` with exponential backoff. */
export function fixedPoolContender(name: string, workers: number): Contender {
  return {
    name,
    async run(input: RunInput): Promise<RunReport> {
      const maxRetries = input.retries?.maxRetries ?? DEFAULT_MAX_RETRIES;
      const timeoutMs = (input.retries?.timeout ?? 30) * 1000;
      const dispatcher = new Agent({
        keepAliveTimeout: 10_000,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const url = `${input.host}/vectors/upsert`;
      const send = async (batch: BenchVector[]): Promise<number> => {
        const body = JSON.stringify({ vectors: batch });
        for (let n = 0; ; n++) {
          let retryable: boolean;
          let problem: string;
          try {
            const res = await request(url, {
              method: 'POST',
              body,
              headers: { 'content-type': 'application/json', 'api-key': 'bench' },
              dispatcher,
            });
            const text = await res.body.text();
            if (res.statusCode >= 200 && res.statusCode < 300) {
              return (JSON.parse(text) as { upsertedCount?: number }).upsertedCount ?? batch.length;
            }
            retryable = res.statusCode === 429 || res.statusCode >= 500;
            problem = `HTTP ${res.statusCode}`;
          } catch (error) {
            retryable = true;
            problem = describeError(error);
          }
          if (!retryable || n >= maxRetries) throw new Error(problem);
          await sleep(Math.min(BASE_DELAY_MS * 2 ** n, MAX_DELAY_MS) * (0.5 + Math.random()));
        }
      };

      let next = 0;
      let claimed = 0;
      let failedBatches = 0;
      let lastError = '';
      const worker = async () => {
        while (next < input.vectors.length) {
          const batch = input.vectors.slice(next, next + input.batchSize);
          next += input.batchSize;
          try {
            claimed += await send(batch);
          } catch (error) {
            failedBatches += 1;
            lastError = describeError(error);
          }
        }
      };
      try {
        await Promise.all(Array.from({ length: workers }, worker));
      } finally {
        await dispatcher.close();
      }
      const failure =
        failedBatches > 0
          ? `${failedBatches} batches failed after ${maxRetries} retries (${lastError})`
          : undefined;
      return { claimed, failure };
    },
  };
}
