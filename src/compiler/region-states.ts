/**
 * A region's states by key, found by walking its transitions from the initial
 * state: what restoring a snapshot looks states up in, and what the
 * interpreter reads each region's eventless guards from. Walked once per
 * region (region-states-cache.ts).
 */
import type { Region, RegionState } from './chart.js';
import { rememberedRegionStates } from './region-states-cache.js';

/** A region's states by key, found by walking its transitions from the initial state (once per region: region-states-cache.ts). */
export function statesOf(region: Region): ReadonlyMap<string, RegionState> {
  return rememberedRegionStates(region, walkStates);
}

function walkStates(region: Region): ReadonlyMap<string, RegionState> {
  const seen = new Map<string, RegionState>();
  const visit = (s: RegionState) => {
    if (seen.has(s.key)) return;
    seen.set(s.key, s);
    for (const ts of s.on.values()) for (const t of ts) visit(t.target);
    for (const t of s.always ?? []) visit(t.target);
  };
  visit(region.initial);
  return seen;
}
