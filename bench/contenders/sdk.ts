/**
 * This SDK as a contender: `pc.index({ host }).upsert({ vectors, batchSize, maxConcurrency })`
 * with the default `RetryConfig` and the real clock. The limiter registry and logger are
 * passed in explicitly only to watch the run (see {@link LimiterWatch}); with
 * `literalSpec` the limiters run {@link SpecLiteralState} instead of the SDK's decisions,
 * which makes the spec's own algorithm a contender on the same machinery.
 */
import { Pinecone } from '../../src/client.js';
import { systemClock } from '../../src/resilience/clock.js';
import { AdaptiveLimiterRegistry } from '../../src/resilience/registry.js';
import { LimiterWatch } from './limiter-watch.js';
import { SpecLiteralState } from './spec-literal.js';
import { type Contender, describeError, type RunInput, type RunReport } from './types.js';

/** Variants of the SDK contender. */
export interface SdkVariant {
  /** The spec's algorithm ({@link SpecLiteralState}) instead of the SDK's limiter decisions. */
  literalSpec?: boolean;
}

/** This SDK (or a variant on its machinery) at one ceiling. */
export function sdkContender(name: string, maxConcurrency: number, variant: SdkVariant = {}): Contender {
  return {
    name,
    async run(input: RunInput): Promise<RunReport> {
      const t0 = performance.now();
      const watch = new LimiterWatch(maxConcurrency);
      const clock = systemClock;
      const logger = watch.logger;
      const limiters = new AdaptiveLimiterRegistry({
        clock,
        logger,
        limiter: {
          onTransition: watch.onTransition,
          createState: variant.literalSpec ? (notify) => new SpecLiteralState(notify) : undefined,
          // The spec's algorithm has no early retries either: its delays run their length.
          wakeRetries: !variant.literalSpec,
        },
      });
      const pc = new Pinecone({
        apiKey: 'bench',
        limiters,
        logger,
        clock,
        ...(input.retries && {
          retryConfig: { maxRetries: input.retries.maxRetries },
          timeout: input.retries.timeout,
        }),
      });
      // The limiter the upsert will use: the registry keys hosts by host:port.
      const limiter = limiters.get(input.host);
      watch.start(limiter);
      let claimed = 0;
      let failure: string | undefined;
      try {
        const res = await pc
          .index({ host: input.host })
          .upsert({ vectors: input.vectors, batchSize: input.batchSize, maxConcurrency });
        claimed = res.upsertedCount;
      } catch (error) {
        claimed = (error as { upsertedCount?: number }).upsertedCount ?? 0;
        const at = ((performance.now() - t0) / 1000).toFixed(1);
        failure = `stopped at ${at} s: ${describeError(error)}`;
      } finally {
        watch.stop();
        await pc.close();
      }
      return { claimed, failure, notes: watch.notes(), trace: watch.trace() };
    },
  };
}
