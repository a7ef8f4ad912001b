/**
 * A run's log as an executor holds it, and the commit every executor makes of it: an input arrives → the core's
 * `prepareCommit` folds it (with the starts of the tasks it schedules) into the open group → the group is appended as
 * one commit at the sequence it was folded on (`appendCommit`), and a lost race catches up with the other writer's
 * events (`catchUp`), folds the group again onto them and appends again (`commitWithRetry`). What is durable (the state
 * the log holds) and what is folded but not yet appended (the open group) are kept apart.
 *
 * Both executors commit through `RunLog`: the in-process driver keeps one per run it drives (local/driver.ts decides
 * when to fold and when to append, and performs the effects of what this holds), the NATS engine one per input it
 * processes, on the state it keeps loaded (cluster/engine/run-host.ts). One dedup id shape for every commit,
 * `<runId>/<first seq>/<key>`: a retry of the same commit (same key) writes nothing twice, and two writers' commits at
 * one sequence never merge.
 *
 * Other writers (an approval, a cancellation, another process's restart of an attempt) are followed: their events are
 * folded in on a catch-up, and an open group, folded onto an older log, is folded again onto the new one.
 */
import type { CompiledWorkflow } from '../compiler/index.js';
import { AppendConflictError } from '../errors/index.js';
import type { EventEnvelope, PendingEvent } from '../events/index.js';
import type { AppendResult, EventStore, Subscription } from '../store/index.js';
import { foldOntoRun, prepareCommit, pushFolded, type RunSnapshot } from '../runtime/index.js';
import { randomHex } from './ids.js';
import { commitWithRetry } from './commit-with-retry.js';

/**
 * Appends `events` as the commit that follows sequence `seq` (the store refuses it with AppendConflictError when
 * another writer got there first: run it inside commitWithRetry). `key` tells this writer's commits apart (a nonce, an
 * input's message sequence, `start`).
 */
export function appendCommit(
  store: EventStore,
  runId: string,
  seq: number,
  key: string,
  events: EventEnvelope[],
  definitionJson?: string,
): Promise<AppendResult> {
  return store.append({
    runId,
    expectedSeq: seq,
    dedupId: `${runId}/${seq + 1}/${key}`,
    events,
    ...(definitionJson !== undefined ? { definitionJson } : {}),
  });
}

/** A run moved on by other writers' events: the events read and the state and sequence they lead to. */
interface CaughtUp {
  events: EventEnvelope[];
  snapshot: RunSnapshot;
  seq: number;
  compiled: CompiledWorkflow;
}

/**
 * Reads what was appended to run `runId` after `seq` and folds it onto
 * `snapshot` (the log, not memory, is the truth); null when nothing was.
 */
export async function catchUp(
  store: EventStore,
  compiled: CompiledWorkflow,
  runId: string,
  snapshot: RunSnapshot,
  seq: number,
): Promise<CaughtUp | null> {
  const events = await store.read(runId, { fromSeq: seq + 1 });
  if (events.length === 0) return null;
  return { events, ...foldOntoRun(compiled, snapshot, events), seq: events.at(-1)!.seq };
}

/** An input of the open group; `derived`: a task.started the fold added itself (see OpenGroup). */
interface GroupInput {
  event: PendingEvent;
  derived: boolean;
}

/**
 * Steps folded but not yet appended: all their events (as inputs, to fold again onto a newer log after a conflict) and
 * where they lead. `derived` marks the task.started events the driver added itself: when another writer got there first
 * they are dropped quietly, not reported as stale.
 */
interface OpenGroup {
  inputs: GroupInput[];
  events: EventEnvelope[];
  snapshot: RunSnapshot;
  seq: number;
  openedAt: number;
}

interface RunLogOptions {
  store: EventStore;
  compiled: CompiledWorkflow;
  snapshot: RunSnapshot;
  seq: number;
  /** The executor's clock: the time a fold stamps and a group is opened at. */
  now(): number;
  /** Whether a fold starts the tasks it schedules (default: it does; false while the driver drains: they stay SCHEDULED for the next one). */
  startScheduled?(): boolean;
  /** An input that no longer applies (a late result after a timeout, a raced approval); not told of derived ones. */
  onStale?(event: PendingEvent, reason: string): void;
  /**
   * After each durable commit, and each catch-up with other writers' events (`written` null), with the state
   * before and after it. `written`: what the store said of this log's own append (a duplicate of an earlier
   * write of the same commit is one too).
   */
  onCommit?(events: EventEnvelope[], before: RunSnapshot, after: RunSnapshot, written: AppendResult | null): void;
  /** Another writer's events, folded in, before onCommit is told of them (the driver stops attempts another process restarted). */
  theirs?(events: EventEnvelope[]): void;
  /** An append lost to another writer (it is caught up and tried again). */
  onConflict?(): void;
}

/** An envelope as an input again (to fold it onto a newer log). */
function pendingOf(ev: EventEnvelope): PendingEvent {
  return { type: ev.type, time: ev.time, data: ev.data } as PendingEvent;
}

export class RunLog {
  /** The state the log holds (durable). */
  snapshot: RunSnapshot;
  seq: number;
  /** The run's workflow: the one it was given, or the one a run.migrated another writer appended hands it to. */
  compiled: CompiledWorkflow;
  /** Folded but not yet appended; effects act on its state. Only ever open across awaits with a commit window. */
  group: OpenGroup | null = null;
  /** Another writer appended: catch up before the next fold. */
  needsCatchUp = false;
  private follow: Subscription | null = null;
  /**
   * Makes this driver's dedup ids its own: `<runId>/<seq>/<nonce>`. One per driver suffices (the seq tells its commits
   * apart; a retry of the same commit keeps its id), and spares random bytes per step.
   */
  private nonceText: string | undefined;
  /** Last seq of the commit being appended, 0 when none: follow() may echo it back before append() returns. */
  private appendingTo = 0;

  constructor(private readonly o: RunLogOptions) {
    this.snapshot = o.snapshot;
    this.seq = o.seq;
    this.compiled = o.compiled;
  }

  get runId(): string {
    return this.snapshot.context.runId;
  }
  /** Made on first use: a log that is always given a key (the NATS engine's) spares the random bytes. */
  private get nonce(): string {
    return (this.nonceText ??= randomHex(6));
  }
  /** The state effects act on: the open group's, else the durable one. */
  get current(): RunSnapshot {
    return this.group?.snapshot ?? this.snapshot;
  }

  /** Listens for events other processes append; `news` is called when one needs a catch-up. */
  startFollowing(news: () => void): void {
    this.follow = this.o.store.follow(
      this.runId,
      this.seq,
      (events) => {
        // Our own commits come back here too, often before their append returns; only another
        // writer's events need a catch-up. Seqs of the commit in flight are ours if that append
        // succeeds, and if another writer took them the append fails with a conflict and catches up.
        if ((events.at(-1)?.seq ?? 0) <= this.ownUpTo()) return;
        this.needsCatchUp = true;
        news();
      },
      { skipUpTo: () => this.ownUpTo() },
    );
  }

  /** Where this driver's own commits end: the log's, or the one being appended. */
  private ownUpTo(): number {
    return Math.max(this.seq, this.appendingTo);
  }

  stopFollowing(): void {
    this.follow?.close();
  }

  /** Reads what other writers appended and folds it in: the log, not our memory, is the truth. */
  async catchUp(): Promise<void> {
    this.needsCatchUp = false;
    const theirs = await catchUp(this.o.store, this.compiled, this.runId, this.snapshot, this.seq);
    if (!theirs) return;
    const before = this.snapshot;
    this.compiled = theirs.compiled;
    this.snapshot = theirs.snapshot;
    this.seq = theirs.seq;
    this.o.theirs?.(theirs.events);
    this.o.onCommit?.(theirs.events, before, this.snapshot, null);
    // The open group was folded onto an older log: fold its events again onto the new one (those that no longer apply become stale).
    if (this.group) {
      const inputs = this.group.inputs;
      this.group = null;
      this.fold(inputs);
    }
  }

  /**
   * Folds inputs plus the starts of newly scheduled tasks into the open group (opening one if needed).
   * Returns how many inputs no longer apply (each told to onStale unless derived).
   */
  fold(inputs: GroupInput[]): number {
    const open = this.group;
    const from = open ?? this;
    const { events, snapshot, seq, stale } = prepareCommit(
      this.compiled,
      from.snapshot,
      from.seq,
      inputs.map((i) => i.event),
      this.o.now(),
      { startScheduled: this.o.startScheduled?.() ?? true },
    );
    // Stale inputs are rare: no set of them is built when there are none (this runs for every step).
    const staleEvents = stale.length > 0 ? new Set(stale.map((s) => s.event)) : null;
    for (const s of stale) if (!inputs.find((i) => i.event === s.event)?.derived) this.o.onStale?.(s.event, s.reason);
    if (events.length === 0) return stale.length;
    // A new group takes prepareCommit's list as its own: a fresh list, already marked as built by the
    // fold (see isBuiltByFold), so no second list is made and marked per step. An open group is the
    // driver's own (never shared) and grows in place.
    const base: OpenGroup = open ?? { inputs: [], events, snapshot, seq, openedAt: this.o.now() };
    // prepareCommit's events are the accepted inputs in order, then the starts it derived.
    let accepted = 0;
    for (const i of inputs)
      if (!staleEvents?.has(i.event)) {
        base.inputs.push(i);
        accepted++;
      }
    for (let k = accepted; k < events.length; k++) base.inputs.push({ event: pendingOf(events[k]!), derived: true });
    if (open) pushFolded(base.events, events);
    base.snapshot = snapshot;
    base.seq = seq;
    this.group = base;
    return stale.length;
  }

  /** Drops the open group, unappended (the engine folds its inputs again onto a fresher log). */
  discard(): void {
    this.group = null;
  }

  /**
   * Appends the open group as one commit; on a conflict, catches up (which refolds the group) and tries
   * again. `key` tells this writer's commits apart (default: this log's own nonce; the NATS engine gives
   * the input's message, so a redelivered input's commit is the same commit).
   */
  flush(key: string = this.nonce): Promise<void> {
    // A lost round: another writer appended first; take its events in (the group is refolded onto them).
    return commitWithRetry(this.runId, (round) =>
      round > 0 ? this.catchUp().then(() => this.appendGroup(key)) : this.appendGroup(key),
    );
  }

  /**
   * Appends the open group (if any) after the log's last seq; once durable it is the log. A promise
   * chain, not an async function: this runs for every step of every run, and an async frame around the
   * append was one promise and one turn of the microtask queue more each time.
   */
  private appendGroup(key: string): Promise<void> {
    const g = this.group;
    if (!g) return Promise.resolve();
    this.appendingTo = g.seq;
    let appended: Promise<AppendResult>;
    try {
      appended = appendCommit(this.o.store, this.runId, this.seq, key, g.events);
    } catch (err) {
      this.appendingTo = 0;
      return Promise.reject(err);
    }
    return appended.then(
      (written) => {
        this.appendingTo = 0;
        const before = this.snapshot;
        this.snapshot = g.snapshot;
        this.seq = g.seq;
        this.group = null;
        this.o.onCommit?.(g.events, before, g.snapshot, written);
      },
      (err: unknown) => {
        this.appendingTo = 0;
        if (err instanceof AppendConflictError) this.o.onConflict?.();
        throw err;
      },
    );
  }
}
