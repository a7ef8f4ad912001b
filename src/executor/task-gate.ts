/**
 * "May this attempt start now?": the port both executors ask for an
 * `attempt.wait` (runtime/task-gates.ts), over the store's shared documents
 * (EventStore.updateShared: a locked file on the embedded store, a KV entry
 * changed by compare-and-set on NATS). The decision is gate-state.ts's; here
 * are the round trips: one atomic change per ask, and when the gate is full
 * a check of long-standing holders against their runs' logs (the truth), so
 * a slot whose attempt ended without its release (a process killed between
 * the commit and the release, a run cancelled elsewhere) frees all the same.
 */
import { sha256Hex } from '../digest/index.js';
import { foldEvents, holderKey, holdsSlot, type SlotRef, type WaitAttempt } from '../runtime/index.js';
import type { EventStore } from '../store/index.js';
import { decide, drop, emptyGateState, GateStateSchema, markChecked, type GateAsk, type GateHolder, type GateState } from './gate-state.js';

/** The document a gate's state is kept under: a token every store accepts as a name. */
export const gateDocName = (gate: string): string => `gate-${sha256Hex(gate).slice(0, 40)}`;

/** A gate document as read: anything not shaped as one (hand-edited, another version's) starts afresh. */
function stateOf(doc: unknown): GateState {
  const parsed = GateStateSchema.safeParse(doc);
  return parsed.success ? parsed.data as GateState : emptyGateState();
}

/** `at`: the time the grant was decided at (what the attempt's task.started records, so the histories show the window the gate kept). */
export type GateAnswer = { granted: true; at: number } | { granted: false; retryInMs: number };

/** Whether a holder's run still runs the attempt it was granted a slot for, read from its log. */
async function stillHolds(store: EventStore, h: GateHolder): Promise<boolean> {
  const events = await store.read(h.runId);
  if (events.length === 0) return false;
  const { snapshot } = foldEvents(events);
  return holdsSlot(snapshot, { task: h.task, ...(h.iteration !== undefined ? { iteration: h.iteration } : {}), ...(h.item !== undefined ? { item: h.item } : {}) }, h.attempt);
}

/** Asks the gate of a waiting attempt once, at `now`. A store without shared documents has no other process to share with: granted. */
export async function askGate(store: EventStore, w: WaitAttempt, now: () => number): Promise<GateAnswer> {
  if (!store.updateShared) return { granted: true, at: now() };
  const name = gateDocName(w.gate.name);
  const ask = (): GateAsk => ({
    key: holderKey(w.runId, w.instance, w.attempt), priority: w.priority, gate: w.gate, now: now(),
    holder: { runId: w.runId, task: w.taskId, ...(w.iteration !== undefined ? { iteration: w.iteration } : {}), ...(w.item !== undefined ? { item: w.item } : {}), attempt: w.attempt },
  });
  let suspects: GateHolder[] = [];
  const first = await store.updateShared(name, (doc) => {
    const state = stateOf(doc);
    const a = ask();
    const d = decide(state, a);
    suspects = d.suspects.map((k) => state.holders[k]!).filter(Boolean);
    return { doc: state, result: { ...d, at: a.now } };
  });
  if (first.granted || first.suspects.length === 0) return first.granted ? { granted: true, at: first.at } : { granted: false, retryInMs: first.retryInMs };
  // Full, with holders that have held long: read their runs' logs; the ones whose attempt ended give their slot up.
  const dead = new Set<string>();
  const alive: string[] = [];
  for (const [i, h] of suspects.entries()) {
    const key = first.suspects[i]!;
    if (await stillHolds(store, h).catch(() => true)) alive.push(key);
    else dead.add(key);
  }
  const second = await store.updateShared(name, (doc) => {
    const state = stateOf(doc);
    const at = now();
    markChecked(state, alive, at);
    return { doc: state, result: { ...decide(state, { ...ask(), now: at }, dead), at } };
  });
  return second.granted ? { granted: true, at: second.at } : { granted: false, retryInMs: second.retryInMs };
}

/** Gives up a waiter's place (its attempt no longer waits: the run was cancelled, paused, moved on). */
export async function withdrawWait(store: EventStore, w: WaitAttempt): Promise<void> {
  if (!store.updateShared) return;
  const key = holderKey(w.runId, w.instance, w.attempt);
  await store.updateShared(gateDocName(w.gate.name), (doc) => {
    const state = stateOf(doc);
    return { doc: state, result: drop(state, key) };
  });
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
