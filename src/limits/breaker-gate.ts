/**
 * Circuit breakers (docs/limits.md#circuit-breakers) over the store's shared documents, the same port the task gates
 * use (EventStore.updateShared: a locked file on the embedded store, a KV entry changed by compare-and-set on NATS):
 * may an attempt pass its breakers now, record the outcomes of the attempts they count, and an operator's open and
 * close. The decisions are breaker-state.ts's. A breaker that is closed, or open and not yet due to half-open, is only
 * read: the one write of an ask is the probe's.
 */
import type { BreakerOutcome, GatePart, TaskGate, WaitAttempt } from '../runtime/index.js';
import { instanceFields } from '../compiler/index.js';
import { holderKey } from '../runtime/index.js';
import { StoreError } from '../errors/index.js';
import type { EventStore } from '../store/index.js';
import {
  admit,
  BreakerStateSchema,
  closedBreaker,
  dropProbe,
  forceClose,
  forceOpen,
  phaseAt,
  PROBE_CHECK_AFTER_MS,
  recordOutcome,
  type BreakerChange,
  type BreakerPhase,
  type BreakerState,
} from './breaker-state.js';
import { askSkills, type SkillAsk, type SkillCheck } from './skill-gate.js';
import { askGate, gateDocName, kickGate, stillHolds, withdrawWait, type GateAnswer } from './task-gate.js';

/** The document a breaker's state is kept under (beside its part's slots and window). */
const breakerDocName = (part: string): string => gateDocName(`${part}#breaker`);

/** The shared document listing every breaker that has had a state: what `ledgerflow limits` and Prometheus show. */
const BREAKERS_DOC = 'breakers';

/** A breaker document as read: anything not shaped as one (hand-edited, another version's) is a closed breaker. */
function stateOf(doc: unknown): BreakerState {
  const parsed = BreakerStateSchema.safeParse(doc);
  return parsed.success ? parsed.data : closedBreaker();
}

const read = async (store: EventStore, part: string): Promise<BreakerState> =>
  stateOf(store.readShared ? await store.readShared(breakerDocName(part)) : null);

/** The breakers an attempt of `gate` passes, in one order for every attempt (by name). */
const breakerParts = (gate: TaskGate): GatePart[] =>
  gate.parts.filter((p) => p.breaker !== undefined).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

/** Not granted: which breaker holds it, and when it half-opens (absent: opened by an operator, or half open with another's probe). */
type BreakerAsk = { granted: true } | { granted: false; retryInMs: number; breaker: { name: string; until?: number } };

/**
 * Asks every breaker of a waiting attempt once, at `now()`. A breaker half open whose probe has gone quiet (longer than
 * PROBE_CHECK_AFTER_MS, and its run's log says the attempt neither runs nor waits) gives the probe to this attempt.
 */
async function askBreakers(store: EventStore, w: WaitAttempt, now: () => number): Promise<BreakerAsk> {
  const parts = breakerParts(w.gate);
  if (parts.length === 0 || !store.updateShared || !store.readShared) return { granted: true };
  const key = holderKey(w.runId, w.instance, w.attempt);
  const probe = {
    key,
    runId: w.runId,
    task: w.taskId,
    ...instanceFields(w),
    attempt: w.attempt,
  };
  for (const p of parts) {
    const seen = await read(store, p.name);
    const at = now();
    const phase = phaseAt(seen, at);
    if (phase === 'closed') continue;
    if (phase === 'open') {
      const a = admit(seen, probe, at);
      if (!a.granted)
        return { ...a, breaker: { name: p.name, ...(seen.until !== undefined ? { until: seen.until } : {}) } };
      continue;
    }
    if (
      seen.phase === 'half_open' &&
      seen.probe &&
      seen.probe.key !== key &&
      at - seen.probe.at > PROBE_CHECK_AFTER_MS
    ) {
      const lost = seen.probe;
      const { runId, task, attempt } = lost;
      const holder = {
        runId,
        task,
        attempt,
        at: lost.at,
        ...instanceFields(lost),
      };
      if (!(await stillHolds(store, holder, at).catch(() => true))) {
        await store.updateShared(breakerDocName(p.name), (doc) => {
          const s = stateOf(doc);
          dropProbe(s, lost.key);
          return { doc: s, result: null };
        });
      }
    }
    const a = await store.updateShared(breakerDocName(p.name), (doc) => {
      const s = stateOf(doc);
      const answer = admit(s, probe, now());
      return { doc: s, result: answer };
    });
    if (!a.granted) return { ...a, breaker: { name: p.name } };
  }
  return { granted: true };
}

/** Gives up a probe an attempt was let through as and will not run (its wait was withdrawn): the next asker probes. */
async function withdrawProbe(store: EventStore, w: WaitAttempt): Promise<void> {
  if (!store.updateShared || !store.readShared) return;
  const key = holderKey(w.runId, w.instance, w.attempt);
  for (const p of breakerParts(w.gate)) {
    const seen = await read(store, p.name);
    if (seen.probe?.key !== key) continue;
    const dropped = await store.updateShared(breakerDocName(p.name), (doc) => {
      const s = stateOf(doc);
      return { doc: s, result: dropProbe(s, key) };
    });
    if (dropped) kickGate(p.name);
  }
}

/** Adds a breaker to the list `ledgerflow limits` and Prometheus show (once: the list only grows, as breakers are met). */
async function listed(store: EventStore, part: string): Promise<void> {
  const names = await listBreakers(store);
  if (names.includes(part)) return;
  await store.updateShared!(BREAKERS_DOC, (doc) => {
    const now = namesOf(doc);
    return { doc: { breakers: now.includes(part) ? now : [...now, part].sort() }, result: null };
  });
}

const namesOf = (doc: unknown): string[] => {
  const list = (doc as { breakers?: unknown } | null)?.breakers;
  return Array.isArray(list) ? list.filter((n): n is string => typeof n === 'string') : [];
};

/** Every breaker that has had a state in this store, by name (`task/<workflow>/<task>`, `queue/<q>`, `handler/<h>`). */
export async function listBreakers(store: EventStore): Promise<string[]> {
  return store.readShared ? namesOf(await store.readShared(BREAKERS_DOC)) : [];
}

/**
 * Records the outcomes a commit's attempts had on their breakers (runtime breakerOutcomes). A breaker that
 * closes wakes this process's waiters; the others ask again within BREAKER_POLL_MS. Returns what changed.
 */
export async function recordBreakerOutcomes(
  store: EventStore,
  outcomes: readonly BreakerOutcome[],
  now: () => number,
): Promise<{ gate: string; change: BreakerChange }[]> {
  if (!store.updateShared || outcomes.length === 0) return [];
  const changes: { gate: string; change: BreakerChange }[] = [];
  for (const o of outcomes) {
    // A success while closed changes nothing: only read, so a healthy task costs no write.
    if (o.ok && store.readShared && (await read(store, o.gate)).phase === 'closed') continue;
    const { change, fresh } = await store.updateShared(breakerDocName(o.gate), (doc) => {
      const s = stateOf(doc);
      return {
        doc: s,
        result: {
          change: recordOutcome(s, o.breaker, o.holder, o.ok, now()),
          fresh: doc === null || doc === undefined,
        },
      };
    });
    if (fresh || change !== null) await listed(store, o.gate);
    if (change === 'closed') kickGate(o.gate);
    if (change !== null) changes.push({ gate: o.gate, change });
  }
  return changes;
}

/** What `ledgerflow limits` and Prometheus show of one breaker. */
export interface BreakerReport {
  name: string;
  state: BreakerPhase;
  failures: number;
  openedAt?: string;
  until?: string;
  by?: string;
}

export async function breakerReport(store: EventStore, name: string, now: number): Promise<BreakerReport> {
  const s = await read(store, name);
  return {
    name,
    state: phaseAt(s, now),
    failures: s.failures.length,
    ...(s.openedAt !== undefined ? { openedAt: new Date(s.openedAt).toISOString() } : {}),
    ...(s.phase === 'open' && s.until !== undefined ? { until: new Date(s.until).toISOString() } : {}),
    ...(s.by ? { by: s.by } : {}),
  };
}

/** A breaker's name as `limits show` prints it: a task's, a queue's or a handler's. */
export const BREAKER_NAME =
  /^(?:task\/[A-Za-z0-9_.-]+\/[A-Za-z_][A-Za-z0-9_-]*|queue\/[A-Za-z0-9_][A-Za-z0-9_.-]{0,255}|handler\/[A-Za-z0-9_][A-Za-z0-9_.-]{0,255})$/;

/** `ledgerflow breaker open|close <name>`: an operator's change; a close wakes this process's waiters. */
export async function setBreaker(
  store: EventStore,
  name: string,
  to: 'open' | 'close',
  now: number,
): Promise<BreakerReport> {
  if (!store.updateShared)
    throw new StoreError(
      'this store keeps no shared documents: breakers are shared by the processes of a file store or a NATS cluster',
      {},
    );
  await store.updateShared(breakerDocName(name), (doc) => {
    const s = stateOf(doc);
    if (to === 'open') forceOpen(s, now);
    else forceClose(s, now);
    return { doc: s, result: null };
  });
  await listed(store, name);
  if (to === 'close') kickGate(name);
  return breakerReport(store, name, now);
}

/** Which of `names` are open or half open at `now`: what a waiting task's status names (a closed breaker holds nothing). */
async function openBreakers(store: EventStore, names: readonly string[], now: number): Promise<Set<string>> {
  const open = new Set<string>();
  for (const n of names) if (phaseAt(await read(store, n), now) !== 'closed') open.add(n);
  return open;
}

/**
 * "May this attempt start now?" with every gate it is held to: someone with its skills first (skill-gate.ts), its breakers (an open one holds it without
 * taking a slot or a rate token it would not use), then its limits (task-gate.ts askGate).
 */
export async function askAttemptGate(
  store: EventStore,
  w: WaitAttempt,
  now: () => number,
  since?: number,
  skilled?: SkillCheck,
): Promise<GateAnswer | Extract<BreakerAsk, { granted: false }> | Extract<SkillAsk, { granted: false }>> {
  // Nobody with the skills: nothing else is asked (no probe, slot or rate token spent on an attempt nobody can take).
  const s = await askSkills(w.gate, skilled);
  if (!s.granted) return s;
  const b = await askBreakers(store, w, now);
  if (!b.granted) return b;
  return askGate(store, w, now, since);
}

/** Gives up a waiting attempt's places: its probe, if it was let through as one, and its places in its limits' lines. */
export async function withdrawAttemptWait(store: EventStore, w: WaitAttempt): Promise<void> {
  await withdrawProbe(store, w);
  await withdrawWait(store, w);
}

/**
 * The open breakers of a workflow's gates, for showing its runs (`status`): what a waiting task waits for. Undefined
 * when it has none; a store that cannot say shows every breaker as one to wait for rather than fail the read.
 */
export async function breakersForView(
  store: EventStore,
  gates: ReadonlyMap<string, TaskGate>,
  now: number,
): Promise<Set<string> | undefined> {
  const names = [...new Set([...gates.values()].flatMap((g) => breakerParts(g).map((p) => p.name)))];
  if (names.length === 0) return undefined;
  return openBreakers(store, names, now).catch(() => undefined);
}

/** Every breaker met in this store, with its state at `now`: what `limits show` and Prometheus show. */
export async function allBreakers(store: EventStore, now: number): Promise<BreakerReport[]> {
  return Promise.all((await listBreakers(store)).map((name) => breakerReport(store, name, now)));
}
