/**
 * Admission decisions, batched: every decision a process has waiting for the same (workflow, key) — starts, and the
 * admissions a settle, a resume or a sweep asks for — is taken in one hold of the store's `exclusive` lock, on one
 * reading of the slots (admission.ts), and the starts' writes of that hold go to the store together (the file store's
 * group commit shares their fdatasync; JetStream pipelines them).
 *
 * Why: decided one at a time, a burst of 1,000 starts held the lock for 1,000 listings of the runs and 1,000 synced
 * writes in a row, and the settles of the runs already going waited behind them to admit: the limit was never reached
 * (at most 2 of 10 RUNNING in the admission bench). Now a burst is one or two holds, and a settle waits for at most
 * one.
 *
 * The decisions in a hold are taken in arrival order, as they were one at a time: each request first admits the queued
 * runs the free slots let in (priority, then arrival order), then a start takes a slot, queues or is refused. What a
 * hold decides it adds to its reading of the slots, so the next request in the hold sees it.
 */
import type { Definition } from '../definition/index.js';
import { ConcurrencyLimitError } from '../errors/index.js';
import { SETTLED_STATUSES, type EventEnvelope } from '../events/index.js';
import { sha256Hex } from '../digest/index.js';
import type { EventStore } from '../store/index.js';
import type { Clock } from '../executor/commit.js';
import { admitOne, byAdmissionOrder, concurrencyKey, type Admission, type Slots } from './admission.js';
import { checkHolders, keepsSlots, readSlots, writeSlots } from './admission-slots.js';

/** A start waiting for its decision: `write(queued)` records it (run.started, and run.queued when `queued`). */
interface StartRequest<T> {
  kind: 'start';
  def: Definition;
  runId: string;
  admission: Admission;
  write: (queued: boolean) => Promise<T>;
  done: (r: { value: T; admitted: string[] }) => void;
  fail: (err: unknown) => void;
}
/**
 * Admissions asked for after a settle (`settled`: the run whose slot came free; the slot document is read),
 * or by a sweep, resume or serve (no `settled`: the slots are read from the logs, which repairs the document).
 */
interface AdmitRequest {
  kind: 'admit';
  def: Definition;
  limit: number;
  by?: string;
  settled?: string;
  done: (ids: string[]) => void;
  fail: (err: unknown) => void;
}
type Request = StartRequest<unknown> | AdmitRequest;

interface Queue {
  store: EventStore;
  clock: Clock;
  name: string;
  key: string | null;
  waiting: Request[];
  running: boolean;
}

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

/** A queued run this hold admits, and the request whose turn admitted it. */
interface Admit {
  runId: string;
  by: AdmitRequest | StartRequest<unknown>;
}

/**
 * One hold: the batch's decisions in arrival order on one reading of the slots; then the slot document, naming every
 * run the hold starts or admits before any of their events is written (admission-slots.ts); then the starts' writes
 * together; then the admissions.
 */
async function decide(q: Queue, batch: Request[]): Promise<void> {
  // The slots as the newest definition in the batch reads them (a run's key from its input: the same template across versions, as a rule).
  const def = batch.at(-1)!.def;
  const doc = slotsDoc(q);
  const fromLogs = !keepsSlots(q.store) || batch.some((r) => r.kind === 'admit' && r.settled === undefined);
  const slots = await readSlots(q.store, doc, def, q.key, fromLogs);
  let changed = fromLogs;
  // Holders are checked against their logs at most once a hold, and not when just read from them.
  let checked = fromLogs;
  for (const r of batch) {
    // A settled run holds no slot, and waits for none (a queued run cancelled).
    if (
      r.kind === 'admit' &&
      r.settled !== undefined &&
      (drop(slots.holders, r.settled) || dropQueued(slots, r.settled))
    )
      changed = true;
  }
  const admits: Admit[] = [];
  const starts: { r: StartRequest<unknown>; queued: boolean }[] = [];
  // The runs this hold names as holders: their events are written after the document, so their logs are not checked.
  const fresh = new Set<string>();
  for (const r of batch) {
    try {
      const limit = r.kind === 'start' ? r.admission.limit : r.limit;
      if (!checked && slots.holders.length >= limit && (slots.queued.length > 0 || r.kind === 'start')) {
        checked = true;
        if (await checkHolders(q.store, def.id, slots, fresh)) changed = true;
      }
      for (const runId of planAdmissions(slots, limit)) {
        admits.push({ runId, by: r });
        fresh.add(runId);
      }
      if (r.kind === 'admit') continue;
      const holding = slots.holders.length;
      const full = holding >= r.admission.limit;
      if (full && r.admission.onLimit === 'refuse')
        throw new ConcurrencyLimitError(r.def.id, r.admission.limit, r.admission.key, holding);
      if (full)
        slots.queued.push({
          runId: r.runId,
          priority: r.admission.priority,
          queuedAt: new Date(q.clock.now()).toISOString(),
        });
      else {
        slots.holders.push(r.runId);
        fresh.add(r.runId);
      }
      starts.push({ r, queued: full });
    } catch (err) {
      r.fail(err);
    }
  }
  if (admits.length > 0 || starts.length > 0) changed = true;
  if (changed) await writeSlots(q.store, doc, slots);
  changed = false;
  // Starts first, so the queued ones exist when an admission reaches them.
  const begun = await Promise.all(
    starts.map(({ r, queued }) =>
      r.write(queued).then(
        (value) => ({ ok: true as const, value }),
        (err: unknown) => ({ ok: false as const, err }),
      ),
    ),
  );
  begun.forEach((b, i) => {
    if (b.ok) return;
    const { r } = starts[i]!;
    changed = drop(slots.holders, r.runId) || dropQueued(slots, r.runId) || changed;
    r.fail(b.err);
  });
  const admitted = await admitAll(q, slots, admits, limitOf(batch.at(-1)!), () => {
    changed = true;
  });
  if (changed) await writeSlots(q.store, doc, slots);
  for (const r of batch) {
    const mine = admitted.filter((a) => a.by === r).map((a) => a.runId);
    if (r.kind === 'admit') r.done(mine);
  }
  begun.forEach((b, i) => {
    if (b.ok)
      starts[i]!.r.done({
        value: b.value,
        admitted: admitted.filter((a) => a.by === starts[i]!.r).map((a) => a.runId),
      });
  });
}

/** The slot document's name: the lock's, under a prefix of its own (the file store's shared documents take a lock of their name). */
const slotsDoc = (q: Queue): string => `admission-slots-${q.name.slice('admission-'.length)}`;

const limitOf = (r: Request): number => (r.kind === 'start' ? r.admission.limit : r.limit);

function drop(list: string[], runId: string): boolean {
  const i = list.indexOf(runId);
  if (i < 0) return false;
  list.splice(i, 1);
  return true;
}

function dropQueued(slots: Slots, runId: string): boolean {
  const i = slots.queued.findIndex((x) => x.runId === runId);
  if (i < 0) return false;
  slots.queued.splice(i, 1);
  return true;
}

/** Moves the first queued runs (admission order) into the slots free under `limit`; returns their ids. */
function planAdmissions(slots: Slots, limit: number): string[] {
  if (slots.holders.length >= limit || slots.queued.length === 0) return [];
  slots.queued.sort(byAdmissionOrder);
  const take = slots.queued.splice(0, limit - slots.holders.length).map((r) => r.runId);
  slots.holders.push(...take);
  return take;
}

/**
 * Writes the planned admissions. One found gone (cancelled meanwhile, or its start never written) gives its slot to the
 * next queued run, named in the document before it is admitted (`changed` marks the document to rewrite).
 */
async function admitAll(
  q: Queue,
  slots: Slots,
  planned: Admit[],
  limit: number,
  changed: () => void,
): Promise<Admit[]> {
  const admitted: Admit[] = [];
  let round = planned;
  while (round.length > 0) {
    const outcomes = await Promise.all(
      round.map((a) => admitOne(q.store, q.clock, a.runId, a.by.kind === 'admit' ? a.by.by : undefined)),
    );
    const next: Admit[] = [];
    round.forEach((a, i) => {
      if (outcomes[i] === 'admitted') admitted.push(a);
      if (outcomes[i] !== 'gone') return;
      drop(slots.holders, a.runId);
      changed();
      for (const runId of planAdmissions(slots, limit)) next.push({ runId, by: a.by });
    });
    if (next.length > 0) await writeSlots(q.store, slotsDoc(q), slots);
    round = next;
  }
  return admitted;
}

/**
 * A start of a workflow with `concurrency:`, decided with the others waiting: the queued runs the free slots let in are
 * admitted first, then the start takes a slot (`write(false)`), queues (`write(true)`) or is refused
 * (ConcurrencyLimitError under `on_limit: refuse`, nothing written).
 */
export function decideLimitedStart<T>(
  store: EventStore,
  clock: Clock,
  def: Definition,
  runId: string,
  admission: Admission,
  write: (queued: boolean) => Promise<T>,
): Promise<{ value: T; admitted: string[] }> {
  return new Promise((done, fail) => {
    enqueue(store, clock, admission.key, {
      kind: 'start',
      def,
      runId,
      admission,
      write,
      done: done as StartRequest<unknown>['done'],
      fail,
    });
  });
}

/**
 * Admits the queued runs of (workflow, key) the free slots let in. `settled`: the run whose settle frees a slot (the
 * slot document is read and that run leaves it); without it (resume, serve, a sweep) the slots are read from the logs,
 * which repairs the document. `by`: who admits, as run.admitted says.
 */
export function admitWaiting(
  store: EventStore,
  clock: Clock,
  def: Definition,
  key: string | null,
  opts: { by?: string; settled?: string } = {},
): Promise<string[]> {
  if (!def.concurrency) return Promise.resolve([]);
  const { limit } = def.concurrency;
  return new Promise((done, fail) => {
    enqueue(store, clock, key, {
      kind: 'admit',
      def,
      limit,
      ...(opts.by ? { by: opts.by } : {}),
      ...(opts.settled !== undefined ? { settled: opts.settled } : {}),
      done,
      fail,
    });
  });
}

/**
 * After a commit: when it settled a run of a workflow with `concurrency:`, admits what the slot it held lets in.
 * Returns the runs admitted (their executor drives them: the in-process Engine here, the NATS engines when kicked); []
 * for every other commit, at no cost.
 */
export async function admitAfterCommit(
  store: EventStore,
  clock: Clock,
  def: Definition,
  input: Record<string, unknown>,
  events: readonly EventEnvelope[],
  by?: string,
): Promise<string[]> {
  const last = events.at(-1);
  if (!def.concurrency || !last || !SETTLED_STATUSES.includes(last.state.status)) return [];
  return admitWaiting(store, clock, def, concurrencyKey(def, input), { ...(by ? { by } : {}), settled: last.runId });
}
