/**
 * Epoch ms → ISO string. Every action folding one event stamps the same time,
 * and toISOString was a fifth of the cost of a fold step: the last conversion
 * is kept. A cache of a pure function, so the result is the same either way
 * (test/caches.test.ts).
 */
let enabled = true;
let lastMs = Number.NaN;
let lastIso = '';

export function iso(ms: number): string {
  if (ms !== lastMs || !enabled) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
}

export function clearIsoCache(): void {
  lastMs = Number.NaN;
  lastIso = '';
}

/** Off: every call converts afresh (for tests that check the cache changes no result). */
export function setIsoCacheEnabled(on: boolean): void {
  enabled = on;
  clearIsoCache();
}
