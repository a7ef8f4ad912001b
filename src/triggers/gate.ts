/**
 * Debounce and throttle of event triggers (docs/triggers.md#debounce-and-throttle), decided without I/O and without a
 * clock: every function takes the state of one gate (one trigger and one key value) and the time `now` read by the
 * caller at the edge, and returns the next state. The state carries what was decided and not yet done (`pending`
 * starts, `outbox` records), so a process that dies after saving it leaves the work for the next one (gates.ts).
 *
 * - debounce: a burst is the events of one key whose gaps are shorter than `period`; `period` after its last event, one
 *   run starts with that event's input, recording the others as merged into it.
 * - throttle: a sliding window: at most `limit` starts in any span of `per` (an exact log of the last `limit` start
 *   times, not a fixed bucket that would let 2×limit through around a boundary). Over the limit an event waits in a
 *   queue, started in arrival order as the window allows, or is dropped (`on_limit: drop`).
 */
import { z } from 'zod';
import type { EventTrigger, JsonValue } from '../definition/index.js';

/** A debounce's burst names at most this many merged event ids (all are counted). */
const MAX_ABSORBED_NAMED = 100;
/** Events waiting under one throttle key: beyond this they are dropped (reason `queue full`). */
const MAX_QUEUED = 1000;
/** Event ids remembered per gate to tell a redelivery from a new event: the last this many, for this long. */
const SEEN_KEPT = 256;
const SEEN_MS = 15 * 60_000;

const Json = z.record(z.string(), z.unknown()) as unknown as z.ZodType<Record<string, JsonValue>>;
const GatedEventSchema = z.object({ eventId: z.string().min(1), at: z.number(), input: Json });
type GatedEvent = z.infer<typeof GatedEventSchema>;

const PendingStartSchema = z.object({
  runId: z.string().min(1),
  eventId: z.string().min(1),
  input: Json,
  decidedAt: z.number(),
  count: z.number().int().positive(),
  absorbed: z.array(z.string()),
  firstAt: z.number(),
});
/** A start decided and saved, not yet known to be in the run's log. */
export type PendingStart = z.infer<typeof PendingStartSchema>;

const GATE_DECISIONS = ['started', 'queued', 'merged', 'dropped'] as const;
export type GateDecision = (typeof GATE_DECISIONS)[number];

export const GateRecordSchema = z.object({
  /** Unique per event and decision, so writing a record twice (a retry) keeps one. */
  id: z.string().min(1),
  time: z.string(),
  workflowId: z.string(),
  trigger: z.number().int().nonnegative(),
  kind: z.enum(['debounce', 'throttle']),
  key: z.string(),
  decision: z.enum(GATE_DECISIONS),
  eventId: z.string(),
  /** started: the run; merged: the run it was merged into. */
  runId: z.string().optional(),
  /** started by a debounce: how many events the run stands for, and the merged ids (up to 100). */
  count: z.number().int().positive().optional(),
  absorbed: z.array(z.string()).optional(),
  reason: z.string().optional(),
});
/** One line of the trigger decision log (`ledgerflow triggers`). */
export type GateRecord = z.infer<typeof GateRecordSchema>;

export const GateStateSchema = z.object({
  v: z.literal(1),
  kind: z.enum(['debounce', 'throttle']),
  workflowId: z.string(),
  trigger: z.number().int().nonnegative(),
  key: z.string(),
  /** debounce: the open burst. */
  burst: z
    .object({
      last: GatedEventSchema,
      firstAt: z.number(),
      count: z.number().int().positive(),
      absorbed: z.array(z.string()),
    })
    .optional(),
  /** throttle: start times within the window (at most `limit`), and the events waiting. */
  starts: z.array(z.number()).optional(),
  queue: z.array(GatedEventSchema).optional(),
  seen: z.array(z.object({ id: z.string(), at: z.number() })),
  pending: z.array(PendingStartSchema),
  outbox: z.array(GateRecordSchema),
});
export type GateState = z.infer<typeof GateStateSchema>;

export interface GateSpec {
  workflowId: string;
  trigger: number;
  event: EventTrigger;
}
type GateKind = 'debounce' | 'throttle';

export function gateKindOf(t: EventTrigger): GateKind | null {
  return t.debounce ? 'debounce' : t.throttle ? 'throttle' : null;
}

function emptyGate(spec: GateSpec, key: string): GateState {
  return {
    v: 1,
    kind: gateKindOf(spec.event) ?? 'throttle',
    workflowId: spec.workflowId,
    trigger: spec.trigger,
    key,
    seen: [],
    pending: [],
    outbox: [],
  };
}

/** What became of one arriving event. */
export interface Arrival {
  decision: GateDecision | 'debounced' | 'duplicate';
  /** started: its run; debounced: the run it starts if no event follows (its own). */
  runId?: string;
  /** debounced / queued: when it is due (ms; a queued event's is the earliest the window allows). */
  dueAt?: number;
  reason?: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

function record(
  s: GateState,
  now: number,
  decision: GateDecision,
  eventId: string,
  more: Partial<GateRecord> = {},
): GateRecord {
  return {
    id: `${s.workflowId}/${s.trigger}/${eventId}/${decision}`,
    time: iso(now),
    workflowId: s.workflowId,
    trigger: s.trigger,
    kind: s.kind,
    key: s.key,
    decision,
    eventId,
    ...more,
  };
}

/** The window's start times still inside it at `now`. */
function inWindow(starts: readonly number[], perMs: number, now: number): number[] {
  return starts.filter((t) => t > now - perMs);
}

/** A debounce's burst becomes a pending start with its last event; each earlier event is recorded as merged into it. */
function fireBurst(s: GateState, runIdOf: (eventId: string) => string, at: number): GateState {
  const b = s.burst!;
  const runId = runIdOf(b.last.eventId);
  const merged = b.absorbed.map((id) => record(s, at, 'merged', id, { runId }));
  const started = record(s, at, 'started', b.last.eventId, {
    runId,
    count: b.count,
    ...(b.absorbed.length ? { absorbed: b.absorbed } : {}),
  });
  const { burst: _b, ...rest } = s;
  return {
    ...rest,
    pending: [
      ...s.pending,
      {
        runId,
        eventId: b.last.eventId,
        input: b.last.input,
        decidedAt: at,
        count: b.count,
        absorbed: b.absorbed,
        firstAt: b.firstAt,
      },
    ],
    outbox: [...s.outbox, ...merged, started],
  };
}

/** Starts what the throttle's window lets through at `now`, in arrival order. */
function drainQueue(s: GateState, spec: GateSpec, runIdOf: (eventId: string) => string, now: number): GateState {
  const t = spec.event.throttle!;
  let starts = inWindow(s.starts ?? [], t.perMs, now);
  const queue = [...(s.queue ?? [])];
  const pending = [...s.pending];
  const outbox = [...s.outbox];
  while (queue.length > 0 && starts.length < t.limit) {
    const e = queue.shift()!;
    const runId = runIdOf(e.eventId);
    starts = [...starts, now];
    pending.push({ runId, eventId: e.eventId, input: e.input, decidedAt: now, count: 1, absorbed: [], firstAt: e.at });
    outbox.push(record(s, now, 'started', e.eventId, { runId }));
  }
  return { ...s, starts, queue, pending, outbox };
}

/** When the throttle lets the queue's `i`-th event (0-based) start, at the earliest. */
function queuedDueAt(s: GateState, spec: GateSpec, i: number, now: number): number {
  const t = spec.event.throttle!;
  const starts = inWindow(s.starts ?? [], t.perMs, now);
  // Start number starts.length + i; it needs the start `limit` before it to have left the window.
  const k = starts.length + i - t.limit;
  if (k < 0) return now;
  if (k < starts.length) return starts[k]! + t.perMs;
  return queuedDueAt(s, spec, k - starts.length, now) + t.perMs;
}

function remember(s: GateState, eventId: string, now: number): GateState {
  const seen = [...s.seen.filter((x) => x.at > now - SEEN_MS), { id: eventId, at: now }];
  return { ...s, seen: seen.slice(-SEEN_KEPT) };
}

/**
 * An event arrives at `now` (the receiving process's clock). A second
 * delivery of an event this gate has seen recently changes nothing.
 */
export function arrive(
  state: GateState | null,
  spec: GateSpec,
  key: string,
  ev: GatedEvent,
  runIdOf: (eventId: string) => string,
  now: number,
): { state: GateState; arrival: Arrival } {
  let s = state ?? emptyGate(spec, key);
  const pendingFor = s.pending.find((p) => p.eventId === ev.eventId);
  if (s.seen.some((x) => x.id === ev.eventId) || pendingFor)
    return { state: s, arrival: { decision: 'duplicate', ...(pendingFor ? { runId: pendingFor.runId } : {}) } };
  s = tick(s, spec, runIdOf, now);
  s = remember(s, ev.eventId, now);
  if (spec.event.debounce) {
    const period = spec.event.debounce.periodMs;
    const b = s.burst;
    const absorbed = b ? [...b.absorbed, b.last.eventId].slice(-MAX_ABSORBED_NAMED) : [];
    s = { ...s, burst: { last: ev, firstAt: b?.firstAt ?? now, count: (b?.count ?? 0) + 1, absorbed } };
    return { state: s, arrival: { decision: 'debounced', runId: runIdOf(ev.eventId), dueAt: now + period } };
  }
  const t = spec.event.throttle!;
  const queue = s.queue ?? [];
  const starts = inWindow(s.starts ?? [], t.perMs, now);
  if (queue.length === 0 && starts.length < t.limit) {
    const runId = runIdOf(ev.eventId);
    s = {
      ...s,
      starts: [...starts, now],
      pending: [
        ...s.pending,
        { runId, eventId: ev.eventId, input: ev.input, decidedAt: now, count: 1, absorbed: [], firstAt: now },
      ],
      outbox: [...s.outbox, record(s, now, 'started', ev.eventId, { runId })],
    };
    return { state: s, arrival: { decision: 'started', runId } };
  }
  const full = queue.length >= MAX_QUEUED;
  if (t.onLimit === 'drop' || full) {
    const reason = full
      ? `queue full (${MAX_QUEUED} events wait under this key)`
      : `limit ${t.limit} per ${t.perMs} ms reached`;
    s = { ...s, outbox: [...s.outbox, record(s, now, 'dropped', ev.eventId, { reason })] };
    return { state: s, arrival: { decision: 'dropped', reason } };
  }
  const dueAt = queuedDueAt(s, spec, queue.length, now);
  s = { ...s, queue: [...queue, ev], outbox: [...s.outbox, record(s, now, 'queued', ev.eventId)] };
  return { state: s, arrival: { decision: 'queued', runId: runIdOf(ev.eventId), dueAt } };
}

/** Time passes: a burst quiet for `period` fires; the throttle's queue starts what the window allows. */
export function tick(state: GateState, spec: GateSpec, runIdOf: (eventId: string) => string, now: number): GateState {
  if (spec.event.debounce) {
    const b = state.burst;
    // Due `period` after the last event; fired at that instant even when ticked later (serve was down), so what it decides does not depend on when it ticks.
    if (b && now >= b.last.at + spec.event.debounce.periodMs)
      return fireBurst(state, runIdOf, b.last.at + spec.event.debounce.periodMs);
    return state;
  }
  if (spec.event.throttle && (state.queue?.length ?? 0) > 0) return drainQueue(state, spec, runIdOf, now);
  return state;
}

/** The earliest time `tick` would change something (null: nothing waits on time). */
export function nextDue(state: GateState, spec: GateSpec, now: number): number | null {
  if (spec.event.debounce && state.burst) return state.burst.last.at + spec.event.debounce.periodMs;
  if (spec.event.throttle && (state.queue?.length ?? 0) > 0) return queuedDueAt(state, spec, 0, now);
  return null;
}

/** The starts and records done (started / written) are taken off. */
export function settle(state: GateState, started: ReadonlySet<string>, written: ReadonlySet<string>): GateState {
  return {
    ...state,
    pending: state.pending.filter((p) => !started.has(p.runId)),
    outbox: state.outbox.filter((r) => !written.has(r.id)),
  };
}

/** Nothing left to remember: the gate's entry can be deleted. */
export function isIdle(state: GateState, spec: GateSpec, now: number): boolean {
  const t = spec.event.throttle;
  return (
    !state.burst &&
    (state.queue?.length ?? 0) === 0 &&
    state.pending.length === 0 &&
    state.outbox.length === 0 &&
    state.seen.every((x) => x.at <= now - SEEN_MS) &&
    (!t || inWindow(state.starts ?? [], t.perMs, now).length === 0)
  );
}
