/**
 * Utilization over the last minute and fifteen (agent utilization: the percentage of an agent's capacity used): the
 * mean of an agent's load samples in each window, a load being its attempts in flight over its capacity (a NATS worker:
 * its concurrency per handler times its handlers; a file agent, which has no bound: busy or not). Pure.
 */

/** A load sample: when (ms), and the share of capacity in use then (0..1). */
export interface LoadSample {
  readonly at: number;
  readonly load: number;
}

/** The share of capacity used over the last minute and fifteen, 0..1, rounded to hundredths. */
export interface Utilization {
  m1: number;
  m15: number;
}

export const WINDOW_1M = 60_000;
export const WINDOW_15M = 15 * 60_000;

const mean = (xs: number[]): number => Math.round((xs.reduce((a, b) => a + b, 0) / xs.length) * 100) / 100;

/** Undefined with no sample in the last fifteen minutes; a window with none takes the newest sample's load. */
export function utilizationOf(samples: readonly LoadSample[], now: number): Utilization | undefined {
  const m15 = samples.filter((s) => now - s.at <= WINDOW_15M);
  if (m15.length === 0) return undefined;
  const m1 = m15.filter((s) => now - s.at <= WINDOW_1M);
  return { m1: mean((m1.length > 0 ? m1 : m15.slice(-1)).map((s) => s.load)), m15: mean(m15.map((s) => s.load)) };
}

/** `samples` with `next` added, those older than fifteen minutes dropped, at most `keep` (the newest). */
export function keepSamples<T extends LoadSample>(samples: readonly T[], next: T, keep = 200): T[] {
  return [...samples.filter((s) => next.at - s.at <= WINDOW_15M), next].slice(-keep);
}

/** A load: in flight over capacity, capped at 1; no capacity known: busy (1) or idle (0). */
export const loadOf = (inFlight: number, capacity?: number): number =>
  capacity && capacity > 0 ? Math.min(1, inFlight / capacity) : inFlight > 0 ? 1 : 0;
