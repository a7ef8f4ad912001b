/**
 * Where an in-process Engine's attempts report progress when its caller names no channel: a file store's own
 * `progress/` folder (the library's use, as the CLI's), its messages sealed with the store's data key when it has one.
 */
import { ringOf, sealedProgress } from '../encryption/index.js';
import { FileProgressChannel, type ProgressChannel } from '../progress/index.js';
import { FileEventStore, type EventStore } from '../store/index.js';
import { SETTLED_STATUSES } from '../events/index.js';
import type { RunView } from '../runtime/index.js';

export function storeProgress(store: EventStore): ProgressChannel | undefined {
  return store instanceof FileEventStore
    ? sealedProgress(FileProgressChannel.under(store.dir), ringOf(store))
    : undefined;
}

/** A run that settled here (a drive, an input such as cancel): what its attempts left of live progress goes. */
export async function sweptIfSettled(progress: ProgressChannel | undefined, view: RunView): Promise<RunView> {
  if (SETTLED_STATUSES.includes(view.status)) await progress?.sweep?.(view.runId).catch(() => undefined);
  return view;
}
