/**
 * croner jobs remembered per (zone, expression): parsing a pattern costs more than asking it for the next slot, and a
 * firer asks every schedule every tick. A paused croner job is a value for our use (we only call nextRun and
 * previousRuns, which read no state of the job), so results are the same warm, cleared or off (test/caches.test.ts).
 * Bounded: the oldest entry goes past CRON_CACHE_MAX.
 */
import type { Cron } from 'croner';
import { trimOldest } from '../bounded.js';

const CRON_CACHE_MAX = 4096;
const state = { on: true, jobs: new Map<string, Cron>() };

export function rememberedCron(key: string, make: () => Cron): Cron {
  if (!state.on) return make();
  let c = state.jobs.get(key);
  if (!c) {
    c = make();
    state.jobs.set(key, c);
    trimOldest(state.jobs, CRON_CACHE_MAX);
  }
  return c;
}

export function clearCronCache(): void {
  state.jobs.clear();
}

export function setCronCacheEnabled(on: boolean): void {
  state.on = on;
  state.jobs.clear();
}
