/**
 * What admission (admission.ts) remembers between decisions: a run's key and queue entry (from its run.started and
 * run.queued, which never change) and, per store, the runs seen settled (a settled run never goes again). Both only
 * save reads of the logs: warm, cleared or off, every decision is the same (test/caches.test.ts).
 */
import type { EventStore } from '../store/index.js';

let enabled = true;
const FACTS_MAX = 50_000;
const facts = new Map<string, unknown>();
let settled = new WeakMap<EventStore, Set<string>>();

export function cachedFacts<T>(key: string): T | undefined {
  return enabled ? (facts.get(key) as T | undefined) : undefined;
}

export function rememberFacts(key: string, value: unknown): void {
  if (!enabled) return;
  if (facts.size >= FACTS_MAX) facts.clear();
  facts.set(key, value);
}

/** The runs of `store` seen settled; a fresh set each call when the cache is off. */
export function settledRunsOf(store: EventStore): Set<string> {
  if (!enabled) return new Set();
  let known = settled.get(store);
  if (!known) settled.set(store, (known = new Set()));
  return known;
}

export function clearAdmissionCache(): void {
  facts.clear();
  settled = new WeakMap();
}

/** Off: every decision reads the logs afresh (for tests that check the cache changes no result). */
export function setAdmissionCacheEnabled(on: boolean): void {
  enabled = on;
  clearAdmissionCache();
}
