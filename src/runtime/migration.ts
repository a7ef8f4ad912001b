/**
 * Migrating an unsettled run to another version of its workflow (docs/runs.md#migrating-in-flight-runs), the pure part:
 * the run's events folded again under the new definition, their task ids renamed by a task map (the rehearsal), the
 * verdict that gives, and the run.migrated event a migration records. After run.migrated the run's workflow is the one
 * the event carries (`workflowAfter`), from the state it carries (fold.ts).
 */
import { workflowOf, type CompiledWorkflow, type PersistedFold } from '../compiler/index.js';
import { definitionHash, type Definition } from '../definition/index.js';
import { definitionRecord, recordedDefinitionOf, type EventEnvelope, type PendingEvent } from '../events/index.js';
import { applyEvent, foldStartOf, rejectionReason, startFold, type RunSnapshot } from './fold.js';
import type { Divergence } from './divergence.js';
import { RunNotStartedError } from '../errors/index.js';

/** Old task id → new task id. */
export type TaskMap = Readonly<Record<string, string>>;

type Migrated = EventEnvelope & { type: 'run.migrated' };

/** The workflow a run.migrated event hands the run to. */
function migratedWorkflow(ev: Migrated): CompiledWorkflow {
  return workflowOf(recordedDefinitionOf(ev.data), ev.data.to.hash);
}

/** The run's workflow after `ev`: the same one, or the new one for run.migrated. */
export function workflowAfter(compiled: CompiledWorkflow, ev: EventEnvelope): CompiledWorkflow {
  return ev.type === 'run.migrated' ? migratedWorkflow(ev) : compiled;
}

/** The run's workflow after its last event (the latest run.migrated's, else run.started's). */
export function latestWorkflow(events: readonly EventEnvelope[]): CompiledWorkflow {
  for (let i = events.length - 1; i > 0; i--) {
    const ev = events[i]!;
    if (ev.type === 'run.migrated') return migratedWorkflow(ev);
  }
  return compiledForRun(events[0]);
}

/** The run.started a run's log begins with; RunNotStartedError when it does not. */
export function startedOf(
  first: EventEnvelope | undefined,
  runId?: string,
): Extract<EventEnvelope, { type: 'run.started' }> {
  if (first?.type !== 'run.started') throw new RunNotStartedError(first?.type, runId);
  return first;
}

/** The workflow value of the definition recorded in run.started (shared by every run of that definition: compiler/workflow.ts). */
export function compiledForRun(first: EventEnvelope | undefined): CompiledWorkflow {
  const started = startedOf(first);
  return workflowOf(recordedDefinitionOf(started.data), started.data.definitionHash);
}

/** `ev` with its task id renamed by `map` (the events that name no task are as they were). */
function renamed(ev: EventEnvelope, map: TaskMap): EventEnvelope {
  if (!('task' in ev.data)) return ev;
  const to = map[ev.data.task];
  return to === undefined ? ev : ({ ...ev, data: { ...ev.data, task: to } } as EventEnvelope);
}

const composed = (first: TaskMap, then: TaskMap): TaskMap => {
  const out: Record<string, string> = { ...then };
  for (const [a, b] of Object.entries(first)) out[a] = then[b] ?? b;
  return out;
};

interface Rehearsal {
  compatible: boolean;
  /** Where the new version could not follow the run: the first event it does not accept, or a shared task whose status differs. */
  divergence: Divergence | null;
  /** The state the new version would be in after the run's events (its task ids renamed by the map). */
  snapshot: RunSnapshot;
}

/**
 * The run's events folded under `target`, task ids renamed by `map` (and, for events before an earlier migration, by
 * that migration's map first), beside the run's own fold: compatible when every event is accepted and every task both
 * know reaches the same status after every event.
 */
export function rehearse(events: readonly EventEnvelope[], target: CompiledWorkflow, map: TaskMap = {}): Rehearsal {
  const first = startedOf(events[0]);
  const rest = events.slice(1);
  // The map to the target's ids for the events of each era (before each run.migrated).
  const eras: TaskMap[] = [map];
  for (let i = rest.length - 1; i >= 0; i--) {
    const ev = rest[i]!;
    if (ev.type === 'run.migrated') eras.unshift(composed(ev.data.map, eras[0]!));
  }
  let era = 0;
  let compiled = compiledForRun(first);
  const start = foldStartOf(first);
  const reuse = start.retryOf?.outputs;
  const startMap = eras[0]!;
  const targetStart = reuse
    ? {
        ...start,
        retryOf: {
          ...start.retryOf!,
          outputs: Object.fromEntries(Object.entries(reuse).map(([k, v]) => [startMap[k] ?? k, v])),
        },
      }
    : start;
  let own = startFold(compiled, start);
  let cand = startFold(target, targetStart);
  let divergence: Divergence | null = null;
  const compare = (ev: EventEnvelope, m: TaskMap) => {
    for (const [id, t] of Object.entries(own.context.tasks)) {
      const other = cand.context.tasks[m[id] ?? id];
      if (other && other.status !== t.status) {
        const named = m[id] !== undefined ? `${id} (${m[id]} in the new version)` : id;
        divergence = {
          seq: ev.seq,
          type: ev.type,
          reason: `task ${named} would be ${other.status} under the candidate definition but is ${t.status} in this run`,
        };
        return;
      }
    }
  };
  compare(first, eras[0]!);
  for (const ev of rest) {
    if (ev.type === 'run.migrated') {
      own = applyEvent(compiled, own, ev).snapshot;
      compiled = migratedWorkflow(ev);
      era++;
      continue;
    }
    own = applyEvent(compiled, own, ev).snapshot;
    if (divergence) continue;
    const m = eras[era]!;
    const next = applyEvent(target, cand, renamed(ev, m));
    if (!next.accepted) {
      divergence = {
        seq: ev.seq,
        type: ev.type,
        reason: `the candidate definition cannot accept this event: ${rejectionReason(cand, renamed(ev, m))}`,
      };
      continue;
    }
    cand = next.snapshot;
    compare(ev, m);
  }
  return { compatible: divergence === null, divergence, snapshot: cand };
}

const IN_FLIGHT: ReadonlySet<string> = new Set(['SCHEDULED', 'IN_PROGRESS', 'RETRYING']);

/** How a run stands against a migration to another version. */
type MigrationVerdict =
  | { verdict: 'as_is' | 'with_map'; map: TaskMap; snapshot: RunSnapshot }
  | { verdict: 'cannot'; divergence: Divergence }
  | { verdict: 'already' }
  | { verdict: 'settled' };

/**
 * What migrating this run to `target` would do: `already` on it, `settled` (nothing to take over), `as_is` (the new
 * version follows the run without a map), `with_map` (only with the map), or `cannot` (where it breaks: with the map
 * when one is given, else as is).
 */
export function judgeMigration(
  events: readonly EventEnvelope[],
  current: CompiledWorkflow,
  snapshot: RunSnapshot,
  target: CompiledWorkflow,
  map: TaskMap,
): MigrationVerdict {
  if (current.hash === target.hash) return { verdict: 'already' };
  if (snapshot.status !== 'active') return { verdict: 'settled' };
  const plain = rehearse(events, target, {});
  if (plain.compatible) return { verdict: 'as_is', map: {}, snapshot: plain.snapshot };
  if (Object.keys(map).length === 0) return { verdict: 'cannot', divergence: plain.divergence! };
  // A renamed task's attempt in flight would report under its old id, which the new version does not know.
  const renamedInFlight = Object.keys(map).find((id) => IN_FLIGHT.has(snapshot.context.tasks[id]?.status ?? ''));
  if (renamedInFlight !== undefined) {
    const seq = events.at(-1)!.seq;
    return {
      verdict: 'cannot',
      divergence: {
        seq,
        type: events.at(-1)!.type,
        reason: `task ${renamedInFlight} is ${snapshot.context.tasks[renamedInFlight]!.status} and the map renames it: its attempt would report under the old id; migrate once it has settled`,
      },
    };
  }
  const mapped = rehearse(events, target, map);
  if (mapped.compatible) return { verdict: 'with_map', map, snapshot: mapped.snapshot };
  return { verdict: 'cannot', divergence: mapped.divergence! };
}

/** The run.migrated event a migration that can take over records. */
export function migratedEvent(
  current: CompiledWorkflow,
  target: CompiledWorkflow,
  v: { map: TaskMap; snapshot: RunSnapshot },
  time: string,
  by: string | undefined,
): PendingEvent {
  const fold: PersistedFold = target.interpreter.persist(v.snapshot);
  return {
    type: 'run.migrated',
    time,
    data: {
      from: { version: current.definition.version, hash: current.hash },
      to: { version: target.definition.version, hash: target.hash },
      map: { ...v.map },
      ...(by !== undefined ? { by } : {}),
      definition: definitionRecord(target.definition),
      fold: JSON.parse(JSON.stringify(fold)) as (PendingEvent & { type: 'run.migrated' })['data']['fold'],
    },
  };
}

/**
 * Replay's check of a recorded run.migrated (`before`: the events before it):
 * its definition has its hash, and its state is the rehearsal's.
 */
export function migrationProblem(
  before: readonly EventEnvelope[],
  ev: Migrated,
  restored: RunSnapshot,
  stateHash: (s: RunSnapshot) => string,
): string | null {
  const def: Definition = recordedDefinitionOf(ev.data);
  if (definitionHash(def) !== ev.data.to.hash) return 'its definition does not have the hash it names (to.hash)';
  const target = migratedWorkflow(ev);
  const r = rehearse(before, target, ev.data.map);
  if (!r.compatible)
    return `the new version cannot take over the run: ${r.divergence!.reason} (event ${r.divergence!.seq})`;
  if (stateHash(r.snapshot) !== stateHash(restored) || r.snapshot.status !== restored.status)
    return 'the state it records is not the one its events folded under the new version lead to';
  return null;
}
