/**
 * The official `@pinecone-database/pinecone` client (v9) used the way Pinecone's docs
 * suggest for loading many records: cut them into batches and upsert batches in
 * parallel, here through a bounded pool (`workers` at a time) of
 * `pc.index({ host }).upsert({ records })`, with the client's default retries (it retries
 * 5xx and network errors 3 times; a 429 is not retried). A failed batch is recorded and
 * the pool goes on, so this contender stores as much as it can.
 */
import { Pinecone } from '@pinecone-database/pinecone';
import { type Contender, describeError, type RunInput, type RunReport } from './types.js';

/** The official client with a pool of `workers` concurrent upserts. */
export function officialContender(name: string, workers: number): Contender {
  return {
    name,
    async run(input: RunInput): Promise<RunReport> {
      const pc = new Pinecone({ apiKey: 'bench', controllerHostUrl: input.controllerHost });
      const index = pc.index({ host: input.host });
      let next = 0;
      let claimed = 0;
      let failedBatches = 0;
      let lastError = '';
      const worker = async () => {
        while (next < input.vectors.length) {
          const records = input.vectors.slice(next, next + input.batchSize);
          next += input.batchSize;
          try {
            await index.upsert({ records });
            claimed += records.length;
          } catch (error) {
            failedBatches += 1;
            lastError = describeError(error);
          }
        }
      };
      await Promise.all(Array.from({ length: workers }, worker));
      const failure = failedBatches > 0 ? `${failedBatches} batches failed (${lastError})` : undefined;
      return { claimed, failure };
    },
  };
}
