/**
 * Emitting an event on the embedded store (the I/O edge around admit.ts): a rejected event goes to the dead-letter sink
 * with its reason; an accepted one starts a run per matching trigger under runIdForEvent(event, workflow) and drives
 * each like `ledgerflow run` does. All runs are recorded before any is driven, so an interrupted emit leaves every run
 * in the log for `resume`. A second delivery of the same event finds its runs already started and reports them as
 * duplicates without driving them again.
 */
import { RUNNABLE_TASK_TYPES } from '../definition/index.js';
import {
  AppendConflictError,
  HandlerError,
  LedgerflowError,
  RunBusyError,
  UnsupportedTaskTypeError,
} from '../errors/index.js';
import { MAX_JSON_DEPTH, nestsDeeperThan, type WorkflowStatus } from '../events/index.js';
import { handlersForStartedRun, missingHandlers, type Handlers, type RunView } from '../runtime/index.js';
import { Engine, type EngineOptions } from '../local/index.js';
import { assertOwnStart, systemClock } from '../executor/index.js';
import { overridden, type EventStore, type RunLease } from '../store/index.js';
import type { LoadedDefinition } from '../files/index.js';
import { loadHandlerModule } from '../handlers/index.js';
import { admitEvent, type RejectionStage } from './admit.js';
import type { DeadLetterSink } from './deadletter.js';
import type { TriggerEvent } from './envelope.js';
import type { EventTypeSpec } from './schemas.js';
import { gatedOutcome, isGated, TriggerGates, type GatedStart, type GateLog, type GateStore } from './gates.js';

export interface EmitOptions extends Omit<EngineOptions, 'store'> {
  store: EventStore;
  catalog: { loaded: readonly LoadedDefinition[]; eventTypes: ReadonlyMap<string, EventTypeSpec> };
  deadLetters: DeadLetterSink;
  /** The handlers of the run whose EMIT this is (an EMIT task's): each run started gets them, plus its own `handlers:` module (handlersForStartedRun). */
  handlers?: Handlers;
  /** Default: loadHandlerModule (TypeScript through tsx). */
  loadHandlers?: (path: string) => Promise<Handlers>;
  maxTimerWaitMs?: number;
  /** Stops driving (Ctrl-C); runs not driven yet stay in the log for `resume`. */
  signal?: AbortSignal;
  /** A stop by `signal` is a clean one (Ctrl-C): attempts in flight are given back, not lost (DriveOptions.releaseOnStop). */
  releaseOnStop?: boolean;
  /** false: record the runs only, driving none (a `Service` on the store drives them, as `ledgerflow demo` does). Default true. */
  drive?: boolean;
  /** How many parent runs the emitting run has (an EMIT's runs count as its children, to bound a cycle of emits). */
  depth?: number;
  /** Awaited before each driven run's lease is released (DriveOptions.beforeLeaseRelease: the CLI waits for the run's notification deliveries). */
  beforeLeaseRelease?: (runId: string) => Promise<void>;
  /** Called once per matching workflow after every run is recorded, before any is driven. */
  onRunStarted?: (run: { runId: string; workflowId: string; version: number; duplicate: boolean }) => void;
  /** Where debounced and throttled triggers keep their state and decision log (gate-file.ts on the embedded store); needed when a matching trigger has one. */
  gates?: { store: GateStore; log: GateLog };
}

/** What a debounce or throttle made of the event, per matching gated trigger (docs/triggers.md#debounce-and-throttle). */
export interface GatedOutcome {
  workflowId: string;
  version: number;
  trigger: number;
  kind: 'debounce' | 'throttle';
  key: string;
  /** started: its run started now (it is in `runs` too); debounced: a burst holds it; queued: waits for the window; dropped; duplicate: this gate has it already. */
  decision: 'started' | 'debounced' | 'queued' | 'dropped' | 'duplicate' | 'merged';
  runId?: string;
  /** debounced / queued: when it is due (ISO), if nothing else arrives. */
  dueAt?: string;
  reason?: string;
}

export interface EmittedRun {
  runId: string;
  workflowId: string;
  version: number;
  /** Index of the trigger that matched in the definition's `triggers`. */
  trigger: number;
  /** The event had already started this run (a redelivery): nothing was written or driven now. */
  duplicate: boolean;
  status: WorkflowStatus;
  view: RunView;
}

export type EmitResult =
  | { accepted: true; event: TriggerEvent; warnings: string[]; runs: EmittedRun[]; gated: GatedOutcome[] }
  | { accepted: false; event: unknown; stage: RejectionStage; reason: string; problems: string[]; deadLetter: string };

/**
 * Engine.start does not say whether its run.started was new: the store dedups a repeated start (same dedup id) and
 * returns `duplicate: true`, or, past a JetStream duplicate window, refuses it with AppendConflictError. This view of
 * the store notes both, per run. Everything else is the store's own (store/overridden.ts): a view made of the required
 * methods alone started its runs without the file store's run lease (a `serve` beside `ledgerflow emit` ran the same
 * attempt again), without its blobs (an event's large field stayed in the log) and without its shared documents.
 */
function watchStarts(store: EventStore): { store: EventStore; duplicates: Set<string> } {
  const duplicates = new Set<string>();
  const append: EventStore['append'] = async (req) => {
    try {
      const r = await store.append(req);
      if (req.expectedSeq === 0 && r.duplicate) duplicates.add(req.runId);
      return r;
    } catch (err) {
      if (req.expectedSeq === 0 && err instanceof AppendConflictError) duplicates.add(req.runId);
      throw err;
    }
  };
  const watched = overridden(store, new Map([['append', append]]));
  return { store: watched, duplicates };
}

/**
 * What a dead letter keeps of a refused event, and what the refusal gives back (`emit --json`, the dashboard): the
 * event, or, when it nests too deep to be written as text (events/json-depth.ts; its data is what was refused), its
 * top-level fields that are not objects (id, type, time).
 */
function keptOf(raw: unknown): unknown {
  if (!nestsDeeperThan(raw, MAX_JSON_DEPTH + 1)) return raw;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return null;
  return Object.fromEntries(Object.entries(raw).filter(([, v]) => v === null || typeof v !== 'object'));
}

export async function emitEvent(raw: unknown, opts: EmitOptions): Promise<EmitResult> {
  const {
    store,
    catalog,
    deadLetters,
    handlers: starter = {},
    loadHandlers = loadHandlerModule,
    maxTimerWaitMs,
    signal,
    releaseOnStop,
    onRunStarted,
    depth,
    drive = true,
    beforeLeaseRelease,
    gates: gateBackend,
    ...engineOpts
  } = opts;
  const clock = engineOpts.clock ?? systemClock;
  const admission = admitEvent(raw, {
    definitions: catalog.loaded.map((l) => l.definition),
    eventTypes: catalog.eventTypes,
  });
  if (!admission.accepted) {
    const { stage, reason, problems } = admission;
    const event = keptOf(raw);
    const deadLetter = await deadLetters.put({
      deadLetteredAt: new Date(clock.now()).toISOString(),
      stage,
      reason,
      problems,
      event,
    });
    return { accepted: false, event, stage, reason, problems, deadLetter };
  }

  // Everything that could refuse a start is checked for every match first: either all runs start or none.
  const handlerCache = new Map<string, Handlers>();
  const plans = [];
  for (const match of admission.matches) {
    const loaded = catalog.loaded.find((l) => l.definition === match.definition)!;
    const unsupported = match.definition.tasks.find((t) => !RUNNABLE_TASK_TYPES.includes(t.type));
    if (unsupported) throw new UnsupportedTaskTypeError(unsupported.id, unsupported.type);
    const path = loaded.handlersPath;
    let own: Handlers | undefined;
    if (path) {
      own = handlerCache.get(path) ?? (await loadHandlers(path));
      handlerCache.set(path, own);
    }
    const handlers = handlersForStartedRun(starter, own);
    const missing = missingHandlers(match.definition.tasks, handlers);
    if (missing.length > 0) {
      const where = opts.handlers
        ? "the module its `handlers:` names or the emitting run's handler module (--handlers)"
        : 'the module its `handlers:` names';
      throw new HandlerError(
        'LF_HANDLER_NOT_FOUND',
        `workflow ${match.definition.id} (${loaded.file}) has no handler for ${missing.map((m) => `task ${m.task} (named "${m.handler}")`).join(', ')}; export ${missing.length > 1 ? 'them' : 'it'} from ${where}`,
        { workflowId: match.definition.id, missing: missing.map((m) => m.handler) },
      );
    }
    plans.push({ match, loaded, handlers, path });
  }

  const watch = watchStarts(store);
  const engine = new Engine({ ...engineOpts, store: watch.store });
  const started: { plan: (typeof plans)[number]; duplicate: boolean; runId: string }[] = [];
  const gated: GatedOutcome[] = [];
  const gatedPlans = plans.filter((p) => isGated(p.match.trigger));
  if (gatedPlans.length > 0 && !gateBackend) {
    throw new LedgerflowError(
      'LF_TRIGGER_GATES_UNAVAILABLE',
      `event ${admission.event.id} matches a debounced or throttled trigger (${gatedPlans.map((p) => `${p.match.definition.id} triggers[${p.match.triggerIndex}]`).join(', ')}), but this emitter keeps no trigger gates; emit it with \`ledgerflow emit\` on a store directory, or over NATS`,
      { eventId: admission.event.id },
    );
  }
  // The runs this process drives are leased before they exist, as `run` leases its run (executor/start-commit.ts): a
  // `serve` on the same store finds them driven, instead of taking one between its start and its drive (then this
  // emit said RUNNING, exit 3, of a run that went on elsewhere). A run another process drives already is left to it.
  const leases = new Map<string, RunLease>();
  const leaseFor = async (runId: string): Promise<void> => {
    if (!drive || !store.leaseRun) return;
    try {
      leases.set(runId, await store.leaseRun(runId));
    } catch (err) {
      if (!(err instanceof RunBusyError)) throw err;
    }
  };
  const release = async (runId: string): Promise<void> => {
    const lease = leases.get(runId);
    if (!lease) return;
    leases.delete(runId);
    try {
      await beforeLeaseRelease?.(runId);
    } finally {
      await lease.release();
    }
  };
  /** A run of the plan's workflow started; one there already is this event's own start delivered again (a duplicate), or refused. */
  const startRun = async (
    plan: (typeof started)[number]['plan'],
    s: Pick<GatedStart, 'definition' | 'input' | 'runId' | 'source'>,
  ): Promise<{ duplicate: boolean }> => {
    const { match, loaded, handlers, path } = plan;
    await leaseFor(s.runId);
    try {
      await engine.start(s.definition, s.input, {
        runId: s.runId,
        handlers,
        source: { file: loaded.file, ...(path ? { handlers: path } : {}), ...s.source },
      });
    } catch (err) {
      if (!(err instanceof AppendConflictError && watch.duplicates.has(s.runId))) {
        await release(s.runId);
        throw err;
      }
    }
    const duplicate = watch.duplicates.has(s.runId);
    // A duplicate is not driven here (its status is reported): its lease goes at once.
    if (duplicate) await release(s.runId);
    if (duplicate) await assertOwnStart(store, s.runId, s.definition.id, s.source);
    started.push({ plan, duplicate, runId: s.runId });
    onRunStarted?.({ runId: s.runId, workflowId: match.definition.id, version: match.definition.version, duplicate });
    return { duplicate };
  };
  try {
    for (const plan of gatedPlans) {
      const { match } = plan;
      // A gate may start runs now (a throttle with room, a burst that went quiet while nothing ticked): started here like an ungated match's.
      const gates = new TriggerGates({
        store: gateBackend!.store,
        log: gateBackend!.log,
        now: () => clock.now(),
        definitions: () => catalog.loaded.map((l) => l.definition),
        start: (s) => startRun(plan, s),
      });
      gated.push(gatedOutcome(match, await gates.arrive(match, admission.event)));
    }
    for (const plan of plans) {
      const { match } = plan;
      // source.event: the event that started the run, as the NATS engines record it (list --trigger event:<id>).
      if (!isGated(match.trigger))
        await startRun(plan, {
          definition: match.definition,
          input: match.input,
          runId: match.runId,
          source: { event: admission.event.id },
        });
    }

    const runs: EmittedRun[] = [];
    for (const {
      plan: { match, handlers },
      duplicate,
      runId,
    } of started) {
      let view: RunView;
      try {
        view =
          duplicate || !drive || signal?.aborted
            ? await engine.status(runId)
            : await engine.drive(runId, {
                handlers,
                ...(maxTimerWaitMs !== undefined ? { maxTimerWaitMs } : {}),
                ...(signal ? { signal } : {}),
                ...(releaseOnStop ? { releaseOnStop } : {}),
                ...(depth !== undefined ? { depth } : {}),
                ...(beforeLeaseRelease ? { beforeLeaseRelease } : {}),
                ...(leases.has(runId) ? { heldLease: leases.get(runId)! } : {}),
              });
      } catch (err) {
        // Another process drives the run (a `ledgerflow serve` on this store that held it before this emit could): it is driven there.
        if (!(err instanceof RunBusyError)) throw err;
        view = await engine.status(runId);
      } finally {
        await release(runId);
      }
      runs.push({
        runId,
        workflowId: match.definition.id,
        version: match.definition.version,
        trigger: match.triggerIndex,
        duplicate,
        status: view.status,
        view,
      });
    }
    return { accepted: true, event: admission.event, warnings: admission.warnings, runs, gated };
  } finally {
    // Whatever was not driven (a start refused after others were leased, a drive that threw) lets its runs go.
    for (const runId of [...leases.keys()]) await release(runId);
  }
}
