/**
 * A run's first commit, the in-process Engine's way in: the definition and input checked, run.started folded, and (when
 * this process is about to drive the run) the starts of its first tasks in the same commit, appended at sequence 0.
 * Retry from failed is the same start, of the definition and input the old run recorded, with the outputs the new run
 * reuses.
 */
import { RUNNABLE_TASK_TYPES, type Definition } from '../definition/index.js';
import type { CompiledWorkflow } from '../compiler/index.js';
import { HandlerError, RunCannotStartError, UnsupportedTaskTypeError } from '../errors/index.js';
import {
  definitionRecord,
  markBuiltByFold,
  type EventEnvelope,
  type PendingEvent,
  type RunSource,
} from '../events/index.js';
import type { EventStore, RunLease } from '../store/index.js';
import type { Clock } from './clock.js';
import { newRunId, randomHex } from './ids.js';
import { appendCommit } from './run-log.js';
import { evaluateLoaded, externalizeFields } from './payloads.js';
import {
  applyEvent,
  startedOf,
  NEW_RUN_STATE_HASH_VERSION,
  recordedState,
  envelopeOf,
  startFold,
  type RunSnapshot,
  missingHandlers,
  type Handlers,
  prepareInput,
  workflowOf,
  prepareCommit,
  assertRetryable,
  retryPlan,
  withFoldedStates,
  pushFolded,
  reuseOf,
  forkPoint,
  forkPlan,
  forkInput,
  assertForkTarget,
} from '../runtime/index.js';
import type { Loaded, LoadedRunLog, RetryOptions, StartOptions } from './start-options.js';
import { type Admission, admissionOf, checkPriority, decideLimitedStart, readLimits } from '../limits/index.js';

/** Where a start is recorded, and the clock that stamps it. */
export interface Starter {
  store: EventStore;
  clock: Clock;
}

/**
 * A run just started: the state its start commit leads to; `before`: the state run.started made;
 * `startEvents`: the whole start commit, run.started first (a run that waits or settles at its start is
 * told to onCommit too); `lease`: held when this process is about to drive it.
 */
export type Begun = Loaded & {
  before: RunSnapshot;
  startEvents: EventEnvelope[];
  lease?: RunLease;
  admitted?: string[];
};

/**
 * Checks the input and records run.started, with the starts of the first tasks in the same commit when this process is
 * about to run them. Returns the state it recorded, so driving it needs no read-back.
 */
export async function beginRun(
  { store, clock }: Starter,
  def: Definition,
  rawInput: Record<string, unknown>,
  opts: StartOptions & {
    handlers?: Handlers;
    exclusive?: boolean;
    agentQueues?: ReadonlySet<string>;
    forkedBy?: string;
  },
  withStarts: boolean,
): Promise<Begun> {
  // startEvents: the whole start commit, run.started first (a run that waits or settles at its start is told to onCommit too).
  const unsupported = def.tasks.find((t) => !RUNNABLE_TASK_TYPES.includes(t.type));
  if (unsupported) throw new UnsupportedTaskTypeError(unsupported.id, unsupported.type);
  // Fields too large to be inline are kept apart now, after the input was checked against its declaration.
  const input = await externalizeFields(
    prepareInput(def, rawInput, { fromStrings: opts.inputFromStrings ?? false }),
    store.blobs?.(),
    def.inlineLimit,
  );
  if (opts.handlers) {
    // A retry's or fork's reused tasks call no handler: the module needs those of the tasks it will run.
    const reused = reuseOf(opts.source)?.outputs ?? {};
    const toRun = def.tasks.filter((t) => !Object.hasOwn(reused, t.id));
    const missing = missingHandlers(toRun, opts.handlers, opts.agentQueues);
    if (missing.length > 0) {
      throw new HandlerError(
        'LF_HANDLER_NOT_FOUND',
        `no handler for ${missing.map((m) => `task ${m.task} (named "${m.handler}")`).join(', ')}; export ${missing.length > 1 ? 'them' : 'it'} from the handler module (the \`handlers\` option, or the definition's \`handlers:\`)`,
        { missing: missing.map((m) => m.handler) },
      );
    }
  }
  const runId = opts.runId ?? newRunId(clock.now());
  // The caller's definition object keeps its workflow value: hashed and compiled on its first start only.
  const compiled = workflowOf(def);
  const hash = compiled.hash;
  const time = new Date(clock.now()).toISOString();
  const retryOf = reuseOf(opts.source);
  // A start's priority over the workflow's, recorded in run.started (it orders the run's waits for task gates too).
  const priority = checkPriority(opts.priority);
  const given = priority !== undefined ? { priority } : {};
  // Every new run records its state hashes in format 2 (runtime/state-hash.ts); older runs keep format 1.
  const foldAt = (at: string) =>
    startFold(compiled, {
      runId,
      time: at,
      input,
      ...(retryOf ? { retryOf } : {}),
      stateHashVersion: NEW_RUN_STATE_HASH_VERSION,
      ...given,
    });
  const record = (at: string, snapshot: RunSnapshot, queued: Admission | null) =>
    recordStart({ store, clock }, def, input, opts, withStarts, { runId, hash, compiled, time: at, snapshot, queued });
  const snapshot = foldAt(time);
  // The fold threw while entering the first states (XState's 'error' status): refuse, before anything is written.
  if (snapshot.status === 'error') {
    throw new RunCannotStartError(
      def.id,
      snapshot.error instanceof Error ? snapshot.error.message : String(snapshot.error),
      { cause: snapshot.error },
    );
  }
  const adm = admissionOf(def, input, opts.priority);
  if (!adm) return record(time, snapshot, null);
  // concurrency: decided under the (workflow, key) lock with every start and admission waiting in this process, the
  // queued runs a free slot lets in admitted first (limits/admission-batch.ts). A start is stamped when it was decided
  // (not when it began waiting for the lock).
  const { value: begun, admitted } = await decideLimitedStart(store, clock, def, runId, adm, (queued) => {
    const at = new Date(clock.now()).toISOString();
    return record(at, foldAt(at), queued ? adm : null);
  });
  return admitted.length > 0 ? { ...begun, admitted } : begun;
}

interface Prepared {
  runId: string;
  hash: string;
  compiled: CompiledWorkflow;
  time: string;
  snapshot: RunSnapshot;
  queued: Admission | null;
}

/** Appends the start commit: run.started, then run.queued (nothing starts) or the first tasks' starts when this process drives the run. */
async function recordStart(
  { store, clock }: Starter,
  def: Definition,
  input: Record<string, unknown>,
  opts: StartOptions & { exclusive?: boolean; forkedBy?: string },
  drive: boolean,
  p: Prepared,
): Promise<Begun> {
  const { runId, hash, compiled, time, snapshot, queued } = p;
  const withStarts = drive && queued === null;
  const started: EventEnvelope = {
    runId,
    workflowId: def.id,
    version: def.version,
    seq: 1,
    time,
    state: recordedState(snapshot),
    type: 'run.started',
    data: {
      definition: definitionRecord(def),
      definitionHash: hash,
      input,
      stateHashVersion: NEW_RUN_STATE_HASH_VERSION,
      ...(snapshot.context.priority !== undefined ? { priority: snapshot.context.priority } : {}),
      ...(opts.source ? { source: opts.source } : {}),
    },
  };
  // A run id we generated gets a unique dedup id, so even an id collision can never merge two runs
  // (the second start fails on the expected sequence); a given id (e.g. derived from a trigger
  // event) keeps a fixed one, so starting it again is an idempotent retry. An exclusive start (a
  // caller-chosen id: caller-start.ts) must learn that another start got there first, so it is unique too.
  const dedupKey = opts.runId && !opts.exclusive ? 'start' : `start-${randomHex(6)}`;
  // A retry's reused tasks that are ready at once complete in the start commit, driven here or not:
  // they need no executor, and a HUMAN or WAIT among them would otherwise wait for a step that may never come.
  const retryOf = reuseOf(opts.source);
  const reuses = retryOf !== undefined && Object.keys(retryOf.outputs ?? {}).length > 0;
  const limited = withStarts ? compiled.bound(await readLimits(store)) : undefined;
  // A fork's run.forked (seq 2) records who forked it from where; it changes no state, so what follows is as for any start.
  const fork = forkedEvent(opts, runId, time, snapshot);
  const last = fork ? 2 : 1;
  const first =
    queued !== null
      ? queuedCommit(compiled, snapshot, time, queued, last)
      : withStarts || reuses
        ? prepareCommit(limited ?? compiled, snapshot, last, [], clock.now(), { startScheduled: withStarts })
        : { events: [], snapshot, seq: last };
  // A run this process is about to drive is leased before it exists: a `serve` scanning the store
  // meanwhile finds it driven, instead of taking it between its start and this process's lease.
  const lease = withStarts ? await store.leaseRun?.(runId) : undefined;
  const startEvents = markBuiltByFold([started]);
  withFoldedStates(startEvents, [snapshot]);
  if (fork) pushFolded(startEvents, withFoldedStates([fork], [snapshot]));
  pushFolded(startEvents, first.events);
  try {
    // The value's JSON is of this very object only when the value is its own (not another object's of the same hash).
    await appendCommit(store, runId, 0, dedupKey, startEvents, compiled.definition === def ? compiled.json : undefined);
  } catch (err) {
    await lease?.release();
    throw err;
  }
  return {
    compiled,
    snapshot: first.snapshot,
    seq: first.seq,
    before: snapshot,
    startEvents,
    ...(opts.source ? { source: opts.source } : {}),
    ...(lease ? { lease } : {}),
    ...(limited ? { limited } : {}),
  };
}

/** A fork's run.forked, event 2 of its start commit (the state is run.started's); undefined for any other start. */
function forkedEvent(
  opts: StartOptions & { forkedBy?: string },
  runId: string,
  time: string,
  snapshot: RunSnapshot,
): EventEnvelope | undefined {
  const f = opts.source?.forked;
  if (!f) return undefined;
  const ev: PendingEvent = {
    type: 'run.forked',
    time,
    data: { from: f.from, at: f.at, ...(opts.forkedBy ? { by: opts.forkedBy } : {}) },
  };
  return envelopeOf(runId, 2, ev, snapshot);
}

/** run.queued after run.started (and a fork's run.forked): the run waits QUEUED for a slot, nothing started. */
function queuedCommit(
  compiled: CompiledWorkflow,
  snapshot: RunSnapshot,
  time: string,
  adm: Admission,
  last: number,
): { events: EventEnvelope[]; snapshot: RunSnapshot; seq: number } {
  const ev: PendingEvent = {
    type: 'run.queued',
    time,
    data: { priority: adm.priority, key: adm.key, limit: adm.limit, holds: true },
  };
  const after = applyEvent(compiled, snapshot, ev).snapshot;
  return { events: [envelopeOf(after.context.runId, last + 1, ev, after)], snapshot: after, seq: last + 1 };
}

/**
 * The start of a retry of the FAILED or CANCELLED run `runId` (Engine.retry, Engine.runRetry), or with `opts.fork` of a
 * fork of any run at a point (Engine.fork): one start reusing what completed; `load`: the Engine's.
 */
export async function beginRetry(
  starter: Starter,
  load: (runId: string) => Promise<LoadedRunLog>,
  runId: string,
  opts: RetryOptions,
  withStarts: boolean,
): Promise<Begun> {
  const old = await load(runId);
  const first = startedOf(old.events[0], runId);
  const { fork } = opts;
  if (!fork) assertRetryable(runId, old.snapshot);
  // Where the definition and handlers came from (resume finds them again); no parent, event or schedule: a person started this one.
  const { file, handlers } = fork?.definition ? (fork.source ?? {}) : (old.source ?? {});
  const where = { ...(file ? { file } : {}), ...(handlers ? { handlers } : {}) };
  let def = old.compiled.definition;
  let input: Record<string, unknown> = first.data.input;
  let source: RunSource;
  let forkedBy: string | undefined;
  if (fork) {
    // The run's workflow as it is now (a migrated run's new version), unless the fork names another.
    if (fork.definition) def = fork.definition;
    const point = forkPoint(runId, old.events, fork.at);
    // Refused before anything is written: a definition that cannot go on from the point, an input it does not take.
    assertForkTarget(runId, old.compiled.definition, def, point);
    input = forkInput(def, first.data.input, fork.input ?? {});
    const checked = prepareInput(def, input, { fromStrings: fork.inputFromStrings ?? false });
    // What the fork reuses is what its start reaches as the original did, with this input (runtime/fork-reuse.ts); a
    // DECISION that reads a large output loads it, as the start's own fold will.
    const outputs = await evaluateLoaded(starter.store.blobs?.(), () =>
      forkPlan(workflowOf(def), old.events, point, { input: checked, ...(opts.runId ? { runId: opts.runId } : {}) }),
    );
    const by = fork.by ?? opts.by;
    source = {
      ...where,
      forked: { from: runId, at: point, outputs },
      ...(opts.by ? { by: opts.by } : {}),
    };
    forkedBy = by;
  } else {
    source = {
      ...where,
      retryOf: { runId, outputs: retryPlan(old.compiled, old.snapshot) },
      ...(opts.by ? { by: opts.by } : {}),
    };
  }
  return beginRun(
    starter,
    def,
    input,
    {
      source,
      ...(forkedBy ? { forkedBy } : {}),
      ...(fork?.inputFromStrings ? { inputFromStrings: true } : {}),
      ...(opts.runId ? { runId: opts.runId } : {}),
      ...(opts.handlers ? { handlers: opts.handlers } : {}),
      ...(opts.agentQueues ? { agentQueues: opts.agentQueues } : {}),
    },
    withStarts,
  );
}
