/**
 * Round numbers for the report's axes: the top of a scale, the ticks up to it, and their
 * labels. Pure arithmetic, apart from the drawing in chart.ts.
 */

/** A round number at or above `v` (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k). */
export function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/**
 * Round tick values from 0 to `max`, about `count` of them: a step of 1, 2, 2.5 or 5 × 10^k.
 * With `landOnMax` (a value axis whose `max` came from {@link niceMax}) a step that lands on
 * `max` itself is preferred, so the top of the axis is labelled.
 */
export function ticks(max: number, count = 5, landOnMax = true): number[] {
  if (!(max > 0)) return [0];
  const raw = max / count;
  const p = 10 ** Math.floor(Math.log10(raw));
  const steps = [0.5, 1, 2, 2.5, 5, 10].map((m) => m * p);
  const lands = (step: number) => {
    const n = max / step;
    return Math.abs(n - Math.round(n)) < 1e-9 && n >= count * 0.6 && n <= count * 1.4;
  };
  const step =
    (landOnMax ? steps.find((s) => s >= raw * 0.7 && lands(s)) : undefined) ??
    steps.find((s) => s >= raw) ??
    10 * p;
  const out: number[] = [];
  for (let v = 0; v <= max + step * 1e-9; v += step) out.push(round(v, 6));
  return out;
}

/** A tick label: `2500`, `0.25`, `12.5k`. */
export function formatTick(v: number): string {
  if (v >= 10_000) return `${round(v / 1000, 1)}k`;
  return String(round(v, 2));
}

/** `v` rounded to `digits` decimals. */
export function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
