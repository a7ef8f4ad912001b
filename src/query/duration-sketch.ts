/**
 * Settled runs' durations as `stats` keeps them (run-tally.ts): mergeable, and bounded whatever the count. Every value
 * is kept while a set holds at most EXACT_MAX, so p50 and p95 are nearest-rank, a duration some run really took. Past
 * that the values go into logarithmic buckets of relative width 2% (the scheme of DDSketch, Datadog's mergeable
 * quantile sketch: bucket i holds (γ^(i-1), γ^i] with γ = (1+α)/(1-α), α = 1%), so a percentile is within 1% of the
 * nearest-rank one, and a set of a million runs is at most a few hundred buckets (one a 2% step from 1 ms to a year)
 * instead of a million numbers: the kept figures `stats` reads (cache-figures.ts) had grown by a number a settled run,
 * 100,000 of them parsed, checked and sorted at each `stats` at 100,000 runs (about 80 ms of its 0.3 s).
 *
 * The count, sum and maximum stay exact, so the mean and the maximum do. A duration under 1 ms (0, or below 0 with
 * engines' clocks apart) counts in a bucket of its own shown as 0. Buckets are a function of the value alone, so a set
 * bucketed in parts and merged has the same buckets as the set bucketed at once: `stats` reads the same figures from
 * the kept figures as from every record. Pure.
 */

/** Values kept one by one, at most: past this many, buckets. */
export const EXACT_MAX = 4096;
const ALPHA = 0.01;
const GAMMA = (1 + ALPHA) / (1 - ALPHA);
const LN_GAMMA = Math.log(GAMMA);
/** The bucket of the values under 1 ms (shown as 0). */
const UNDER_ONE = -1;

export interface DurationSketch {
  count: number;
  sum: number;
  max: number | null;
  /** Every value, in no order, while count ≤ EXACT_MAX; null past it. */
  values: number[] | null;
  /** Past EXACT_MAX: how many values each bucket holds, by its index (as text). */
  buckets: Record<string, number> | null;
}

export const emptySketch = (): DurationSketch => ({ count: 0, sum: 0, max: null, values: [], buckets: null });

const bucketOf = (ms: number): number => (ms < 1 ? UNDER_ONE : Math.max(0, Math.ceil(Math.log(ms) / LN_GAMMA)));
/** What a bucket's values read as: the point within α of every value the bucket holds. */
const valueOfBucket = (i: number): number => (i === UNDER_ONE ? 0 : Math.round((2 * GAMMA ** i) / (GAMMA + 1)));

function bucket(s: DurationSketch, ms: number): void {
  const b = (s.buckets ??= {});
  const k = String(bucketOf(ms));
  b[k] = (b[k] ?? 0) + 1;
}

/** `s` with its values moved into buckets (changed in place). */
function toBuckets(s: DurationSketch): void {
  const values = s.values ?? [];
  s.values = null;
  s.buckets ??= {};
  for (const v of values) bucket(s, v);
}

/** Adds one duration (ms) to `s` (changed in place). */
export function addDuration(s: DurationSketch, ms: number): void {
  s.count++;
  s.sum += ms;
  if (s.max === null || ms > s.max) s.max = ms;
  if (s.values) {
    s.values.push(ms);
    if (s.values.length > EXACT_MAX) toBuckets(s);
  } else bucket(s, ms);
}

/** `from` added to `into` (changed in place; `from` is not). */
export function mergeSketch(into: DurationSketch, from: DurationSketch): DurationSketch {
  if (from.count === 0) return into;
  into.count += from.count;
  into.sum += from.sum;
  if (from.max !== null && (into.max === null || from.max > into.max)) into.max = from.max;
  if (into.values && from.values && into.values.length + from.values.length <= EXACT_MAX) {
    for (const v of from.values) into.values.push(v);
    return into;
  }
  toBuckets(into);
  const b = into.buckets!;
  if (from.values) for (const v of from.values) bucket(into, v);
  else for (const [k, n] of Object.entries(from.buckets ?? {})) b[k] = (b[k] ?? 0) + n;
  return into;
}

/**
 * The nearest-rank percentiles `ps` (0–100) of `s`, null each when it holds none: exact while it keeps every value,
 * within 1% past that (and never above the maximum).
 */
export function percentiles(s: DurationSketch, ps: readonly number[]): (number | null)[] {
  if (s.count === 0) return ps.map(() => null);
  const rankOf = (p: number) => Math.min(s.count, Math.max(1, Math.ceil((p / 100) * s.count)));
  if (s.values) {
    const sorted = [...s.values].sort((a, b) => a - b);
    return ps.map((p) => sorted[rankOf(p) - 1]!);
  }
  const buckets = Object.entries(s.buckets ?? {})
    .map(([k, n]) => [Number(k), n] as const)
    .sort((a, b) => a[0] - b[0]);
  return ps.map((p) => {
    const rank = rankOf(p);
    let seen = 0;
    for (const [i, n] of buckets) {
      seen += n;
      if (seen >= rank) return Math.min(valueOfBucket(i), s.max!);
    }
    return s.max;
  });
}

/** Durations as a tally kept before (every value in a list) read as a sketch. */
export function sketchOf(values: readonly number[]): DurationSketch {
  const s = emptySketch();
  for (const v of values) addDuration(s, v);
  return s;
}
