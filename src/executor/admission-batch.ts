/**
 * Admission decisions, batched: every decision a process has waiting for the
 * same (workflow, key) — starts, and the admissions a settle, a resume or a
 * sweep asks for — is taken in one hold of the store's `exclusive` lock, on
 * one reading of the slots (admission.ts), and the starts' writes of that
 * hold go to the store together (the file store's group commit shares their
 * fdatasync; JetStream pipelines them).
 *
 * Why: decided one at a time, a burst of 1,000 starts held the lock for
 * 1,000 listings of the runs and 1,000 synced writes in a row, and the
 * settles of the runs already going waited behind them to admit: the limit
 * was never reached (at most 2 of 10 RUNNING in the admission bench). Now a
 * burst is one or two holds, and a settle waits for at most one.
 *
 * The decisions in a hold are taken in arrival order, as they were one at a
 * time: each request first admits the queued runs the free slots let in
 * (priority, then arrival order), then a start takes a slot, queues or is
 * refused. What a hold decides it adds to its reading of the slots, so the
 * next request in the hold sees it.
 */
import type { Definition } from '../definition/index.js';
import { ConcurrencyLimitError } from '../errors/index.js';
import { SETTLED_STATUSES, type EventEnvelope } from '../events/index.js';
import { sha256Hex } from '../digest/index.js';
import type { EventStore } from '../store/index.js';
import type { Clock } from './clock.js';
import { admitOne, byAdmissionOrder, concurrencyKey, slotsOf, type Admission, type Slots } from './admission.js';

/** A start waiting for its decision: `write(queued)` records it (run.started, and run.queued when `queued`). */
interface StartRequest<T> { kind: 'start'; def: Definition; runId: string; admission: Admission; write: (queued: boolean) => Promise<T>; done: (r: { value: T; admitted: string[] }) => void; fail: (err: unknown) => void }
/** Admissions asked for after a settle, a resume or a sweep. */
interface AdmitRequest { kind: 'admit'; def: Definition; limit: number; by?: string; done: (ids: string[]) => void; fail: (err: unknown) => void }
type Request = StartRequest<unknown> | AdmitRequest;

interface Queue { store: EventStore; clock: Clock; name: string; key: string | null; waiting: Request[]; running: boolean }

/** Requests per hold at most: a hold must stay far shorter than the time after which a lock's holder is taken for dead. */
const MAX_PER_HOLD = 256;

/** Per store and lock name, this process's requests waiting for the next hold: a lock's queue, not a cache of any result. */
const queues = new WeakMap<EventStore, Map<string, Queue>>();

function enqueue(store: EventStore, clock: Clock, key: string | null, req: Request): void {
  const name = `admission-${sha256Hex(`${req.def.id}\u0000${key ?? ''}`).slice(0, 32)}`;
  let named = queues.get(store);
  if (!named) queues.set(store, (named = new Map()));
  let q = named.get(name);
  if (!q) named.set(name, (q = { store, clock, name, key, waiting: [], running: false }));
  q.waiting.push(req);
  if (!q.running) void drain(named, q);
}

/** Holds the lock for the waiting requests, batch after batch, until none waits. */
async function drain(named: Map<string, Queue>, q: Queue): Promise<void> {
  q.running = true;
  try {
    while (q.waiting.length > 0) {
      const batch = q.waiting.splice(0, MAX_PER_HOLD);
      try {
        await (q.store.exclusive ? q.store.exclusive(q.name, () => decide(q, batch)) : decide(q, batch));
      } catch (err) {
        // The lock or the slots could not be had: every request of the batch hears why (one already answered ignores it).
        for (const r of batch) r.fail(err);
      }
    }
  } finally {
    q.running = false;
    if (named.get(q.name) === q) named.delete(q.name);
  }
}

/** One hold: the batch's decisions in arrival order on one reading of the slots, the starts' writes together. */
async function decide(q: Queue, batch: Request[]): Promise<void> {
  // The slots as the newest definition in the batch reads them (a run's key from its input: the same template across versions, as a rule).
  const slots = await slotsOf(q.store, batch.at(-1)!.def, q.key);
  const writes: Promise<unknown>[] = [];
  for (const r of batch) {
    try {
      const admitted = await admitUpTo(q, slots, r.kind === 'start' ? r.admission.limit : r.limit, r.kind === 'admit' ? r.by : undefined, writes);
      if (r.kind === 'admit') { r.done(admitted); continue; }
      const holding = slots.holders.length;
      const full = holding >= r.admission.limit;
      if (full && r.admission.onLimit === 'refuse') throw new ConcurrencyLimitError(r.def.id, r.admission.limit, r.admission.key, holding);
      if (full) slots.queued.push({ runId: r.runId, priority: r.admission.priority, queuedAt: new Date(q.clock.now()).toISOString() });
      else slots.holders.push(r.runId);
      writes.push(r.write(full).then((value) => r.done({ value, admitted }), r.fail));
    } catch (err) {
      r.fail(err);
    }
  }
  await Promise.all(writes);
}

/**
 * Admits queued runs while fewer than `limit` hold a slot: the first ones in
 * admission order, together; one no longer QUEUED (cancelled, or admitted by
 * another) frees its place for the next. Starts queued earlier in this hold
 * are written first, so their logs exist when admitted.
 */
async function admitUpTo(q: Queue, slots: Slots, limit: number, by: string | undefined, writes: Promise<unknown>[]): Promise<string[]> {
  const admitted: string[] = [];
  while (slots.holders.length < limit && slots.queued.length > 0) {
    if (writes.length > 0) await Promise.all(writes.splice(0));
    slots.queued.sort(byAdmissionOrder);
    const take = slots.queued.splice(0, limit - slots.holders.length);
    const ok = await Promise.all(take.map((r) => admitOne(q.store, q.clock, r.runId, by)));
    take.forEach((r, i) => {
      if (!ok[i]) return;
      slots.holders.push(r.runId);
      admitted.push(r.runId);
    });
  }
  return admitted;
}

/**
 * A start of a workflow with `concurrency:`, decided with the others waiting:
 * the queued runs the free slots let in are admitted first, then the start
 * takes a slot (`write(false)`), queues (`write(true)`) or is refused
 * (ConcurrencyLimitError under `on_limit: refuse`, nothing written).
 */
export function decideLimitedStart<T>(store: EventStore, clock: Clock, def: Definition, runId: string, admission: Admission, write: (queued: boolean) => Promise<T>): Promise<{ value: T; admitted: string[] }> {
  return new Promise((done, fail) => {
    enqueue(store, clock, admission.key, { kind: 'start', def, runId, admission, write, done: done as StartRequest<unknown>['done'], fail });
  });
}

/** Admits the queued runs of (workflow, key) the free slots let in (resume, serve, a settle, a sweep). */
export function admitWaiting(store: EventStore, clock: Clock, def: Definition, key: string | null, by?: string): Promise<string[]> {
  if (!def.concurrency) return Promise.resolve([]);
  const { limit } = def.concurrency;
  return new Promise((done, fail) => {
    enqueue(store, clock, key, { kind: 'admit', def, limit, ...(by ? { by } : {}), done, fail });
  });
}

/**
 * After a commit: when it settled a run of a workflow with `concurrency:`,
 * admits what the slot it held lets in. Returns the runs admitted (their
 * executor drives them: the in-process Engine here, the NATS engines when
 * kicked); [] for every other commit, at no cost.
 */
export async function admitAfterCommit(store: EventStore, clock: Clock, def: Definition, input: Record<string, unknown>, events: readonly EventEnvelope[], by?: string): Promise<string[]> {
  const last = events.at(-1);
  if (!def.concurrency || !last || !SETTLED_STATUSES.includes(last.state.status)) return [];
  return admitWaiting(store, clock, def, concurrencyKey(def, input), by);
}
