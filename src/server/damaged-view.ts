/**
 * A run whose log lost events after they were written (query/damage.ts), as the API shows it: DAMAGED, not the state of
 * what is left (nothing drives it), with what was lost, its files said under `<store>`.
 */
import type { DamagedLog } from '../query/index.js';
import type { RunView } from '../runtime/index.js';
import { withoutRoot } from './errors.js';

export function shownRun(
  view: RunView,
  damaged: DamagedLog | null,
  storeRoot: string | undefined,
): RunView | (RunView & { damaged: DamagedLog }) {
  if (!damaged) return view;
  return {
    ...view,
    status: 'DAMAGED' as RunView['status'],
    damaged: { ...damaged, index: withoutRoot(damaged.index, storeRoot), file: withoutRoot(damaged.file, storeRoot) },
  };
}
