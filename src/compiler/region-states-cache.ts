/**
 * A region's states by key, remembered per region of a chart: restoring a
 * snapshot looks each region's state up by key, and walking a region's
 * transitions to find them is done once per region rather than once per
 * restore. A pure function of the chart, so the result is the same warm,
 * cleared or off (test/caches.test.ts). A WeakMap: bounded by the charts
 * still in use.
 */
import type { Region, RegionState } from './chart.js';

let enabled = true;
let regionStates = new WeakMap<Region, ReadonlyMap<string, RegionState>>();

/** `find(region)`, remembered for this region. */
export function rememberedRegionStates(region: Region, find: (region: Region) => ReadonlyMap<string, RegionState>): ReadonlyMap<string, RegionState> {
  if (!enabled) return find(region);
  let found = regionStates.get(region);
  if (!found) {
    found = find(region);
    regionStates.set(region, found);
  }
  return found;
}

export function clearRegionStatesCache(): void {
  regionStates = new WeakMap();
}

/** Off: every call walks the region afresh (for tests that check the cache changes no result). */
export function setRegionStatesCacheEnabled(on: boolean): void {
  enabled = on;
  clearRegionStatesCache();
}
