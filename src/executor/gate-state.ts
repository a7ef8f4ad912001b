/**
 * The state of one task gate (`concurrency:` / `rate_limit:` of a task,
 * runtime/task-gates.ts) as every executor keeps it: a JSON document under the
 * gate's name (a locked file on the embedded store, a KV entry changed by
 * compare-and-set on NATS), and the one decision over it, pure (the time is
 * passed in): who holds a slot, who waits in which order, which starts fall
 * in the rate window. Both gate ports call `decide` inside their atomic
 * read-modify-write, so the logic is written once.
 */
import { z } from 'zod';
import type { TaskGate } from '../runtime/index.js';

/** A gate document as read from its store (a file, a KV entry): parsed at the boundary; one that does not parse starts afresh. */
export const GateStateSchema = z.object({
  holders: z.record(z.string(), z.object({
    runId: z.string(), task: z.string(), iteration: z.number().int().positive().optional(), item: z.number().int().nonnegative().optional(),
    attempt: z.number().int().positive(), at: z.number(), checkedAt: z.number().optional(),
  })),
  waiters: z.record(z.string(), z.object({ priority: z.number().int().min(0).max(99), since: z.number(), seen: z.number() })),
  starts: z.array(z.number()).max(100_000),
});

/** An attempt holding a slot: which attempt of which instance of which run, since when, when last checked against its run's log. */
export interface GateHolder { runId: string; task: string; iteration?: number; item?: number; attempt: number; at: number; checkedAt?: number }
/** An attempt waiting: its run's priority, since when it waits (its place), when it last asked (a waiter that stops asking is gone). */
export interface GateWaiter { priority: number; since: number; seen: number }

export interface GateState {
  holders: Record<string, GateHolder>;
  waiters: Record<string, GateWaiter>;
  /** Times of the starts granted within the rate window, oldest first (rate_limit only). */
  starts: number[];
}

export const emptyGateState = (): GateState => ({ holders: {}, waiters: {}, starts: [] });

/** A waiter that has not asked for this long has died (its process, its engine): it loses its place. */
export const WAITER_TTL_MS = 30_000;
/** How often a waiter asks again when nothing says when a place will free (a slot frees at an attempt's end). */
export const POLL_MS = 250;
/** The longest a waiter waits before asking again: well within WAITER_TTL_MS, so a live waiter never loses its place. */
export const MAX_RETRY_MS = 10_000;
/** A holder granted longer ago than this, and not checked for as long, is checked against its run's log when the gate is full. */
export const VERIFY_AFTER_MS = 3_000;

export interface GateAsk {
  /** `<runId>/<instance>/<attempt>` (runtime holderKey). */
  key: string;
  holder: Omit<GateHolder, 'at' | 'checkedAt'>;
  priority: number;
  gate: TaskGate;
  now: number;
}

export interface GateDecision {
  granted: boolean;
  /** When to ask again, if not granted. */
  retryInMs: number;
  /** Holders worth checking against their runs' logs (the gate is full and they have held long). */
  suspects: string[];
}

/** Higher priority first, then who waits longer, then the key: the order waiters of a gate are granted in. */
function waiterOrder(state: GateState): string[] {
  return Object.keys(state.waiters).sort((a, b) => {
    const x = state.waiters[a]!;
    const y = state.waiters[b]!;
    return y.priority - x.priority || x.since - y.since || (a < b ? -1 : a > b ? 1 : 0);
  });
}

/**
 * One ask of the gate, in place on `state` (a copy the caller writes back):
 * the asker joins or refreshes its place, waiters gone quiet drop out, and it
 * is granted when there are enough free slots and rate tokens for every
 * waiter ahead of it and itself. Granted: it becomes a holder (and a start in
 * the window). An asker already holding (a grant whose commit was lost) is
 * granted again.
 */
export function decide(state: GateState, ask: GateAsk, dead: ReadonlySet<string> = new Set()): GateDecision {
  const { now, gate, key } = ask;
  for (const k of dead) delete state.holders[k];
  if (state.holders[key]) return { granted: true, retryInMs: 0, suspects: [] };
  const known = state.waiters[key];
  state.waiters[key] = { priority: ask.priority, since: known?.since ?? now, seen: now };
  for (const [k, w] of Object.entries(state.waiters)) if (now - w.seen > WAITER_TTL_MS) delete state.waiters[k];
  const rank = waiterOrder(state).indexOf(key);
  let free = Number.POSITIVE_INFINITY;
  let retryInMs = POLL_MS;
  const suspects: string[] = [];
  if (gate.concurrency !== undefined) {
    free = gate.concurrency - Object.keys(state.holders).length;
    if (free <= rank) {
      // Far back in the line, ask less often: a turn comes about once per `limit` attempts ending.
      retryInMs = Math.min(MAX_RETRY_MS, POLL_MS * (1 + Math.floor(rank / gate.concurrency)));
      for (const [k, h] of Object.entries(state.holders)) {
        if (now - h.at > VERIFY_AFTER_MS && now - (h.checkedAt ?? h.at) > VERIFY_AFTER_MS) suspects.push(k);
      }
    }
  }
  if (gate.rate) {
    const { limit, perMs } = gate.rate;
    // A sliding window: at most `limit` starts in any span of `perMs`.
    state.starts = state.starts.filter((t) => now - t < perMs);
    const tokens = limit - state.starts.length;
    if (tokens <= rank) {
      // When the window makes room for this waiter: as the start (rank - tokens) leaves it; beyond the
      // window's starts, about (rank - tokens + 1) starts later, one per perMs / limit.
      const freeing = state.starts[rank - tokens];
      const due = freeing === undefined ? ((rank - tokens + 1) * perMs) / limit : freeing + perMs - now;
      const rateRetry = Math.max(1, Math.min(MAX_RETRY_MS, Math.ceil(due)));
      retryInMs = gate.concurrency !== undefined && free <= rank ? Math.max(retryInMs, rateRetry) : rateRetry;
    }
    free = Math.min(free, tokens);
  }
  if (rank >= free) return { granted: false, retryInMs, suspects };
  delete state.waiters[key];
  state.holders[key] = { ...ask.holder, at: now };
  if (gate.concurrency === undefined) delete state.holders[key]; // a rate alone holds no slot
  if (gate.rate) state.starts.push(now);
  return { granted: true, retryInMs: 0, suspects: [] };
}

/** Drops a holder (its attempt ended) or a waiter (it no longer waits): what a release and a withdrawal do. */
export function drop(state: GateState, key: string): boolean {
  const had = key in state.holders || key in state.waiters;
  delete state.holders[key];
  delete state.waiters[key];
  return had;
}

/** Marks holders checked (found still running), so they are not read again before VERIFY_AFTER_MS. */
export function markChecked(state: GateState, keys: readonly string[], now: number): void {
  for (const k of keys) if (state.holders[k]) state.holders[k]!.checkedAt = now;
}
