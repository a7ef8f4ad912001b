/**
 * The edge of debounce and throttle (the decisions are gate.ts's): reads the clock, keeps each gate's state in a
 * compare-and-set store (one entry per trigger and key value: `<store>/triggers/gates.json` on the embedded store, KV
 * `LF_TRIGGER_GATES` on NATS), starts the runs decided and writes the decision log.
 *
 * Exactly once: a decision is saved (CAS on the entry's revision) before it is acted on, as `pending` starts and
 * `outbox` records inside the entry. Whoever saved it then starts the runs (under a run id derived from the event id,
 * so a repeated start is a duplicate) and writes the records (ids unique per event and decision), and takes them off
 * the entry. A process that dies in between leaves them there: after `claimTimeoutMs` any ticker does them again, which
 * is safe for the same reasons.
 */
import { createHash } from 'node:crypto';
import type { Definition, EventTrigger } from '../definition/index.js';
import type { RunSource } from '../events/index.js';
import { resolveTemplate } from '../expressions/index.js';
import type { TriggerEvent } from './envelope.js';
import {
  arrive,
  gateKindOf,
  isIdle,
  nextDue,
  settle,
  tick,
  type Arrival,
  type GateRecord,
  type GateSpec,
  type GateState,
  type PendingStart,
} from './gate.js';
import { runIdForEvent, type TriggerMatch } from './match.js';

/** Compare-and-set storage of gate entries. `revision` changes with every write; put returns the new one, or null when another writer came first. */
export interface GateStore {
  keys(): Promise<string[]>;
  get(key: string): Promise<{ state: GateState; revision: number } | null>;
  /** revision null: create (refused if it exists). state null: delete. */
  put(key: string, state: GateState | null, revision: number | null): Promise<number | null>;
}

/** The trigger decision log: appended to, listed (`ledgerflow triggers`). A record written twice (same id) is listed once. */
export interface GateLog {
  write(records: readonly GateRecord[]): Promise<void>;
  list(filter?: { workflowId?: string; limit?: number }): Promise<GateRecord[]>;
}

/** One run to start for a gate's decision; `duplicate` when it had started already. */
export interface GatedStart {
  definition: Definition;
  trigger: EventTrigger;
  triggerIndex: number;
  runId: string;
  input: Record<string, unknown>;
  /** For run.started (`source.event`, `source.gate`). */
  source: Pick<RunSource, 'event' | 'gate'>;
}
type StartGated = (s: GatedStart) => Promise<{ duplicate: boolean }>;

interface TriggerGatesOptions {
  store: GateStore;
  log: GateLog;
  start: StartGated;
  now: () => number;
  /** The definitions now deployed (ticks look their triggers up here). */
  definitions: () => readonly Definition[] | Promise<readonly Definition[]>;
  /** A decision saved this long ago and not done is taken over by any ticker (default 10 s). */
  claimTimeoutMs?: number;
}

/** The entry of one gate: safe for a file name and a KV key whatever the key's text. */
function gateEntryKey(workflowId: string, trigger: number, key: string): string {
  return `${workflowId}.${trigger}.${createHash('sha256').update(key).digest('hex').slice(0, 24)}`;
}

/** The key value an event falls under (the trigger's `key` template over it; '' without one). */
function gateKeyOf(t: EventTrigger, def: Definition, event: TriggerEvent): string {
  const template = t.debounce?.key ?? t.throttle?.key;
  if (template === undefined) return '';
  const v = resolveTemplate(template, {
    event,
    input: {},
    workflow: { id: def.id, runId: '', version: def.version },
    tasks: {},
  });
  return v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v);
}

export function isGated(t: EventTrigger): boolean {
  return gateKindOf(t) !== null;
}

/** What a gate made of an arriving event: a row of `gated` in emit's result (GatedOutcome) and the NATS verdict. */
export function gatedOutcome(match: TriggerMatch, a: Arrival & { key: string; kind: 'debounce' | 'throttle' }) {
  return {
    workflowId: match.definition.id,
    version: match.definition.version,
    trigger: match.triggerIndex,
    kind: a.kind,
    key: a.key,
    decision: a.decision,
    ...(a.runId ? { runId: a.runId } : {}),
    ...(a.dueAt !== undefined ? { dueAt: new Date(a.dueAt).toISOString() } : {}),
    ...(a.reason ? { reason: a.reason } : {}),
  };
}

const CAS_TRIES = 50;
/** A gate whose trigger is no longer deployed is wound up after this long without activity. */
const ORPHAN_AFTER_MS = 60_000;

/** The starts a transition from `before` to `after` decided. */
function decidedNow(before: GateState | undefined, after: GateState): Set<string> {
  const had = new Set((before?.pending ?? []).map((p) => p.runId));
  return new Set(after.pending.filter((p) => !had.has(p.runId)).map((p) => p.runId));
}

function lastActivity(s: GateState): number {
  return Math.max(
    0,
    ...s.seen.map((x) => x.at),
    ...s.pending.map((p) => p.decidedAt),
    s.burst?.last.at ?? 0,
    ...(s.queue ?? []).map((e) => e.at),
  );
}

export class TriggerGates {
  constructor(private readonly o: TriggerGatesOptions) {}

  private claimMs(): number {
    return this.o.claimTimeoutMs ?? 10_000;
  }

  /** A matching event arrives at a gated trigger: decided, saved, and what it decided to start started (the returned arrival says what became of it). */
  async arrive(
    match: TriggerMatch,
    event: TriggerEvent,
  ): Promise<Arrival & { key: string; kind: 'debounce' | 'throttle' }> {
    const def = match.definition;
    const spec: GateSpec = { workflowId: def.id, trigger: match.triggerIndex, event: match.trigger };
    const key = gateKeyOf(match.trigger, def, event);
    const entry = gateEntryKey(def.id, match.triggerIndex, key);
    const runIdOf = (id: string) => runIdForEvent(id, def.id);
    for (let i = 0; i < CAS_TRIES; i++) {
      const now = this.o.now();
      const got = await this.o.store.get(entry);
      const r = arrive(got?.state ?? null, spec, key, { eventId: event.id, at: now, input: match.input }, runIdOf, now);
      if (r.arrival.decision === 'duplicate') return { ...r.arrival, key, kind: r.state.kind };
      const rev = await this.o.store.put(entry, r.state, got?.revision ?? null);
      if (rev === null) continue;
      await this.carryOut(
        entry,
        { state: r.state, revision: rev },
        def,
        match.trigger,
        now,
        decidedNow(got?.state, r.state),
      );
      return { ...r.arrival, key, kind: r.state.kind };
    }
    throw new Error(`trigger gate ${entry}: ${CAS_TRIES} writers in a row came first; try again`);
  }

  /** Every tick: bursts that went quiet, queued events the window lets through, and decisions left undone by a process that died. */
  async tick(): Promise<{ started: string[] }> {
    const defs = await this.o.definitions();
    const byId = new Map(defs.map((d) => [d.id, d]));
    const started: string[] = [];
    for (const entry of await this.o.store.keys()) {
      const got = await this.o.store.get(entry);
      if (!got) continue;
      const def = byId.get(got.state.workflowId);
      const trigger = def?.triggers[got.state.trigger];
      if (!def || trigger?.kind !== 'event' || gateKindOf(trigger) !== got.state.kind) {
        // The definition or its gate is gone: what was decided is still done; what waits is dropped (said in the log).
        // Only once nothing touched the gate for a minute: another process's list of definitions may be newer than ours.
        if (lastActivity(got.state) <= this.o.now() - ORPHAN_AFTER_MS) await this.orphan(entry, got, def);
        continue;
      }
      started.push(...(await this.tickOne(entry, got, def, trigger)));
    }
    return { started };
  }

  private async tickOne(
    entry: string,
    first: { state: GateState; revision: number },
    def: Definition,
    trigger: EventTrigger,
  ): Promise<string[]> {
    const spec: GateSpec = { workflowId: def.id, trigger: first.state.trigger, event: trigger };
    const runIdOf = (id: string) => runIdForEvent(id, def.id);
    let got: { state: GateState; revision: number } | null = first;
    for (let i = 0; i < CAS_TRIES && got; i++) {
      const now = this.o.now();
      const next = tick(got.state, spec, runIdOf, now);
      const stale =
        got.state.pending.some((p) => p.decidedAt <= now - this.claimMs()) ||
        (got.state.outbox.length > 0 && got.state.pending.length === 0);
      if (next === got.state) {
        if (stale) return this.carryOut(entry, got, def, trigger, now, new Set());
        if (isIdle(got.state, spec, now)) await this.o.store.put(entry, null, got.revision);
        return [];
      }
      const rev = await this.o.store.put(entry, next, got.revision);
      if (rev !== null)
        return this.carryOut(entry, { state: next, revision: rev }, def, trigger, now, decidedNow(got.state, next));
      got = await this.o.store.get(entry);
    }
    return [];
  }

  /**
   * Starts the pending runs this process just decided (`mine`) and those older than the claim timeout (left by a
   * process that died; another's fresh ones are its own to start), writes the outbox, then takes what was done off the
   * entry.
   */
  private async carryOut(
    entry: string,
    saved: { state: GateState; revision: number },
    def: Definition,
    trigger: EventTrigger,
    now: number,
    mine: ReadonlySet<string>,
  ): Promise<string[]> {
    const due = saved.state.pending.filter((p) => mine.has(p.runId) || p.decidedAt <= now - this.claimMs());
    const started = new Set<string>();
    for (const p of due) {
      await this.o.start(this.startOf(def, trigger, saved.state, p));
      started.add(p.runId);
    }
    const records = saved.state.outbox;
    if (records.length > 0) await this.o.log.write(records);
    const written = new Set(records.map((r) => r.id));
    let got: { state: GateState; revision: number } | null = saved;
    for (let i = 0; i < CAS_TRIES && got; i++) {
      const rev = await this.o.store.put(entry, settle(got.state, started, written), got.revision);
      if (rev !== null) break;
      got = await this.o.store.get(entry);
    }
    return [...started];
  }

  private startOf(def: Definition, trigger: EventTrigger, s: GateState, p: PendingStart): GatedStart {
    const gate = {
      kind: s.kind,
      trigger: s.trigger,
      key: s.key,
      count: p.count,
      ...(p.absorbed.length ? { absorbed: p.absorbed } : {}),
      firstAt: new Date(p.firstAt).toISOString(),
    };
    return {
      definition: def,
      trigger,
      triggerIndex: s.trigger,
      runId: p.runId,
      input: p.input,
      source: { event: p.eventId, gate },
    };
  }

  private async orphan(
    entry: string,
    got: { state: GateState; revision: number },
    def: Definition | undefined,
  ): Promise<void> {
    const s = got.state;
    const now = this.o.now();
    const reason = def
      ? `triggers[${s.trigger}] of ${s.workflowId} has no ${s.kind} any more`
      : `workflow ${s.workflowId} is no longer deployed`;
    const waiting = [
      ...(s.burst ? [...s.burst.absorbed, s.burst.last.eventId] : []),
      ...(s.queue ?? []).map((e) => e.eventId),
    ];
    const dropped: GateRecord[] = waiting.map((eventId) => ({
      id: `${s.workflowId}/${s.trigger}/${eventId}/dropped`,
      time: new Date(now).toISOString(),
      workflowId: s.workflowId,
      trigger: s.trigger,
      kind: s.kind,
      key: s.key,
      decision: 'dropped',
      eventId,
      reason,
    }));
    await this.o.log.write([...s.outbox, ...dropped]);
    // Runs already decided are started even so, when the definition is still there to start them with.
    if (def && s.pending.length > 0 && def.triggers[s.trigger]?.kind === 'event') {
      for (const p of s.pending) await this.o.start(this.startOf(def, def.triggers[s.trigger] as EventTrigger, s, p));
    }
    await this.o.store.put(entry, null, got.revision);
  }

  /** What waits in every gate now (`ledgerflow triggers`): open bursts and queues. */
  async waiting(): Promise<GateWaiting[]> {
    const out: GateWaiting[] = [];
    const defs = await this.o.definitions();
    const now = this.o.now();
    for (const entry of await this.o.store.keys()) {
      const got = await this.o.store.get(entry);
      if (!got) continue;
      const s = got.state;
      const t = defs.find((d) => d.id === s.workflowId)?.triggers[s.trigger];
      const due =
        t?.kind === 'event' ? nextDue(s, { workflowId: s.workflowId, trigger: s.trigger, event: t }, now) : null;
      const events = s.burst ? s.burst.count : (s.queue?.length ?? 0);
      if (events === 0 && s.pending.length === 0) continue;
      out.push({
        workflowId: s.workflowId,
        trigger: s.trigger,
        kind: s.kind,
        key: s.key,
        events,
        ...(s.burst ? { lastEvent: s.burst.last.eventId } : {}),
        ...(s.queue?.length ? { nextEvent: s.queue[0]!.eventId } : {}),
        dueAt: due === null ? null : new Date(due).toISOString(),
        starting: s.pending.map((p) => p.runId),
      });
    }
    return out.sort((a, b) =>
      `${a.workflowId}.${a.trigger}.${a.key}`.localeCompare(`${b.workflowId}.${b.trigger}.${b.key}`),
    );
  }
}

/** One gate with events waiting: a debounce's open burst (events merged so far) or a throttle's queue. */
export interface GateWaiting {
  workflowId: string;
  trigger: number;
  kind: 'debounce' | 'throttle';
  key: string;
  events: number;
  lastEvent?: string;
  nextEvent?: string;
  /** When the burst fires / the queue's next event starts (null: nothing waits on time). */
  dueAt: string | null;
  /** Runs decided and being started. */
  starting: string[];
}
