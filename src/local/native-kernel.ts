/**
 * The optional native scan: usearch's `exactSearch` (SIMD distances accumulated in double
 * precision, on as many threads as asked), from the optional dependency `usearch`, loaded
 * on first use when its prebuilt binary loads on this platform. Without it (not installed,
 * no binary for the platform, a failed self-check, or `PINECONE_EMULATOR_NATIVE=off`) the
 * store runs its plain-JS scan.
 *
 * What it returns are candidates, never answers: usearch's binding reads the dataset and
 * the query from byte 0 of their ArrayBuffers whatever their `byteOffset` (so views into a
 * larger buffer scan the wrong rows), reports distances rounded to float32 (cosine and dot
 * product as `1 - similarity`), and orders equal distances arbitrarily (`std::partial_sort`).
 * `native-search.ts` rescores the candidates exactly, using {@link NativeKernel.rankError}.
 */
import { createRequire } from 'node:module';
import type { Metric } from '../data/types.js';

/** The nearest rows found by a native scan, best first. */
export interface NativeCandidates {
  /** Row indices. */
  slots: number[];
  /** Approximate ranks, non-increasing: the similarity, or minus the squared distance. */
  ranks: Float64Array;
}

/** A native exact-search kernel over a row-major float32 matrix. */
export interface NativeKernel {
  /** What runs, for benchmarks and logs (e.g. `usearch exactSearch, 2 threads`). */
  readonly description: string;
  /**
   * The `count` rows of `matrix` (`rows × dim` floats starting at byte 0 of its buffer)
   * nearest to `query` under `metric`, best first. `count` is at most the number of rows.
   */
  nearest(
    matrix: Float32Array,
    dim: number,
    query: Float32Array,
    count: number,
    metric: Metric,
  ): NativeCandidates;
  /**
   * A bound of |approximate rank - exact double-precision rank| for any row, given the
   * query's norm and an upper bound of the rows' norms.
   */
  rankError(metric: Metric, dim: number, queryNorm: number, rowNormBound: number): number;
}

/** The part of usearch's module used here. */
interface Usearch {
  exactSearch(
    dataset: Float32Array,
    queries: Float32Array,
    dimensions: number,
    count: number,
    metric: string,
    threads: number,
  ): { keys: BigUint64Array; distances: Float32Array };
}

/** Options of {@link createNativeKernel}. */
export interface NativeKernelOptions {
  /**
   * Threads per scan (0: one per core). Default 1: a scan of float32 rows is mostly bound
   * by memory bandwidth; on the shared 2-core machine a second thread took 0.6× to 1.8×
   * the time of one, depending on the other jobs (docs/emulator.md), and it competes with
   * the emulator's own clients.
   */
  threads?: number;
  /** Loads the module (tests inject a failing one). Default: `require('usearch')`. */
  load?: () => unknown;
}

const USEARCH_METRIC: Record<Metric, string> = { cosine: 'cos', dotproduct: 'ip', euclidean: 'l2sq' };

/** Unit roundoff of float32. */
const F32_EPSILON = 2 ** -24;

function requireUsearch(): unknown {
  return createRequire(import.meta.url)('usearch');
}

/**
 * The rank usearch's distance stands for: `cos` and `ip` distances are `1 - similarity`,
 * `l2sq` is the squared distance itself.
 */
function rankOfDistance(metric: Metric, distance: number): number {
  return metric === 'euclidean' ? -distance : 1 - distance;
}

/**
 * A kernel over usearch, checked on a tiny matrix whose answers are known, so a binary
 * that loads but computes something else (another metric definition in a later release)
 * is refused rather than trusted. Throws when the module cannot load or the check fails.
 */
export function createNativeKernel(options: NativeKernelOptions = {}): NativeKernel {
  const threads = options.threads ?? 1;
  const usearch = (options.load ?? requireUsearch)() as Partial<Usearch> | undefined;
  if (typeof usearch?.exactSearch !== 'function') throw new Error('usearch has no exactSearch function');
  const exactSearch = usearch.exactSearch.bind(usearch);
  const kernel: NativeKernel = {
    description: `usearch exactSearch, ${threads === 0 ? 'one thread per core' : `${threads} thread(s)`}`,
    nearest(matrix, dim, query, count, metric) {
      if (matrix.byteOffset !== 0 || query.byteOffset !== 0) {
        throw new Error('usearch reads from byte 0 of the buffer: pass views that start there');
      }
      const found = exactSearch(matrix, query, dim, count, USEARCH_METRIC[metric], threads);
      const slots = Array.from(found.keys, Number);
      const ranks = Float64Array.from(found.distances, (d) => rankOfDistance(metric, d));
      return { slots, ranks };
    },
    rankError(metric, dim, queryNorm, rowNormBound) {
      // S bounds the sum of |terms| of the kernel's sum: |q·x| / (|q||x|) <= 1 for cosine,
      // |q||x| for the dot product, (|q| + |x|)^2 for the squared distance. A sum of dim
      // products in float32, in any order, errs by at most dim·u·S (u = 2^-24); cosine's
      // two norms and division triple that; rounding the distance (at most S + 1) to
      // float32 adds u·(S + 1); our own double arithmetic adds far less. Doubled, for margin.
      const s =
        metric === 'cosine'
          ? 1
          : metric === 'dotproduct'
            ? queryNorm * rowNormBound
            : (queryNorm + rowNormBound) ** 2;
      return 2 * (3 * dim + 16) * F32_EPSILON * (s + 1);
    },
  };
  selfCheck(kernel);
  return kernel;
}

/** Rows e0, e1, e0 + e1 of dimension 4 and the query e0: each row's rank is known. */
function selfCheck(kernel: NativeKernel): void {
  const matrix = Float32Array.from([1, 0, 0, 0, 0, 1, 0, 0, 1, 1, 0, 0]);
  const query = Float32Array.from([1, 0, 0, 0]);
  const rankOfRow: Record<Metric, number[]> = {
    cosine: [1, 0, Math.SQRT1_2],
    dotproduct: [1, 0, 1],
    euclidean: [0, -2, -1],
  };
  for (const metric of ['cosine', 'dotproduct', 'euclidean'] as const) {
    const got = kernel.nearest(matrix, 4, query, 3, metric);
    const ok =
      [...got.slots].sort().join() === '0,1,2' &&
      got.slots.every((slot, i) => Math.abs(got.ranks[i]! - rankOfRow[metric][slot]!) < 1e-6) &&
      got.ranks.every((r, i) => i === 0 || r <= got.ranks[i - 1]!);
    if (!ok) throw new Error(`self-check failed for ${metric}: ${JSON.stringify(got)}`);
  }
}

/** A kernel, or why there is none. */
export interface NativeKernelChoice {
  kernel?: NativeKernel;
  reason?: string;
}

/**
 * The kernel the environment asks for: none when `PINECONE_EMULATOR_NATIVE` is `off`
 * (or `0`, `false`, `no`), else usearch when it loads and passes its self-check.
 */
export function resolveNativeKernel(
  env: NodeJS.ProcessEnv = process.env,
  options: NativeKernelOptions = {},
): NativeKernelChoice {
  const setting = (env.PINECONE_EMULATOR_NATIVE ?? '').trim().toLowerCase();
  if (['off', '0', 'false', 'no'].includes(setting))
    return { reason: 'disabled by PINECONE_EMULATOR_NATIVE' };
  try {
    return { kernel: createNativeKernel(options) };
  } catch (err) {
    return { reason: `usearch unavailable: ${(err as Error).message.split('\n')[0]}` };
  }
}

let processChoice: NativeKernelChoice | undefined;

/** The process-wide kernel (resolved once, on first use), or undefined: see {@link nativeKernelStatus}. */
export function defaultNativeKernel(): NativeKernel | undefined {
  processChoice ??= resolveNativeKernel();
  return processChoice.kernel;
}

/** Which scan the store runs by default: the kernel's description, or why the plain-JS scan runs. */
export function nativeKernelStatus(): string {
  const kernel = defaultNativeKernel();
  return kernel ? kernel.description : `plain JS scan (${processChoice?.reason})`;
}
