/**
 * "May this attempt start now?": the port both executors ask for an `attempt.wait` (runtime/task-gates.ts), over the
 * store's shared documents (EventStore.updateShared: a locked file on the embedded store, a KV entry changed by
 * compare-and-set on NATS). The decision is gate-state.ts's; here are the round trips: one atomic change per ask, and
 * when the gate is full a check of long-standing holders against their runs' logs (the truth), so a slot whose attempt
 * ended without its release (a process killed between the commit and the release, a run cancelled elsewhere) frees all
 * the same.
 */
import { sha256Hex } from '../digest/index.js';
import { instanceFields, instanceState } from '../compiler/index.js';
import { foldEvents, holderKey, holdsSlot, type SlotRef, type TaskGate, type WaitAttempt } from '../runtime/index.js';
import type { EventStore } from '../store/index.js';
import { foldLoaded } from '../executor/payloads.js';
import {
  decide,
  drop,
  emptyGateState,
  GateStateSchema,
  giveBack,
  markChecked,
  WAITER_TTL_MS,
  type GateAsk,
  type GateHolder,
  type GateLimits,
  type GateState,
  type GateWaiter,
} from './gate-state.js';

/** The document a gate's state is kept under: a token every store accepts as a name. */
export const gateDocName = (gate: string): string => `gate-${sha256Hex(gate).slice(0, 40)}`;

/** Marks a state this process parsed or made (not written: a symbol is no JSON): the next change of a batch takes it as it is. */
const CHECKED = Symbol('checked');

/**
 * A gate document as read: anything not shaped as one (hand-edited, another version's) starts afresh. The
 * store hands the changes of one batch (KvSharedDocs) the document the change before returned: already checked.
 */
function stateOf(doc: unknown): GateState {
  if (doc !== null && typeof doc === 'object' && (doc as { [CHECKED]?: true })[CHECKED]) return doc as GateState;
  const parsed = GateStateSchema.safeParse(doc);
  const state = parsed.success ? (parsed.data as GateState) : emptyGateState();
  Object.defineProperty(state, CHECKED, { value: true });
  return state;
}

/** `at`: the time the grant was decided at (what the attempt's task.started records, so the histories show the window the gate kept). */
export type GateAnswer = { granted: true; at: number } | { granted: false; retryInMs: number };

/**
 * Whether a holder's run still needs the slot it was granted, read from its log: the attempt runs, or it still
 * waits for another of its limits (the slot taken first, the rest not yet) and has asked within WAITER_TTL_MS.
 */
export async function stillHolds(store: EventStore, h: GateHolder, now: number): Promise<boolean> {
  const events = await store.read(h.runId);
  if (events.length === 0) return false;
  const { snapshot } = await foldLoaded(store.blobs?.(), () => foldEvents(events));
  const ref = {
    task: h.task,
    ...instanceFields(h),
  };
  if (holdsSlot(snapshot, ref, h.attempt)) return true;
  const waiting = snapshot.status === 'active' ? instanceState(snapshot.context, ref) : undefined;
  return (
    waiting?.status === 'SCHEDULED' && waiting.attempts + 1 === h.attempt && now - (h.seen ?? h.at) <= WAITER_TTL_MS
  );
}

/** One gate document an attempt asks: its name, the part it belongs to (whose waiters a freed slot wakes), the limits it keeps. */
interface GateDoc {
  readonly doc: string;
  readonly part: string;
  readonly limits: GateLimits;
}

/**
 * The documents an attempt asks, in the one order every attempt asks them: first every slot (concurrency),
 * by name, each kept once taken; then every rate window, by name, all at one time, given back if one says
 * wait. Slots taken in one fixed order never wait in a circle (no deadlock), and a rate token is only ever
 * spent on a start: the attempt's task.started is the time its windows recorded.
 */
function gateDocs(gate: TaskGate): { slots: GateDoc[]; rates: GateDoc[] } {
  const byDoc = (a: GateDoc, b: GateDoc) => (a.doc < b.doc ? -1 : a.doc > b.doc ? 1 : 0);
  const slots: GateDoc[] = [];
  const rates: GateDoc[] = [];
  for (const p of gate.parts) {
    // A part with both keeps its window in a document of its own (`<name>#rate`); with one, under its name.
    if (p.concurrency !== undefined)
      slots.push({ doc: gateDocName(p.name), part: p.name, limits: { concurrency: p.concurrency } });
    if (p.rate)
      rates.push({
        doc: gateDocName(p.concurrency !== undefined ? `${p.name}#rate` : p.name),
        part: p.name,
        limits: { rate: p.rate },
      });
  }
  return { slots: slots.sort(byDoc), rates: rates.sort(byDoc) };
}

/** The parts' names of a gate: what a waiter listens on for a freed slot. */
export const gateParts = (gate: TaskGate): string[] => gate.parts.map((p) => p.name);

type OneAnswer = { granted: true; at: number } | { granted: false; retryInMs: number };

/** Asks one document once: joins its line or is granted; when its slots are full, checks long holders against their logs. */
async function askOne(
  store: EventStore,
  g: GateDoc,
  base: Omit<GateAsk, 'gate' | 'now'>,
  now: () => number,
): Promise<OneAnswer> {
  const update = store.updateShared!.bind(store);
  let suspects: GateHolder[] = [];
  const first = await update(g.doc, (doc) => {
    const state = stateOf(doc);
    const at = now();
    const d = decide(state, { ...base, gate: g.limits, now: at });
    suspects = d.suspects.map((k) => state.holders[k]!).filter(Boolean);
    return { doc: state, result: { ...d, at } };
  });
  if (first.granted || first.suspects.length === 0)
    return first.granted ? { granted: true, at: first.at } : { granted: false, retryInMs: first.retryInMs };
  // Full, with holders that have held long: read their runs' logs; the ones whose attempt ended give their slot up.
  const dead = new Set<string>();
  const alive: string[] = [];
  const checkedAt = now();
  for (const [i, h] of suspects.entries()) {
    const key = first.suspects[i]!;
    if (await stillHolds(store, h, checkedAt).catch(() => true)) alive.push(key);
    else dead.add(key);
  }
  const second = await update(g.doc, (doc) => {
    const state = stateOf(doc);
    const at = now();
    markChecked(state, alive, at);
    return { doc: state, result: { ...decide(state, { ...base, gate: g.limits, now: at }, dead), at } };
  });
  return second.granted ? { granted: true, at: second.at } : { granted: false, retryInMs: second.retryInMs };
}

/**
 * Asks the gate of a waiting attempt once, at `now`: every limit it is held to (gateDocs' order). `since`: when
 * it began to wait (its place in every line). A store without shared documents has no other process to share
 * with: granted.
 */
export async function askGate(
  store: EventStore,
  w: WaitAttempt,
  now: () => number,
  since?: number,
): Promise<GateAnswer> {
  if (!store.updateShared) return { granted: true, at: now() };
  const base: Omit<GateAsk, 'gate' | 'now'> = {
    key: holderKey(w.runId, w.instance, w.attempt),
    priority: w.priority,
    ...(since !== undefined ? { since } : {}),
    holder: {
      runId: w.runId,
      task: w.taskId,
      ...instanceFields(w),
      attempt: w.attempt,
    },
  };
  const { slots, rates } = gateDocs(w.gate);
  // Held only to breakers (breaker-gate.ts asked them): nothing here to take.
  if (slots.length === 0 && rates.length === 0) return { granted: true, at: now() };
  let at = 0;
  for (const g of slots) {
    const a = await askOne(store, g, base, now);
    if (!a.granted) return a;
    at = a.at;
  }
  if (rates.length === 0) return { granted: true, at };
  // Every window at one time, the first's (read under its change): the time the attempt's task.started records.
  let t: number | undefined;
  const taken: GateDoc[] = [];
  for (const g of rates) {
    let waiter: GateWaiter | undefined;
    const a = await store.updateShared(g.doc, (doc) => {
      const state = stateOf(doc);
      const at = taken.length === 0 ? now() : t!;
      const before = state.waiters[base.key];
      waiter = { priority: base.priority, since: before?.since ?? base.since ?? at, seen: at };
      // Alone, a window hands out start times (reserveRate); with others, only "now" (they are all taken at one time).
      const d = decide(state, { ...base, gate: g.limits, now: at, ...(rates.length === 1 ? { reserve: true } : {}) });
      return { doc: state, result: { ...d, at: d.at ?? at } };
    });
    t = a.at;
    if (!a.granted) {
      for (const back of taken) {
        await store.updateShared(back.doc, (doc) => {
          const state = stateOf(doc);
          giveBack(state, base.key, a.at, waiter!);
          return { doc: state, result: null };
        });
      }
      return { granted: false, retryInMs: a.retryInMs };
    }
    taken.push(g);
  }
  return { granted: true, at: t! };
}

/** Gives up a waiter's place (its attempt no longer waits: the run was cancelled, paused, moved on), and any slot it took while it waited. */
export async function withdrawWait(store: EventStore, w: WaitAttempt): Promise<void> {
  if (!store.updateShared) return;
  const key = holderKey(w.runId, w.instance, w.attempt);
  const { slots, rates } = gateDocs(w.gate);
  for (const g of [...slots, ...rates]) {
    const had = await store.updateShared(g.doc, (doc) => {
      const state = stateOf(doc);
      const holder = key in state.holders;
      drop(state, key);
      return { doc: state, result: holder };
    });
    if (had) kickGate(g.part);
  }
}

/** Frees the slots a commit's attempts held (runtime slotsFreed): the next waiters may start. */
export async function releaseSlots(store: EventStore, slots: readonly SlotRef[]): Promise<void> {
  if (!store.updateShared || slots.length === 0) return;
  for (const s of slots) {
    await store.updateShared(gateDocName(s.gate), (doc) => {
      const state = stateOf(doc);
      return { doc: state, result: drop(state, s.holder) };
    });
    kickGate(s.gate);
  }
}

/** In this process, who to wake when a gate's slot frees here (others poll: GATE_POLL_MS). */
const kicks = new Map<string, Set<() => void>>();

/** Listens for slots of `gate` freed in this process; returns the unsubscribe. */
export function onGateKick(gate: string, wake: () => void): () => void {
  let set = kicks.get(gate);
  if (!set) kicks.set(gate, (set = new Set()));
  set.add(wake);
  return () => {
    set.delete(wake);
    if (set.size === 0 && kicks.get(gate) === set) kicks.delete(gate);
  };
}

/** Wakes this process's waiters of `gate`: a slot was freed here. */
export function kickGate(gate: string): void {
  for (const wake of [...(kicks.get(gate) ?? [])]) wake();
}
