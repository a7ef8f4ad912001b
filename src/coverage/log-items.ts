/**
 * The coverage items a recorded run covers, read from its log step by step with the same reading a generated path's
 * steps get (step-items.ts), so a run's items and a path's `covers` are keys of one kind: `check` asks which paths
 * the expectations' runs leave uncovered.
 */
import type { Definition } from '../definition/index.js';
import type { EventEnvelope, PendingEvent } from '../events/index.js';
import { applyEvent, compiledForRun, foldStartOf, startFold, startedOf } from '../runtime/index.js';
import { itemKey } from './items.js';
import { stepItems } from './step-items.js';

/** The keys (itemKey) of every item the run of `events` covers, `def` being the definition it ran under. */
export function itemsOfLog(def: Definition, events: readonly EventEnvelope[]): Set<string> {
  const first = startedOf(events[0]);
  const compiled = compiledForRun(first);
  let snapshot = startFold(compiled, foldStartOf(first));
  const keys = new Set(stepItems(def, null, snapshot, null).map(itemKey));
  for (const ev of events.slice(1)) {
    const before = snapshot;
    snapshot = applyEvent(compiled, snapshot, ev).snapshot;
    for (const item of stepItems(def, before, snapshot, ev as PendingEvent)) keys.add(itemKey(item));
  }
  return keys;
}
