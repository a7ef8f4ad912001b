/**
 * A region's states by key, remembered per region of a chart: restoring a
 * snapshot looks each region's state up by key, and walking a region's
 * transitions to find them is done once per region rather than once per
 * restore. A pure function of the chart, so the result is the same warm,
 * cleared or off (test/caches.test.ts). A WeakMap: bounded by the charts
 * still in use.
 */
import { weakMemo } from '../weak-memo.js';
import type { Region, RegionState } from './chart.js';

const memo = weakMemo<Region, ReadonlyMap<string, RegionState>>();

/** `find(region)`, remembered for this region. */
export const rememberedRegionStates = (region: Region, find: (region: Region) => ReadonlyMap<string, RegionState>) => memo.get(region, find);
export const clearRegionStatesCache = memo.clear;
export const setRegionStatesCacheEnabled = memo.setEnabled;
