/**
 * The emulator's stand-in for an embedding model: NOT A REAL MODEL. Integrated inference
 * (`upsertRecords`, `searchRecords` with `inputs`) needs text turned into vectors; the
 * emulator does it deterministically and offline by feature hashing: each lower-cased
 * word adds ±1 to one of `dimension` buckets (FNV-1a picks the bucket and the sign), and
 * the sum is scaled to unit length. Texts that share words get similar vectors, so a
 * search finds the records whose words it names; there is no meaning beyond that, and
 * scores are not comparable with a real model's.
 */

/** The model name the emulator reports for indexes that embed with this function. */
export const EMULATOR_EMBEDDING_MODEL = 'emulator-hash-embedding';

function fnv1a(text: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The words of a text, as the embedding counts them (and as `embed_total_tokens` reports). */
export function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** A unit vector of `dimension` values for `text` (a fixed unit vector when it has no words). */
export function hashEmbedding(text: string, dimension: number): Float32Array {
  const v = new Float32Array(dimension);
  const tokens = words(text);
  for (const token of tokens) {
    const bucket = fnv1a(token, 0x811c9dc5) % dimension;
    v[bucket] = (v[bucket] ?? 0) + (fnv1a(token, 0x9e3779b9) & 1 ? 1 : -1);
  }
  let norm = 0;
  for (const x of v) norm += x * x;
  if (norm === 0) {
    v[0] = 1;
    return v;
  }
  const scale = 1 / Math.sqrt(norm);
  for (let i = 0; i < dimension; i++) v[i] = (v[i] ?? 0) * scale;
  return v;
}
