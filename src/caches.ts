/**
 * Every performance cache in ledgerflow, listed in one place. Each lives in a `*-cache.ts` module beside the code it
 * speeds up, and owns its bound and its clearing; this list only gathers them, so that a test can clear them all, or
 * turn them all off, and check that no result changes (test/caches.test.ts). At the top of src because the caches span
 * four modules (definition, compiler, runtime, store); nothing in src imports it, and it is not in the library's API.
 */
import { clearIsoCache, setIsoCacheEnabled } from './compiler/iso-cache.js';
import { clearItemCountsCache, setItemCountsCacheEnabled } from './compiler/item-counts-cache.js';
import { clearLoopOutcomeCache, setLoopOutcomeCacheEnabled } from './compiler/loop-outcome-cache.js';
import { clearWorkflowCache, setWorkflowCacheEnabled } from './compiler/workflow-cache.js';
import { clearCronCache, setCronCacheEnabled } from './definition/cron-cache.js';
import { clearAdmissionCache, setAdmissionCacheEnabled } from './limits/admission-cache.js';
import { clearIdStampCache, setIdStampCacheEnabled } from './executor/id-stamp-cache.js';
import { clearStateHashCache, setStateHashCacheEnabled } from './runtime/state-hash-cache.js';
import { clearSummaryCache, setSummaryCacheEnabled } from './store/summary-cache.js';

export interface Cache {
  /** Its module, relative to src/. */
  readonly module: string;
  readonly clear: () => void;
  /** Off: every call computes afresh (turning it on again starts it empty). */
  readonly setEnabled: (on: boolean) => void;
}

export const CACHES: readonly Cache[] = [
  { module: 'definition/cron-cache.ts', clear: clearCronCache, setEnabled: setCronCacheEnabled },
  { module: 'compiler/iso-cache.ts', clear: clearIsoCache, setEnabled: setIsoCacheEnabled },
  { module: 'compiler/item-counts-cache.ts', clear: clearItemCountsCache, setEnabled: setItemCountsCacheEnabled },
  { module: 'compiler/loop-outcome-cache.ts', clear: clearLoopOutcomeCache, setEnabled: setLoopOutcomeCacheEnabled },
  { module: 'compiler/workflow-cache.ts', clear: clearWorkflowCache, setEnabled: setWorkflowCacheEnabled },
  { module: 'runtime/state-hash-cache.ts', clear: clearStateHashCache, setEnabled: setStateHashCacheEnabled },
  { module: 'limits/admission-cache.ts', clear: clearAdmissionCache, setEnabled: setAdmissionCacheEnabled },
  { module: 'executor/id-stamp-cache.ts', clear: clearIdStampCache, setEnabled: setIdStampCacheEnabled },
  { module: 'store/summary-cache.ts', clear: clearSummaryCache, setEnabled: setSummaryCacheEnabled },
];

export function clearCaches(): void {
  for (const c of CACHES) c.clear();
}

/** Turns every cache off (each call computes afresh) or on again, empty. */
export function setCachesEnabled(on: boolean): void {
  for (const c of CACHES) c.setEnabled(on);
}
