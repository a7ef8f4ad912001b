/**
 * A circuit breaker's state (`breaker:` of a task, a queue's or a handler's, docs/limits.md#circuit-breakers) and every
 * change of it, pure (the time is passed in): closed → open after `failures` failed attempts within `window` → half
 * open once `open_for` has passed, when the next attempt to ask is let through as the one probe → closed when the probe
 * succeeds, open again when it fails. Kept as one JSON document per breaker, changed inside the store's atomic
 * read-modify-write (a locked file, a KV compare-and-set), so every process and engine sees one breaker.
 */
import { z } from 'zod';

export type BreakerPhase = 'closed' | 'open' | 'half_open';

/** What a breaker is set to: the spec of `breaker: { failures, window, open_for }`, normalised. */
export interface BreakerSpec {
  readonly failures: number;
  readonly windowMs: number;
  readonly openForMs: number;
}

/** The attempt let through as the probe: its holder key and where its run's log says how it went. */
const ProbeSchema = z.object({
  key: z.string(),
  at: z.number(),
  runId: z.string(),
  task: z.string(),
  iteration: z.number().int().positive().optional(),
  item: z.number().int().nonnegative().optional(),
  attempt: z.number().int().positive(),
});

/** A breaker document as read from its store: parsed at the boundary; one that does not parse starts closed. */
export const BreakerStateSchema = z.object({
  phase: z.enum(['closed', 'open', 'half_open']),
  /** Times of the failed attempts within the window (closed only), oldest first. */
  failures: z.array(z.number()).max(100_000),
  /** Open: when it opened; `until`: when it half-opens (absent: opened by an operator, open until closed by one). */
  openedAt: z.number().optional(),
  until: z.number().optional(),
  probe: ProbeSchema.optional(),
  /** Who changed it last: its attempts' outcomes, or an operator (`ledgerflow breaker open|close`). */
  by: z.enum(['failures', 'probe', 'operator']).optional(),
  changedAt: z.number().optional(),
});
export type BreakerState = z.infer<typeof BreakerStateSchema>;
type BreakerProbe = z.infer<typeof ProbeSchema>;

export const closedBreaker = (): BreakerState => ({ phase: 'closed', failures: [] });

/** How often an attempt held by an open breaker asks again when nothing says sooner: an operator's `close` reaches waiters within it. */
const BREAKER_POLL_MS = 1000;

/** The phase at `now`: an open breaker whose `open_for` has passed is half open (its probe not yet let through). */
export function phaseAt(state: BreakerState, now: number): BreakerPhase {
  if (state.phase === 'open' && state.until !== undefined && now >= state.until) return 'half_open';
  return state.phase;
}

type BreakerAnswer = { granted: true; probe: boolean } | { granted: false; retryInMs: number };

/**
 * One ask of an attempt (`key`, holder key `<runId>/<instance>/<attempt>`), in place on `state`: closed lets it
 * through; open holds it until `until`; half open lets the first asker through as the probe and holds the rest
 * until the probe's outcome. The probe asking again (it still waits for another limit) is let through again.
 */
export function admit(state: BreakerState, probe: Omit<BreakerProbe, 'at'>, now: number): BreakerAnswer {
  if (state.phase === 'closed') return { granted: true, probe: false };
  if (state.phase === 'open') {
    if (state.until === undefined) return { granted: false, retryInMs: BREAKER_POLL_MS };
    if (now < state.until)
      return { granted: false, retryInMs: Math.max(1, Math.min(BREAKER_POLL_MS, Math.ceil(state.until - now))) };
    state.phase = 'half_open';
    state.probe = { ...probe, at: now };
    state.changedAt = now;
    return { granted: true, probe: true };
  }
  if (state.probe === undefined || state.probe.key === probe.key) {
    state.probe = { ...probe, at: state.probe?.at ?? now };
    return { granted: true, probe: true };
  }
  return { granted: false, retryInMs: BREAKER_POLL_MS };
}

/** What an outcome did to the breaker: the change it made, if any (what a caller logs or wakes waiters on). */
export type BreakerChange = 'opened' | 'closed' | 'reopened' | null;

/**
 * Records the outcome of an attempt the breaker counts, at `now`, in place. Closed: a failure joins the window and
 * `spec.failures` of them within `windowMs` open it for `openForMs`. Half open: the probe's outcome closes it
 * (success) or opens it again (failure); other attempts' outcomes (started before it opened) count for nothing,
 * as do all while it is open: the breaker already holds the attempts back.
 */
export function recordOutcome(
  state: BreakerState,
  spec: BreakerSpec,
  key: string,
  ok: boolean,
  now: number,
): BreakerChange {
  if (state.phase === 'closed') {
    if (ok) return null;
    state.failures = state.failures.filter((t) => now - t < spec.windowMs);
    state.failures.push(now);
    if (state.failures.length < spec.failures) return null;
    openAt(state, spec, now, 'failures');
    return 'opened';
  }
  if (state.phase === 'half_open' && state.probe?.key === key) {
    if (ok) {
      closeAt(state, now, 'probe');
      return 'closed';
    }
    openAt(state, spec, now, 'probe');
    return 'reopened';
  }
  return null;
}

function openAt(
  state: BreakerState,
  spec: BreakerSpec | null,
  now: number,
  by: 'failures' | 'probe' | 'operator',
): void {
  state.phase = 'open';
  state.failures = [];
  state.openedAt = now;
  if (spec) state.until = now + spec.openForMs;
  else delete state.until;
  delete state.probe;
  state.by = by;
  state.changedAt = now;
}

function closeAt(state: BreakerState, now: number, by: 'probe' | 'operator'): void {
  state.phase = 'closed';
  state.failures = [];
  delete state.openedAt;
  delete state.until;
  delete state.probe;
  state.by = by;
  state.changedAt = now;
}

/** `ledgerflow breaker open`: open until an operator closes it (no probe is let through meanwhile). */
export function forceOpen(state: BreakerState, now: number): void {
  openAt(state, null, now, 'operator');
}

/** `ledgerflow breaker close`: closed, its failures forgotten; every attempt it held may start. */
export function forceClose(state: BreakerState, now: number): void {
  closeAt(state, now, 'operator');
}

/**
 * The probe no longer runs without an outcome (its attempt was withdrawn, its run cancelled, its process died):
 * the breaker is half open again, and the next attempt to ask becomes the probe.
 */
export function dropProbe(state: BreakerState, key: string): boolean {
  if (state.phase !== 'half_open' || state.probe?.key !== key) return false;
  // Open with `until` passed: half open at the next ask (the probe's time is past by now).
  state.phase = 'open';
  state.until = Math.min(state.until ?? state.probe.at, state.probe.at);
  delete state.probe;
  return true;
}

/** A probe let through longer ago than this, with no outcome, is checked against its run's log when others ask. */
export const PROBE_CHECK_AFTER_MS = 3_000;
