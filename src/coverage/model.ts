/**
 * The model xstate/graph walks: the compiled machine, stepped by the runtime's own fold (`applyEvent`), plus what the
 * scripted world has promised (which attempts will never answer) and which one task may leave the happy path. Pure.
 *
 * It behaves like the live runtime with scripted handlers, so a path can be replayed against the real engine event for
 * event:
 * 1. tasks the fold scheduled are started first, in definition order (as `prepareCommit` appends their task.started in
 *    the same commit);
 * 2. then the first task, in definition order, that can answer now does: a handler returns or throws, a person approves
 *    or rejects — or it is left hanging, so its timeout can fire later;
 * 3. only when nothing can answer does time move: the earliest timer fires.
 * Acting on one task at a time instead of every interleaving of parallel tasks keeps the graph linear in the number of
 * tasks; allowing one task per path off the happy path (retry, failure, timeout, rejection) and stopping the walk once
 * it has settled keeps it so with many tasks. For decisions: one may leave its happy case only while no independent one
 * has (a decision inside the chosen branch still may), and how a task settled is forgotten once nothing left depends on
 * it, so decisions one after another or side by side do not multiply either.
 */
import { fromTransition } from 'xstate';
import { ACTIVE_TASK_STATUSES, instanceFields, RUN_TIMER_TASK, type CompiledWorkflow } from '../compiler/index.js';
import { effectiveDependencies, type Definition, type Upstream } from '../definition/index.js';
import { conditionRefs, findRefs } from '../expressions/index.js';
import type { PendingEvent, TaskError } from '../events/index.js';
import { applyEvent, NEW_RUN_STATE_HASH_VERSION, startFold, type RunSnapshot } from '../runtime/index.js';
import type { DecisionPlan } from './outputs.js';
import { getIn } from './values.js';

/** The run id and start time of every model run; the harness starts the real run with the same, so states hash alike. */
export const MODEL_RUN_ID = 'lf-path';
export const MODEL_T0 = '2026-01-01T00:00:00.000Z';

export interface ModelState {
  run: RunSnapshot;
  /** `task/attempt` of attempts (or approvals) that will never answer: only a timer moves them on. */
  hung: string[];
  /** The one task allowed off the happy path; null until one leaves it. */
  focus: string | null;
  /** How its attempts went wrong so far: F (failed), T (timed out), M (both), so "times out on every attempt" is told apart from mixes. */
  story: '' | 'F' | 'T' | 'M';
}

/**
 * A step of the model: an event of the log, or a promise that an attempt will not answer (no event of its own). `hang`
 * of the task `$run` (RUN_TIMER_TASK): nothing answers any more, so the workflow's run timeout ends the run.
 */
export type ModelAction = { type: 'log'; event: PendingEvent } | { type: 'hang'; task: string; attempt: number };

export interface ModelOptions {
  /** Outputs each SIMPLE task may return; the first is the happy one. */
  variants: Map<string, unknown[]>;
  plan: DecisionPlan;
  /** task → the tasks whose running depends on it (they wait for it, or a decision among them reads it). */
  dependents: Map<string, string[]>;
  /** decision → the case its happy outputs choose. */
  happyCases: Map<string, string>;
  /** task → every task it waits for, transitively. */
  upstream: Upstream;
  /**
   * `ledgerflow verify`: every task may leave the happy path on every path (any number of them), every output variant
   * is offered at every answer, and the run is never left to its timeout as a whole. Off for `paths`.
   */
  exhaustive?: boolean;
}

/** Who depends on each task: its effective dependents, and decisions whose param or conditions name it. */
export function dependentsOf(def: Definition): Map<string, string[]> {
  const out = new Map<string, string[]>(def.tasks.map((t) => [t.id, []]));
  for (const [task, deps] of effectiveDependencies(def)) for (const d of deps) out.get(d)?.push(task);
  for (const t of def.tasks) {
    if (t.type !== 'DECISION') continue;
    const refs = [
      ...(t.decisionParam ? findRefs(t.decisionParam).map((r) => r.ref) : []),
      ...t.cases.flatMap((c) => (c.condition ? conditionRefs(c.condition) : [])),
    ];
    for (const r of refs) if (r.kind === 'task') out.get(r.task)?.push(t.id);
  }
  return out;
}

const SCRIPTED_ERROR = (attempt: number): TaskError => ({
  message: `scripted failure of attempt ${attempt}`,
  code: 'SCRIPTED_FAILURE',
  retryable: true,
});
const SETTLED = ['COMPLETED', 'FAILED', 'TIMED_OUT', 'SKIPPED', 'CANCELLED'];

const isHung = (s: ModelState, task: string, attempts: number) => s.hung.includes(`${task}/${attempts}`);

export function approverOf(compiled: CompiledWorkflow, task: string): string {
  const t = compiled.definition.tasks.find((x) => x.id === task);
  // Who may act on it: a HUMAN task's first approver, a WAIT's first `from:` sender.
  return (
    (t?.type === 'HUMAN' ? t.approvers[0] : t?.type === 'WAIT' ? t.signalers?.[0] : undefined) ??
    t?.assignedTo ??
    'tester'
  );
}

export function initialModel(compiled: CompiledWorkflow, input: Record<string, unknown>): ModelState {
  return {
    run: startFold(compiled, {
      runId: MODEL_RUN_ID,
      time: MODEL_T0,
      input,
      stateHashVersion: NEW_RUN_STATE_HASH_VERSION,
    }),
    hung: [],
    focus: null,
    story: '',
  };
}

/** Applies one action. Throws if the machine refuses an event: the model only offers what the machine takes. */
export function stepModel(compiled: CompiledWorkflow, s: ModelState, a: ModelAction): ModelState {
  if (a.type === 'hang')
    return { ...s, hung: [...s.hung, `${a.task}/${a.attempt}`].sort(), focus: a.task.replace(/\[\d+\]$/, '') };
  const runHung = s.focus === RUN_TIMER_TASK;
  const r = applyEvent(compiled, s.run, a.event);
  if (!r.accepted)
    throw new Error(
      `path model offered ${a.event.type} ${JSON.stringify(a.event.data)}, which the machine does not take`,
    );
  const ctx = r.snapshot.context;
  // A promise not to answer ends with its attempt (a timer fired, the run ended).
  const hung = s.hung.filter((h) => {
    const [key, attempt] = [h.slice(0, h.lastIndexOf('/')), Number(h.slice(h.lastIndexOf('/') + 1))];
    // A MAP item's promise is keyed `task[i]`: it ends with the item's attempt.
    const m = /^(.*)\[(\d+)\]$/.exec(key);
    if (key === RUN_TIMER_TASK) return r.snapshot.status === 'active';
    const t = m ? ctx.tasks[m[1]!]!.items?.[Number(m[2])] : ctx.tasks[key]!;
    return (
      r.snapshot.status === 'active' &&
      t !== undefined &&
      ['IN_PROGRESS', 'PENDING_APPROVAL', 'WAITING'].includes(t.status) &&
      t.attempts === attempt
    );
  });
  const e = a.event;
  const task = 'task' in e.data ? e.data.task : null;
  const deviates = e.type === 'task.failed' || (e.type === 'approval.recorded' && e.data.decision === 'rejected');
  const focus = runHung ? s.focus : (s.focus ?? (deviates ? task : null));
  const kind = e.type === 'task.failed' ? 'F' : e.type === 'timer.fired' && e.data.timer === 'timeout' ? 'T' : null;
  const story = kind && task === focus ? (s.story === '' || s.story === kind ? kind : 'M') : s.story;
  return { run: r.snapshot, hung, focus, story };
}

/**
 * What may happen next (the first entry is the happy one). With `happyOnly`, only that: every answer succeeds with the
 * first output, every approval is given. Used to finish a path once its one deviation has played out.
 */
export function modelActions(
  compiled: CompiledWorkflow,
  opts: ModelOptions,
  s: ModelState,
  happyOnly = false,
): ModelAction[] {
  const { run } = s;
  if (run.status !== 'active') return [];
  const ctx = run.context;
  const time = ctx.updatedAt;
  const log = (event: PendingEvent): ModelAction => ({ type: 'log', event });
  const tasks = compiled.definition.tasks;

  const scheduled = tasks.find((t) => ctx.tasks[t.id]!.status === 'SCHEDULED');
  if (scheduled) {
    const st = ctx.tasks[scheduled.id]!;
    return [
      log({
        type: 'task.started',
        time,
        data: { task: scheduled.id, attempt: st.attempts + 1, ...instanceFields(st) },
      }),
    ];
  }
  // MAP items the fold scheduled start next, in item order (prepareCommit appends them after the tasks').
  for (const t of tasks) {
    const items = ctx.tasks[t.id]!.items;
    const item = items?.findIndex((it) => it.status === 'SCHEDULED') ?? -1;
    if (item >= 0)
      return [log({ type: 'task.started', time, data: { task: t.id, attempt: items![item]!.attempts + 1, item } })];
  }
  // Nothing answers once the run was left to its timeout: only timers move it on.
  if (s.focus === RUN_TIMER_TASK) return timerActions(ctx, time, log);
  // The run left to its timeout, offered once: where the first answer of the run is to be given.
  const runHang: ModelAction[] =
    !happyOnly && !opts.exhaustive && s.focus === null && ctx.timers[RUN_TIMEOUT_TIMER] && firstAnswer(ctx)
      ? [{ type: 'hang', task: RUN_TIMER_TASK, attempt: 1 }]
      : [];

  for (const t of tasks) {
    const mapping = ctx.tasks[t.id]!.items;
    if (mapping) {
      // A MAP answers for its first item at work that has not been promised to hang: the MAP is the one task off the happy path.
      const item = mapping.findIndex(
        (it, i) => it.status === 'IN_PROGRESS' && !isHung(s, `${t.id}[${i}]`, it.attempts),
      );
      if (item < 0) continue;
      const attempt = mapping[item]!.attempts;
      const free = !happyOnly && (opts.exhaustive || s.focus === null || s.focus === t.id);
      const body = t.type === 'MAP' && t.iterator ? (tasks.find((b) => b.id === t.iterator) ?? t) : t;
      const output = (opts.variants.get(body.id) ?? [{}])[0];
      const done = log({ type: 'task.completed', time, data: { task: t.id, attempt, item, output } });
      if (!free) return [done];
      const hang: ModelAction[] =
        body.timeoutMs !== undefined ? [{ type: 'hang', task: `${t.id}[${item}]`, attempt }] : [];
      return [
        done,
        log({ type: 'task.failed', time, data: { task: t.id, attempt, item, error: SCRIPTED_ERROR(attempt) } }),
        ...hang,
      ];
    }
    const st = ctx.tasks[t.id]!;
    // A DO_WHILE runs no attempt of its own: its body tasks answer.
    if (t.type === 'DO_WHILE') continue;
    if (!['IN_PROGRESS', 'PENDING_APPROVAL', 'WAITING'].includes(st.status) || isHung(s, t.id, st.attempts)) continue;
    const it = instanceFields(st);
    const free = !happyOnly && (opts.exhaustive || s.focus === null || s.focus === t.id);
    const attempt = st.attempts;
    const hang: ModelAction[] = free && t.timeoutMs !== undefined ? [{ type: 'hang', task: t.id, attempt }] : [];
    if (st.status === 'WAITING') {
      // A WAIT on the clock answers nothing: its timer fires when nothing else can happen. One on an event gets its
      // signal (the happy path), or, off it, none, so its timeout fires.
      if (t.type !== 'WAIT' || t.event === undefined) continue;
      const data = opts.variants.get(t.id)?.[0] ?? {};
      const signal = log({
        type: 'signal.received',
        time,
        data: { name: t.event, data, by: approverOf(compiled, t.id) },
      });
      return free ? [signal, ...hang, ...runHang] : [signal];
    }
    if (st.status === 'PENDING_APPROVAL') {
      const by = approverOf(compiled, t.id);
      const decision = (d: 'approved' | 'rejected') =>
        log({ type: 'approval.recorded', time, data: { task: t.id, decision: d, by } });
      return free ? [decision('approved'), decision('rejected'), ...hang, ...runHang] : [decision('approved')];
    }
    // Decision cases are chosen here, by the outputs offered: every variant before any deviation, the happy one after
    // it. And once a decision took another case than its happy one, only tasks inside that branch (downstream of it)
    // may steer further decisions: independent decisions are not combined.
    const outputs = opts.variants.get(t.id) ?? [{}];
    const steered = compiled.definition.tasks.some(
      (d) =>
        d.type === 'DECISION' &&
        ctx.tasks[d.id]!.decision?.case &&
        ctx.tasks[d.id]!.decision!.case !== opts.happyCases.get(d.id) &&
        !opts.upstream.has(t.id, d.id),
    );
    const offered = !happyOnly && (opts.exhaustive || (s.focus === null && !steered)) ? outputs : outputs.slice(0, 1);
    const done = offered.map((output) =>
      log({ type: 'task.completed', time, data: { task: t.id, attempt, output, ...it } }),
    );
    return free
      ? [
          ...done,
          log({ type: 'task.failed', time, data: { task: t.id, attempt, error: SCRIPTED_ERROR(attempt), ...it } }),
          ...hang,
          ...runHang,
        ]
      : done;
  }
  return timerActions(ctx, time, log);
}

const RUN_TIMEOUT_TIMER = `${RUN_TIMER_TASK}/run_timeout/1`;

/** No task has answered yet (none settled, every attempt its first): the one state the run is left to its timeout from. */
function firstAnswer(ctx: ModelState['run']['context']): boolean {
  for (const id in ctx.tasks) {
    const t = ctx.tasks[id]!;
    if (SETTLED.includes(t.status) || t.attempts > 1 || t.items) return false;
  }
  return true;
}

/** Nothing can answer: time moves to the earliest timer (ties in the order they were armed, as the virtual clock does). */
function timerActions(
  ctx: ModelState['run']['context'],
  time: string,
  log: (event: PendingEvent) => ModelAction,
): ModelAction[] {
  const timers = Object.values(ctx.timers);
  if (timers.length === 0) return [];
  const next = timers.reduce((a, b) => (Date.parse(b.dueAt) < Date.parse(a.dueAt) ? b : a));
  const at = Date.parse(next.dueAt) > Date.parse(time) ? next.dueAt : time;
  return [
    log({
      type: 'timer.fired',
      time: at,
      data: { task: next.task, timer: next.kind, attempt: next.attempt, ...instanceFields(next) },
    }),
  ];
}

/** The walk stops where the path's one deviation has settled: the rest of it is happy and needs no graph. */
export function stopped(s: ModelState): boolean {
  if (s.run.status !== 'active') return true;
  if (s.focus === RUN_TIMER_TASK) return false;
  return s.focus !== null && SETTLED.includes(s.run.context.tasks[s.focus]!.status);
}

/**
 * What tells two model states apart: each task's status (which is its region's state), the attempt of tasks still at
 * work, the case each decision chose, the outputs undecided decisions will read, and the promises, focus and its story.
 * Not outputs in general, times, the attempts of settled tasks, nor how a task settled once nothing that is left
 * depends on it: so settled history collapses and the graph stays small.
 */
export function serializeModel(compiled: CompiledWorkflow, opts: ModelOptions, s: ModelState): string {
  const ctx = s.run.context;
  const settled = (id: string) => SETTLED.includes(ctx.tasks[id]!.status);
  const tasks = compiled.definition.tasks.map((t) => {
    const st = ctx.tasks[t.id]!;
    const working =
      ACTIVE_TASK_STATUSES.includes(st.status) || st.status === 'PENDING_APPROVAL' || st.status === 'WAITING';
    // A loop's iterations are states of their own (the body's tasks run again in each); so are a MAP's items.
    if (working) {
      const own = st.items ? [st.status, st.items.map((it) => [it.status, it.attempts])] : [st.status, st.attempts];
      return st.iteration === undefined ? own : [...own, st.iteration];
    }
    // How a task settled stops mattering once nothing left to run depends on it: without this, every combination of
    // earlier decision cases would stay a state of its own.
    if (settled(t.id) && (opts.dependents.get(t.id) ?? []).every(settled)) return '·';
    return [st.status, st.decision?.case ?? ''];
  });
  const reads: unknown[] = [];
  for (const [decision, vars] of opts.plan.reads) {
    // A loop reads its condition's values at the end of every iteration: while it runs.
    const status = ctx.tasks[decision]!.status;
    if (status !== 'PENDING' && !(status === 'IN_PROGRESS' && ctx.tasks[decision]!.iteration !== undefined)) continue;
    for (const v of vars) reads.push(getIn(ctx.tasks[v.owner]?.output, v.path) ?? null);
  }
  return JSON.stringify([s.run.status === 'active' ? '' : s.run.value, tasks, reads, s.hung, s.focus, s.story]);
}

/** The model as an xstate actor logic, so xstate/graph can walk it. */
export function modelLogic(compiled: CompiledWorkflow, input: Record<string, unknown>) {
  return fromTransition(
    (s: ModelState, a: ModelAction) => stepModel(compiled, s, a),
    () => initialModel(compiled, input),
  );
}
