/**
 * The chaos suite's accounting invariant, checked against what the emulator holds. Pure:
 * it reads the input, what the SDK reported and a view of the emulator's namespace, and
 * returns every violation found as a sentence (none: the accounting is exact).
 *
 * What a bulk load must leave behind, whether it completed or threw:
 *
 * 1. `upsertedCount + failedVectors.length === intended` (a completed load has no failed
 *    vectors, so `upsertedCount === intended`);
 * 2. `failedVectors` are input records, each at most once;
 * 3. every input record NOT in `failedVectors` is stored, with its values (as float32)
 *    and metadata;
 * 4. nothing else is stored: the namespace holds input ids only, and its count (and the
 *    emulator's `stats().vectors.total`) equals the number of ids it holds;
 * 5. a failed vector may be stored too, but only with its whole batch: a batch whose
 *    write was stored and whose answer was lost (reset after the write, a body too slow
 *    for the timeout) is reported failed, and resending it is harmless (upserts are
 *    idempotent). So, per failed batch (array input: batch `b` is records
 *    `b × batchSize .. (b + 1) × batchSize − 1`, as the batches stay under the byte
 *    budget), every record is in `failedVectors`, and all of them are stored or none.
 *
 * Upserting `failedVectors` again then completes the load: the suite checks that too,
 * with the same invariant on the resumed call and `stored === intended` at the end.
 */
import type { Vector } from '../../src/data/types.js';

/** The emulator's side: one namespace of one index. */
export interface StoredView {
  /** Records in the namespace (its reported count). */
  size: number;
  /** The emulator's `stats().vectors.total` (every namespace of the index). */
  statsTotal: number;
  /** The namespace's count in `stats().vectors.namespaces`. */
  statsNamespace: number;
  /** The stored record, or undefined. */
  get(id: string): { values: ArrayLike<number>; metadata?: unknown } | undefined;
  /** Every stored id. */
  ids(): Iterable<string>;
}

/** What the SDK reported for one bulk call. */
export interface Reported {
  upsertedCount: number;
  /** `failedVectors` of the error; undefined when the call completed. */
  failedVectors: Vector[] | undefined;
}

/** What was found: counts for the report and the violations (empty when all holds). */
export interface Accounting {
  intended: number;
  reported: number;
  failed: number;
  stored: number;
  /** Failed vectors the emulator holds anyway (whole batches whose answer was lost). */
  storedOfFailed: number;
  violations: string[];
}

const MAX_LISTED = 5;

/** Check the invariant for a bulk call over the array `input`, cut in batches of `batchSize`. */
export function checkAccounting(
  input: readonly Vector[],
  reported: Reported,
  stored: StoredView,
  batchSize: number,
): Accounting {
  const violations: string[] = [];
  const problem = (what: string, ids: string[]) => {
    if (ids.length === 0) return;
    const shown = ids.slice(0, MAX_LISTED).join(', ');
    violations.push(`${what}: ${ids.length} (${shown}${ids.length > MAX_LISTED ? ', …' : ''})`);
  };
  const position = new Map<string, number>();
  for (const [k, v] of input.entries()) position.set(v.id, k);
  const failed = reported.failedVectors ?? [];
  const failedIds = new Set<string>();
  const duplicates: string[] = [];
  const foreign: string[] = [];
  for (const v of failed) {
    if (failedIds.has(v.id)) duplicates.push(v.id);
    failedIds.add(v.id);
    if (!position.has(v.id)) foreign.push(v.id);
  }
  problem('failedVectors listed twice', duplicates);
  problem('failedVectors not from the input', foreign);
  if (reported.upsertedCount + failed.length !== input.length) {
    violations.push(
      `upsertedCount ${reported.upsertedCount} + failedVectors ${failed.length} != intended ${input.length}`,
    );
  }

  const missing: string[] = [];
  const altered: string[] = [];
  for (const v of input) {
    if (failedIds.has(v.id)) continue;
    const got = stored.get(v.id);
    if (!got) missing.push(v.id);
    else if (!sameRecord(v, got)) altered.push(v.id);
  }
  problem('confirmed vectors missing from the emulator', missing);
  problem('stored vectors whose values or metadata differ from the input', altered);

  let count = 0;
  const extra: string[] = [];
  for (const id of stored.ids()) {
    count += 1;
    if (!position.has(id)) extra.push(id);
  }
  problem('stored ids that are not in the input', extra);
  if (stored.size !== count || stored.statsNamespace !== count || stored.statsTotal !== count) {
    violations.push(
      `stored counts disagree: ${count} ids, namespace size ${stored.size}, stats namespace ${stored.statsNamespace}, stats total ${stored.statsTotal}`,
    );
  }

  // Failed vectors by batch: whole batches, stored all or none.
  const batches = new Map<number, string[]>();
  for (const id of failedIds) {
    const k = position.get(id);
    if (k === undefined) continue;
    const b = Math.floor(k / batchSize);
    batches.set(b, [...(batches.get(b) ?? []), id]);
  }
  const partial: string[] = [];
  const torn: string[] = [];
  let storedOfFailed = 0;
  for (const [b, ids] of batches) {
    const size = Math.min(batchSize, input.length - b * batchSize);
    if (ids.length !== size) partial.push(`batch ${b} (${ids.length} of ${size})`);
    const held = ids.filter((id) => stored.get(id) !== undefined).length;
    storedOfFailed += held;
    if (held !== 0 && held !== ids.length) torn.push(`batch ${b} (${held} of ${ids.length} stored)`);
  }
  problem('failed batches reported in part', partial);
  problem('failed batches stored in part', torn);

  return {
    intended: input.length,
    reported: reported.upsertedCount,
    failed: failed.length,
    stored: count,
    storedOfFailed,
    violations,
  };
}

/** Values equal as float32 (the emulator stores float32), metadata equal as JSON. */
function sameRecord(v: Vector, got: { values: ArrayLike<number>; metadata?: unknown }): boolean {
  if (got.values.length !== v.values.length) return false;
  for (let i = 0; i < v.values.length; i++) {
    if (got.values[i] !== Math.fround(v.values[i]!)) return false;
  }
  return JSON.stringify(got.metadata ?? null) === JSON.stringify(v.metadata ?? null);
}
