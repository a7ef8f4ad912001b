/**
 * The state of one task gate (`concurrency:` / `rate_limit:` of a task, runtime/task-gates.ts) as every executor keeps
 * it: a JSON document under the gate's name (a locked file on the embedded store, a KV entry changed by compare-and-set
 * on NATS), and the one decision over it, pure (the time is passed in): who holds a slot, who waits in which order,
 * which starts fall in the rate window. Both gate ports call `decide` inside their atomic read-modify-write, so the
 * logic is written once.
 */
import { z } from 'zod';

/** A gate document as read from its store (a file, a KV entry): parsed at the boundary; one that does not parse starts afresh. */
export const GateStateSchema = z.object({
  holders: z.record(
    z.string(),
    z.object({
      runId: z.string(),
      task: z.string(),
      iteration: z.number().int().positive().optional(),
      item: z.number().int().nonnegative().optional(),
      attempt: z.number().int().positive(),
      at: z.number(),
      checkedAt: z.number().optional(),
      seen: z.number().optional(),
    }),
  ),
  waiters: z.record(
    z.string(),
    z.object({ priority: z.number().int().min(0).max(99), since: z.number(), seen: z.number() }),
  ),
  starts: z.array(z.number()).max(100_000),
  reserved: z.record(z.string(), z.number()).optional(),
});

/**
 * An attempt holding a slot: which attempt of which instance of which run, since when, when last checked against its
 * run's log; `seen`: when it last asked while holding it (an attempt that holds this slot and still waits for another
 * of its limits asks again, and is alive while it does).
 */
export interface GateHolder {
  runId: string;
  task: string;
  iteration?: number;
  item?: number;
  attempt: number;
  at: number;
  checkedAt?: number;
  seen?: number;
}
/** An attempt waiting: its run's priority, since when it waits (its place), when it last asked (a waiter that stops asking is gone). */
export interface GateWaiter {
  priority: number;
  since: number;
  seen: number;
}

export interface GateState {
  holders: Record<string, GateHolder>;
  waiters: Record<string, GateWaiter>;
  /** Times of the starts granted within the rate window, oldest first (rate_limit only); future ones are reservations. */
  starts: number[];
  /** Waiters given a start time to come (rate_limit only, reserveRate): key → that time, also in `starts`. */
  reserved?: Record<string, number>;
}

export const emptyGateState = (): GateState => ({ holders: {}, waiters: {}, starts: [] });

/** A waiter that has not asked for this long has died (its process, its engine): it loses its place. */
export const WAITER_TTL_MS = 30_000;
/** How often a waiter asks again when nothing says when a place will free (a slot frees at an attempt's end). */
const POLL_MS = 250;
/** The longest a waiter waits before asking again: well within WAITER_TTL_MS, so a live waiter never loses its place. */
const MAX_RETRY_MS = 10_000;
/** A holder granted longer ago than this, and not checked for as long, is checked against its run's log when the gate is full. */
const VERIFY_AFTER_MS = 3_000;

/** The limits one gate document keeps: a slot count, a rate window, or both. */
export interface GateLimits {
  readonly concurrency?: number;
  readonly rate?: { readonly limit: number; readonly perMs: number };
}

export interface GateAsk {
  /** `<runId>/<instance>/<attempt>` (runtime holderKey). */
  key: string;
  holder: Omit<GateHolder, 'at' | 'checkedAt' | 'seen'>;
  priority: number;
  gate: GateLimits;
  now: number;
  /**
   * When the attempt began to wait, the same for every gate it asks: its place in each line. One order of
   * waiters for every gate (priority, then this, then the key), so an attempt first in line is first in each
   * of its lines, and two attempts never wait for each other across two gates. Default: its first ask here.
   */
  since?: number;
  /** A rate window alone, the attempt's only one: the line is given start times to come (reserveRate). */
  reserve?: boolean;
}

interface GateDecision {
  granted: boolean;
  /** When to ask again, if not granted. */
  retryInMs: number;
  /** Holders worth checking against their runs' logs (the gate is full and they have held long). */
  suspects: string[];
  /** Granted: the time its start counts at (a reservation's, else the ask's). */
  at?: number;
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
 * One ask of the gate, in place on `state` (a copy the caller writes back): the asker joins or refreshes its place,
 * waiters gone quiet drop out, and it is granted when there are enough free slots and rate tokens for every waiter
 * ahead of it and itself. Granted: it becomes a holder (and a start in the window). An asker already holding (a grant
 * whose commit was lost) is granted again.
 */
export function decide(state: GateState, ask: GateAsk, dead: ReadonlySet<string> = new Set()): GateDecision {
  const { now, gate, key } = ask;
  if (ask.reserve && gate.rate && gate.concurrency === undefined) return reserveRate(state, ask, gate.rate);
  for (const k of dead) delete state.holders[k];
  if (state.holders[key]) {
    state.holders[key]!.seen = now;
    return { granted: true, retryInMs: 0, suspects: [] };
  }
  const known = state.waiters[key];
  state.waiters[key] = { priority: ask.priority, since: known?.since ?? ask.since ?? now, seen: now };
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
  if (gate.rate) insertStart(state.starts, now);
  return { granted: true, retryInMs: 0, suspects: [] };
}

/** How far ahead the line is given start times: far enough that an engine's delay in asking again never leaves the window idle. */
const RESERVE_AHEAD_MS = 1000;

/**
 * A rate window that hands out start times rather than "now or not": at each ask, the waiters are given, in
 * line order, the earliest time each may start (a reservation, counted in the window at once), up to
 * RESERVE_AHEAD_MS ahead; a waiter asks again at its time and is granted with it. So the window stays full
 * whatever the delay between a token freeing and its waiter's next ask (a redelivery, a busy engine): the
 * starts counted are the ones recorded (task.started carries the reserved time). Each time given is at or
 * after every start counted so far, so the window holds at most `limit` in any span of `perMs`, exactly.
 */
function reserveRate(state: GateState, ask: GateAsk, rate: { limit: number; perMs: number }): GateDecision {
  const { now, key } = ask;
  const { limit, perMs } = rate;
  state.starts = state.starts.filter((t) => now - t < perMs);
  const reserved = (state.reserved ??= {});
  // A reservation its waiter never came back for: forgotten (its start stays counted until it leaves the window).
  for (const [k, t] of Object.entries(reserved)) if (now - t > WAITER_TTL_MS) delete reserved[k];
  // The asker joins the line (or refreshes its place) unless it has its time already.
  if (reserved[key] === undefined) {
    const known = state.waiters[key];
    state.waiters[key] = { priority: ask.priority, since: known?.since ?? ask.since ?? now, seen: now };
  }
  for (const [k, w] of Object.entries(state.waiters)) if (now - w.seen > WAITER_TTL_MS) delete state.waiters[k];
  // Every ask tops the reservations up, so the window stays booked a second ahead while anyone waits.
  const order = waiterOrder(state);
  let given = 0;
  for (const k of order) {
    const n = state.starts.length;
    const at = Math.max(now, state.starts[n - 1] ?? now, n >= limit ? state.starts[n - limit]! + perMs : now);
    if (at - now > RESERVE_AHEAD_MS) break;
    state.starts.push(at);
    delete state.waiters[k];
    reserved[k] = at;
    given++;
  }
  const mine = reserved[key];
  if (mine !== undefined) {
    if (mine > now) return { granted: false, retryInMs: Math.max(1, Math.ceil(mine - now)), suspects: [] };
    delete reserved[key];
    return { granted: true, retryInMs: 0, suspects: [], at: mine };
  }
  // Beyond the reservations: back when the booking a second ahead reaches it, about one start per
  // perMs / limit for each waiter ahead of it after the last start booked (asking later leaves the window idle).
  const rank = order.indexOf(key) - given;
  const last = state.starts[state.starts.length - 1] ?? now;
  const due = Math.max(0, last - now - RESERVE_AHEAD_MS) + ((rank + 1) * perMs) / limit;
  return { granted: false, retryInMs: Math.max(1, Math.min(MAX_RETRY_MS, Math.ceil(due))), suspects: [] };
}

/** Keeps the window's starts oldest first (a start decided at a time just before one already there: another gate's round). */
function insertStart(starts: number[], at: number): void {
  let i = starts.length;
  while (i > 0 && starts[i - 1]! > at) i--;
  starts.splice(i, 0, at);
}

/**
 * Gives back a rate token taken at `at` for an attempt that then could not start (another of its limits said
 * wait): the start never happened, so it leaves the window, and the attempt waits again in its place.
 */
export function giveBack(state: GateState, key: string, at: number, waiter: GateWaiter): void {
  const i = state.starts.lastIndexOf(at);
  if (i >= 0) state.starts.splice(i, 1);
  delete state.holders[key];
  state.waiters[key] = waiter;
}

/** Drops a holder (its attempt ended) or a waiter (it no longer waits): what a release and a withdrawal do. */
export function drop(state: GateState, key: string): boolean {
  const had = key in state.holders || key in state.waiters || (state.reserved !== undefined && key in state.reserved);
  delete state.holders[key];
  delete state.waiters[key];
  // A start reserved and never taken: it never happens, so it leaves the window.
  const at = state.reserved?.[key];
  if (at !== undefined) {
    delete state.reserved![key];
    const i = state.starts.lastIndexOf(at);
    if (i >= 0) state.starts.splice(i, 1);
  }
  return had;
}

/** Marks holders checked (found still running), so they are not read again before VERIFY_AFTER_MS. */
export function markChecked(state: GateState, keys: readonly string[], now: number): void {
  for (const k of keys) if (state.holders[k]) state.holders[k]!.checkedAt = now;
}
