/**
 * Running paths against the real runtime: an Engine on a MemoryEventStore, a virtual clock, and handlers that answer
 * what the path (or expectation) says — no real handler, no real waiting. The run is then replayed from its log and
 * must reach exactly the live state.
 */
import { instanceFields, instanceKey } from '../compiler/index.js';
import { isDeepStrictEqual } from 'node:util';
import { NonRetryableError } from '../errors/index.js';
import type { Definition, TaskDef } from '../definition/index.js';
import type { EventEnvelope, PendingEvent, TaskError } from '../events/index.js';
import {
  handlerName,
  replayRun,
  toTaskError,
  type Handlers,
  type RunView,
  type TaskHandler,
} from '../runtime/index.js';
import { Engine, type ChildExecutor, type ChildOutcome, type DriverHooks } from '../local/index.js';
import { MemoryEventStore } from '../store/index.js';
import { nextTurn, VirtualClock } from './clock.js';
import { MODEL_T0 } from './model.js';
import { SAMPLE_BRANCHES } from './outputs.js';

/** How a scripted handler answers one attempt: return this, throw this, or never answer (until aborted). */
export type Answer = { output: unknown } | { error: TaskError } | 'hang';

/** What a path (or expectation) answers an attempt of a task: its task, attempt, abort signal and instance. */
type Answerer = (task: TaskDef, attempt: number, signal: AbortSignal, instance: string) => Promise<unknown>;
/** What every scripted runner here needs of an attempt's context, whatever it was asked to run. */
interface AttemptContext {
  taskId: string;
  attempt: number;
  signal: AbortSignal;
  iteration?: number | undefined;
  item?: number | undefined;
}

/** The answer to one attempt, by its context: the one lookup every scripted runner below makes. */
function answerByContext(def: Definition, answer: Answerer): (ctx: AttemptContext) => Promise<unknown> {
  const byId = new Map(def.tasks.map((t) => [t.id, t]));
  // `instance`: the task, or its item (`fan[1]`), as instances.ts names it.
  return (ctx) =>
    answer(byId.get(ctx.taskId)!, ctx.attempt, ctx.signal, instanceKey({ task: ctx.taskId, ...instanceFields(ctx) }));
}

/** One handler per handler name; it asks `answer` by task and attempt, so tasks sharing a handler name are told apart. */
export function scriptedHandlers(def: Definition, answer: Answerer): Handlers {
  const handlers: Handlers = {};
  const byContext = answerByContext(def, answer);
  for (const t of def.tasks) {
    // A MAP with its own handler runs it per item (an iterator's is registered as the SIMPLE task it is).
    if (t.type !== 'SIMPLE' && !(t.type === 'MAP' && !t.iterator)) continue;
    // Defined, not assigned: a handler named `__proto__` is a handler, not the object's prototype.
    const handler: TaskHandler = (_input, ctx) => byContext(ctx);
    // A FORK_DYNAMIC's branches on generated paths run handlers named after them (outputs.ts SAMPLE_BRANCHES).
    const names = t.type === 'MAP' && t.fork ? SAMPLE_BRANCHES.map((b) => b.id) : [handlerName(t)];
    for (const name of names)
      Object.defineProperty(handlers, name, { enumerable: true, configurable: true, writable: true, value: handler });
  }
  // A handler named by a template (`handler: ${...}`) is chosen when the attempt starts: any name it resolves to is
  // answered the same way, by the task and attempt its context names.
  if (!def.tasks.some((t) => t.type === 'SIMPLE' && handlerName(t).includes('${'))) return handlers;
  const any: TaskHandler = (_input, ctx) => byContext(ctx);
  const anyDescriptor = { enumerable: true, configurable: true, writable: true, value: any };
  return new Proxy(handlers, {
    get: (target, name) => (typeof name === 'string' && !(name in target) ? any : Reflect.get(target, name)),
    getOwnPropertyDescriptor: (target, name) =>
      Reflect.getOwnPropertyDescriptor(target, name) ?? (typeof name === 'string' ? anyDescriptor : undefined),
  });
}

/**
 * SUB_WORKFLOW and EMIT attempts answered like handlers: the path (or expectation) says whether the child run completes
 * (its output) or fails, and what an EMIT's attempt returns. No child run is started.
 */
function scriptedChildren(def: Definition, answer: Answerer): ChildExecutor {
  const byId = new Map(def.tasks.map((t) => [t.id, t]));
  // `instance`: the task, or the MAP item (`fan[1]`) whose body is a workflow, as instances.ts names it.
  const outcome = async (
    task: string,
    attempt: number,
    signal: AbortSignal,
    instance: string = task,
  ): Promise<ChildOutcome> => {
    try {
      return { kind: 'completed', output: await answer(byId.get(task)!, attempt, signal, instance) };
    } catch (err) {
      return { kind: 'failed', error: toTaskError(err) };
    }
  };
  return {
    startChild: async (effect, control) => {
      // A failure workflow (no task): nothing to answer; the path ends with the run.
      if (effect.parent.task === undefined || control.signal.aborted) return { kind: 'waiting' };
      return outcome(
        effect.parent.task,
        effect.parent.attempt!,
        control.signal,
        instanceKey({ task: effect.parent.task, ...instanceFields(effect.parent) }),
      );
    },
    emit: async (effect, control) => {
      const r = await outcome(effect.taskId, effect.attempt, control.signal, effect.instance);
      if (r.kind === 'failed') throw Object.assign(new Error(r.error.message), r.error);
      return r.kind === 'completed' ? r.output : null;
    },
  };
}

/** Turns an Answer into what a handler does. */
export function perform(a: Answer, signal: AbortSignal): Promise<unknown> {
  if (a === 'hang')
    return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
  if ('output' in a) return Promise.resolve(a.output);
  const err = a.error.retryable
    ? Object.assign(new Error(a.error.message), { retryable: true, code: a.error.code })
    : new NonRetryableError(a.error.message, a.error.code);
  return Promise.reject(err);
}

/** Waits until the run's log stops growing: everything that can happen without time passing has happened. */
export async function settle(store: MemoryEventStore, runId: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    const before = await store.lastSeq(runId);
    await nextTurn();
    await nextTurn();
    if ((await store.lastSeq(runId)) === before) return;
  }
}

export interface LiveRun {
  store: MemoryEventStore;
  engine: Engine;
  clock: VirtualClock;
  runId: string;
  /**
   * Drives the run until it is idle (settled, or waiting for a person), starting a new drive when the last one went
   * idle, as `ledgerflow resume` does after an approval; resolves with the live state.
   */
  resume: () => Promise<RunView>;
  stop: () => void;
}

/** Nothing is sent or run for real, so `${secrets.NAME}` gets a stand-in: a path needs no secret set to be tested. */
const STAND_IN_SECRETS = {
  label: 'the coverage harness (a stand-in for each secret)',
  get: async (name: string) => `[secret ${name}]`,
};

/** Starts a run on a fresh memory store (or the given empty one) with a virtual clock starting at the model's start time. */
export async function startLive(
  def: Definition,
  input: Record<string, unknown>,
  answer: Answerer,
  opts: { runId: string; auto: boolean; hooks?: (run: () => LiveRun) => DriverHooks; store?: MemoryEventStore },
): Promise<LiveRun> {
  const store = opts.store ?? new MemoryEventStore();
  const controller = new AbortController();
  let current: Promise<RunView> | null = null;
  let idle = true;
  const stop = () => {
    clock.stop();
    controller.abort();
  };
  // Quiet with nothing armed while a drive still waits (on an attempt that never answers): nothing can end it.
  const clock: VirtualClock = new VirtualClock(Date.parse(MODEL_T0), {
    auto: opts.auto,
    onStall: () => {
      if (!idle) stop();
    },
  });
  let live: LiveRun | null = null;
  // COMMAND, HTTP and TRANSFORM attempts answered like handlers: the path (or expectation) says what each gives; nothing is spawned, sent or run.
  const byContext = answerByContext(def, answer);
  const engine = new Engine({
    store,
    clock,
    secrets: STAND_IN_SECRETS,
    children: scriptedChildren(def, answer),
    ...(opts.hooks ? opts.hooks(() => live!) : {}),
    runCommand: (_command, _input, ctx) => byContext(ctx),
    runHttp: (_request, ctx) => byContext(ctx),
    runTransform: (_jq, _input, ctx) => byContext(ctx),
  });
  const handlers = scriptedHandlers(def, answer);
  await engine.start(def, input, { runId: opts.runId, handlers });
  const resume = (): Promise<RunView> => {
    if (!idle || controller.signal.aborted) return current!;
    idle = false;
    // The model's handlers stand for a worker with every skill the definition requires (docs/limits.md#skills).
    current = engine
      .drive(opts.runId, {
        handlers,
        skills: new Set(def.tasks.flatMap((t) => t.requires ?? [])),
        maxTimerWaitMs: Number.POSITIVE_INFINITY,
        signal: controller.signal,
      })
      .finally(() => {
        idle = true;
      });
    return current;
  };
  live = { store, engine, clock, runId: opts.runId, resume, stop };
  resume();
  return live;
}

/** The replay check every run gets: the log, folded again, must give the state the live run ended in. */
export function replayProblem(events: EventEnvelope[], live: RunView): string | null {
  const report = replayRun(events);
  if (report.divergence)
    return `replaying the log diverges at event ${report.divergence.seq} (${report.divergence.type}): ${report.divergence.reason}`;
  if (!isDeepStrictEqual(report.view, live))
    return 'replaying the log gives a different state than the live run ended in';
  return null;
}

/** `task.failed scan_files #2`, `timer.fired timeout of scan_files #1`, `approval.recorded alert_cmd_bridge rejected`. */
export function describeEvent(e: PendingEvent | EventEnvelope): string {
  switch (e.type) {
    case 'task.started':
    case 'task.completed':
    case 'task.failed':
      return `${e.type} ${e.data.task} #${e.data.attempt}`;
    case 'timer.fired':
      return e.data.timer === 'run_timeout'
        ? 'timer.fired run timeout'
        : `timer.fired ${e.data.timer} of ${e.data.task} #${e.data.attempt}`;
    case 'approval.recorded':
      return `approval.recorded ${e.data.task} ${e.data.decision} by ${e.data.by}`;
    case 'signal.received':
      return `signal.received ${e.data.name}${e.data.by ? ` by ${e.data.by}` : ''}`;
    default:
      return e.type;
  }
}
