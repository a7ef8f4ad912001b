/**
 * The `20261121-071258` that begins a run id, for the second `now` falls in: thousands of runs start per second, so the
 * last one is kept. A cache of a pure function of the time, so ids begin the same warm, cleared or off
 * (test/caches.test.ts).
 */
let enabled = true;
let stampSecond = Number.NaN;
let stamp = '';

export function stampOf(now: number): string {
  const second = Math.floor(now / 1000);
  if (second !== stampSecond || !enabled) {
    stamp = new Date(now).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
    stampSecond = second;
  }
  return stamp;
}

export function clearIdStampCache(): void {
  stampSecond = Number.NaN;
  stamp = '';
}

/** Off: every call formats afresh (for tests that check the cache changes no result). */
export function setIdStampCacheEnabled(on: boolean): void {
  enabled = on;
  clearIdStampCache();
}
