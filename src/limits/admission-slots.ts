/**
 * The slot document of one (workflow, concurrency key): which runs hold a slot and which wait, in admission order. Kept
 * as one of the store's shared documents (a file on the embedded store, a KV entry on NATS) and read and written only
 * inside the admission lock's hold (admission-batch.ts), so a start or a settle reads one document instead of the log
 * of every unsettled run of the workflow.
 *
 * A projection of the logs, never the truth, kept so that it can only count too many holders, never too few:
 * - it names a starting run before its run.started is written, so a process that dies in between leaves a holder with
 *   no log (a phantom), not a running run the document does not know;
 * - a queued run found already admitted when admission reaches it (the process that admitted it died before writing the
 *   document) is a holder;
 * - when the document says the slots are full and someone waits, each holder is checked against its log once in the
 *   hold: phantoms, settled runs and runs still QUEUED (their admission was never written) give their slot back;
 * - a missing or unreadable document, and every admission that is not a start's or a settle's (a sweep, resume, serve),
 *   rebuild it from the logs.
 */
import { z } from 'zod';
import type { Definition } from '../definition/index.js';
import { DEFAULT_PRIORITY, MAX_PRIORITY } from '../definition/index.js';
import { SETTLED_STATUSES } from '../events/index.js';
import type { EventStore } from '../store/index.js';
import { byAdmissionOrder, slotsOf, type QueuedRun, type Slots } from './admission.js';

/** What a document holds; one that does not parse is rebuilt from the logs. */
const SlotsDocSchema = z.object({
  v: z.literal(1),
  holders: z.array(z.string()),
  queued: z.array(
    z.object({ runId: z.string(), priority: z.number().int().min(0).max(MAX_PRIORITY), queuedAt: z.string() }),
  ),
});

/** The store keeps shared documents: admission keeps its slots there, else reads the logs every time. */
export const keepsSlots = (store: EventStore): boolean =>
  typeof store.readShared === 'function' && typeof store.updateShared === 'function';

/** The slots of (workflow, key) in a hold: from the document (`rebuild`: from the logs, as when there is none). */
export async function readSlots(
  store: EventStore,
  doc: string,
  def: Definition,
  key: string | null,
  rebuild: boolean,
): Promise<Slots> {
  if (!rebuild && keepsSlots(store)) {
    // A document that cannot be read (not JSON: LF_SHARED_DOC_CORRUPT; the store briefly unavailable) is the
    // same as none: the logs, which are the truth, are read instead, and this hold writes the document anew.
    const parsed = SlotsDocSchema.safeParse(await store.readShared!(doc).catch(() => null));
    if (parsed.success) return { holders: parsed.data.holders, queued: parsed.data.queued.sort(byAdmissionOrder) };
  }
  return slotsOf(store, def, key);
}

/** Writes the slots as the hold now has them (nothing on a store that keeps no documents). */
export async function writeSlots(store: EventStore, doc: string, slots: Slots): Promise<void> {
  if (!keepsSlots(store)) return;
  const value = { v: 1, holders: [...slots.holders], queued: [...slots.queued] };
  await store.updateShared!(doc, () => ({ doc: value, result: undefined }));
}

/** What a run's log says of it, for admission: gone (no log, another workflow's, settled), queued, or holding a slot. */
type Standing = { kind: 'gone' } | { kind: 'holding' } | { kind: 'queued'; entry: QueuedRun };

async function standingOf(store: EventStore, workflowId: string, runId: string): Promise<Standing> {
  const seq = await store.lastSeq(runId);
  if (seq === 0) return { kind: 'gone' };
  const [last] = await store.read(runId, { fromSeq: seq });
  if (!last || last.workflowId !== workflowId || SETTLED_STATUSES.includes(last.state.status)) return { kind: 'gone' };
  if (last.state.status !== 'QUEUED') return { kind: 'holding' };
  // run.queued follows run.started (and a fork's run.forked) in the start commit.
  const second = (await store.read(runId, { toSeq: 3 })).find((e) => e.type === 'run.queued');
  const entry =
    second?.type === 'run.queued'
      ? { runId, priority: second.data.priority, queuedAt: second.time }
      : { runId, priority: DEFAULT_PRIORITY, queuedAt: last.time };
  return { kind: 'queued', entry };
}

/**
 * Checks each holder the document named against its log (once per hold: the document said the slots are full while
 * someone waits); `fresh`: the runs this hold named, whose events are not written yet. True when a slot came free.
 */
export async function checkHolders(
  store: EventStore,
  workflowId: string,
  slots: Slots,
  fresh: ReadonlySet<string>,
): Promise<boolean> {
  const standings = await Promise.all(
    slots.holders.map((id) => (fresh.has(id) ? { kind: 'holding' as const } : standingOf(store, workflowId, id))),
  );
  const before = slots.holders.length;
  const holders: string[] = [];
  standings.forEach((s, i) => {
    const runId = slots.holders[i]!;
    if (s.kind === 'holding') holders.push(runId);
    else if (s.kind === 'queued' && !slots.queued.some((q) => q.runId === runId)) slots.queued.push(s.entry);
  });
  slots.holders = holders;
  slots.queued.sort(byAdmissionOrder);
  return holders.length < before;
}
