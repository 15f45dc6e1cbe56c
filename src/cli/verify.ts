/**
 * The demo's closing checks: the index holds every vector, a few records queried with
 * their own vectors come back first, and a filtered query returns only matching records.
 */
import type { DataPlane } from './common.js';
import { formatNumber } from './format.js';
import { SYNTHETIC_CATEGORIES, syntheticVector } from './synthetic.js';

/** Results of {@link verifyDemoIndex}. */
export interface Verification {
  ok: boolean;
  stored: number;
  /** One line for the summary table. */
  summary: string;
  problems: string[];
  /** Query latencies, ms. */
  latenciesMs: number[];
}

/** Check the demo index after the load. */
export async function verifyDemoIndex(
  index: DataPlane,
  data: { vectors: number; dimension: number; seed: number },
  signal?: AbortSignal,
): Promise<Verification> {
  const problems: string[] = [];
  const latenciesMs: number[] = [];
  const timed = async <T>(call: () => Promise<T>): Promise<T> => {
    const start = performance.now();
    try {
      return await call();
    } finally {
      latenciesMs.push(performance.now() - start);
    }
  };
  const stats = await index.describeIndexStats({ signal });
  if (stats.totalVectorCount !== data.vectors) {
    problems.push(`the index holds ${stats.totalVectorCount} vectors, not ${data.vectors}`);
  }
  const probes = [...new Set([0, Math.floor(data.vectors / 2), data.vectors - 1])];
  let found = 0;
  for (const i of probes) {
    const probe = syntheticVector(i, data.dimension, data.seed);
    const res = await timed(() => index.query({ vector: probe.values as number[], topK: 3, signal }));
    if (res.matches[0]?.id === probe.id) found++;
    else
      problems.push(
        `querying with ${probe.id}'s own vector returned ${res.matches[0]?.id ?? 'nothing'} first`,
      );
  }
  const category = `c${3 % SYNTHETIC_CATEGORIES}`;
  const filtered = await timed(() =>
    index.query({
      vector: syntheticVector(1, data.dimension, data.seed).values as number[],
      topK: 5,
      filter: { category: { $eq: category } },
      includeMetadata: true,
      signal,
    }),
  );
  const expected = Math.min(5, countCategory(data.vectors, 3));
  const matching = filtered.matches.filter((m) => m.metadata?.category === category).length;
  if (filtered.matches.length !== expected || matching !== filtered.matches.length) {
    problems.push(
      `the filtered query returned ${filtered.matches.length} matches, ${matching} of category ${category}`,
    );
  }
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
  return {
    ok: problems.length === 0,
    stored: stats.totalVectorCount,
    summary:
      `${found}/${probes.length} records found themselves first; filter ok ` +
      `(${matching}/${filtered.matches.length} in ${category}); median ${formatNumber(median, 1)} ms`,
    problems,
    latenciesMs,
  };
}

/** Records `0 .. n-1` whose category is `c<k>`. */
function countCategory(n: number, k: number): number {
  return n > k ? Math.floor((n - 1 - k) / SYNTHETIC_CATEGORIES) + 1 : 0;
}
