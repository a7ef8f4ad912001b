/**
 * What path coverage counts. The edges of each task region and each decision case, not global interleavings
 * (docs/coverage.md): every state and every transition of each task's region, read from the compiled config, every
 * decision case, and the run's own running → completed | failed. Items a definition rules out by construction (no
 * timeout configured, no retries, a root task that nothing can skip) are listed as excluded with the reason and not
 * counted; everything else must be covered or explained.
 */
import {
  isFinal,
  isIsoTime,
  listOf,
  type CompiledWorkflow,
  type RegionConfig,
  type TaskStatus,
} from '../compiler/index.js';
import {
  decisionTargets,
  effectiveDependencies,
  iteratorMap,
  loopOwners,
  type Definition,
  type MapTask,
  type TaskDef,
} from '../definition/index.js';
import { SAMPLE_ITEMS } from './outputs.js';

export type ItemKind = 'state' | 'transition' | 'decisionCase';

/** One thing to cover. `task` is null for the run itself (top-level states and transitions). */
export interface Item {
  kind: ItemKind;
  task: string | null;
  item: string;
}
export interface ExcludedItem extends Item {
  reason: string;
}
interface ItemCatalog {
  /** Counted: each must be covered by a path or explained. */
  applicable: Item[];
  excluded: ExcludedItem[];
}

export const itemKey = (i: Item): string => `${i.kind}|${i.task ?? ''}|${i.item}`;

/** The run's own edge out of `running` when its timeout fires. */
export const RUN_TIMEOUT_ITEM = (to: string) => `running → ${to} on run timeout`;

/** Region state of a task status (a bijection but for CANCELLED, which is the run leaving `running`, not a region edge). */
export const REGION_STATE: Record<TaskStatus, string | null> = {
  PENDING: 'pending',
  SCHEDULED: 'scheduled',
  IN_PROGRESS: 'running',
  RETRYING: 'retrying',
  PENDING_APPROVAL: 'awaiting_approval',
  COMPLETED: 'done',
  FAILED: 'failed',
  TIMED_OUT: 'timed_out',
  SKIPPED: 'skipped',
  CANCELLED: null,
  WAITING: 'waiting',
};

/** `running → retrying on task.failed`; eventless edges (guards over the context) have no `on`. */
export const edgeName = (from: string, to: string, on: string | null): string =>
  `${from} → ${to}${on ? ` on ${on}` : ''}`;

export interface Edge {
  from: string;
  to: string;
  on: string | null;
}
/** The edges of one region, straight from the chart the machine is built from. */
function regionEdges(taskId: string, region: RegionConfig): { states: string[]; edges: Edge[] } {
  const edges: Edge[] = [];
  for (const [from, node] of Object.entries(region.states)) {
    if (isFinal(node)) continue;
    for (const t of listOf(node.always)) edges.push({ from, to: t.target, on: null });
    for (const [type, ts] of Object.entries(node.on ?? {})) {
      const on = type.endsWith(`.${taskId}`) ? type.slice(0, -(taskId.length + 1)) : type;
      for (const t of listOf(ts)) edges.push({ from, to: t.target, on });
    }
  }
  return { states: Object.keys(region.states), edges };
}

function casesOf(t: TaskDef): string[] {
  return t.type === 'DECISION' ? [...t.cases.map((c) => c.name), ...(t.defaultNext ? ['default'] : [])] : [];
}

/**
 * Why nothing can make a task skip, or null when something may: a decision routes to it, or a dependency can end
 * without success (any task with a handler or a person can fail; a skipped dependency can skip it too), unless its
 * trigger_rule (all_done) runs it whatever its dependencies do.
 */
function unskippable(def: Definition): Map<string, string | null> {
  const deps = effectiveDependencies(def);
  const byId = new Map(def.tasks.map((t) => [t.id, t]));
  const gated = new Set(def.tasks.flatMap((t) => (t.type === 'DECISION' ? decisionTargets(t) : [])));
  const memo = new Map<string, boolean>();
  const waitMayFail = (t: TaskDef | undefined) =>
    t?.type === 'WAIT' && (t.until !== undefined || (t.event !== undefined && t.timeoutMs !== undefined));
  const mayEndBadly = (id: string): boolean =>
    ['SIMPLE', 'COMMAND', 'HTTP', 'SUB_WORKFLOW', 'EMIT', 'TRANSFORM', 'HUMAN', 'DECISION', 'MAP', 'DO_WHILE'].includes(
      byId.get(id)?.type ?? '',
    ) ||
    waitMayFail(byId.get(id)) ||
    maySkip(id);
  const maySkip = (id: string): boolean => {
    if (memo.has(id)) return memo.get(id)!;
    memo.set(id, false); // cycles are reported elsewhere
    const t = byId.get(id)!;
    const own =
      gated.has(id) ||
      (t.type === 'HUMAN' && t.onTimeout === 'skip' && t.timeoutMs !== undefined) ||
      (t.type === 'WAIT' && t.event !== undefined && t.onTimeout === 'skip' && t.timeoutMs !== undefined);
    const viaDeps = t.triggerRule !== 'all_done' && (deps.get(id) ?? []).some((d) => byId.has(d) && mayEndBadly(d));
    memo.set(id, own || viaDeps);
    return own || viaDeps;
  };
  return new Map(
    def.tasks.map((t) => {
      if (maySkip(t.id)) return [t.id, null];
      const ds = deps.get(t.id) ?? [];
      if (ds.length === 0)
        return [t.id, `${t.id} has no dependencies and no decision routes to it, so nothing can make it skip`];
      if (t.triggerRule === 'all_done')
        return [
          t.id,
          `${t.id} runs whatever its dependencies do (trigger_rule all_done) and no decision routes to it, so nothing can make it skip`,
        ];
      return [
        t.id,
        `${t.id}'s dependencies (${ds.join(', ')}) always complete and no decision routes to it, so nothing can make it skip`,
      ];
    }),
  );
}

/** Whether a decision of a loop's `body` may route to task `id`. */
const routedInBody = (def: Definition, body: Set<string>, id: string) =>
  def.tasks.some((d) => d.type === 'DECISION' && body.has(d.id) && decisionTargets(d).includes(id));

/** Why a decision cannot fail (every case routes to an existing task), or null (also for any other task). */
function decisionCannotFail(def: Definition, t: TaskDef): string | null {
  const known = new Set(def.tasks.map((x) => x.id));
  if (t.type !== 'DECISION' || !decisionTargets(t).every((n) => known.has(n))) return null;
  return `every case of ${t.id} routes to existing tasks, so the decision cannot fail`;
}

/** Whether a body task can be skipped in an iteration that goes on: a decision's other case, a skipping approval, an optional dependency's failure, or such a skip upstream. */
function quietSkip(def: Definition, t: TaskDef, body: Set<string>, seen: Set<string>): boolean {
  if (seen.has(t.id)) return false;
  seen.add(t.id);
  if (t.type === 'HUMAN' && t.onTimeout === 'skip' && t.timeoutMs !== undefined) return true;
  if (routedInBody(def, body, t.id)) return true;
  return t.dependsOn
    .filter((d) => body.has(d))
    .some((d) => {
      const dep = def.tasks.find((x) => x.id === d)!;
      return dep.optional || quietSkip(def, dep, body, seen);
    });
}

/** Why an edge of a loop-body task's region cannot be taken, or null (then the general reasons apply). */
function bodyEdgeExclusion(def: Definition, t: TaskDef, loop: string, e: Edge): string | null {
  const touches = (s: string) => e.from === s || e.to === s;
  if (
    touches('iteration_timed_out') &&
    (t.type === 'SIMPLE' || t.type === 'COMMAND' || t.type === 'HTTP') &&
    t.timeoutMs === undefined
  )
    return `${t.id} has no timeout, so no attempt can time out`;
  if (
    touches('iteration_timed_out') &&
    t.type !== 'SIMPLE' &&
    t.type !== 'COMMAND' &&
    t.type !== 'HTTP' &&
    t.type !== 'HUMAN'
  )
    return `a ${t.type} task does not time out`;
  if (touches('iteration_timed_out') && t.type === 'HUMAN' && (t.onTimeout !== 'fail' || t.timeoutMs === undefined))
    return `${t.id} cannot time out (${t.timeoutMs === undefined ? 'no timeout' : `on_timeout: ${t.onTimeout}`})`;
  const decided = e.to === 'iteration_failed' ? decisionCannotFail(def, t) : null;
  if (decided !== null) return decided;
  if (e.from === 'iteration_failed' && e.to === 'pending' && !t.optional)
    return `${t.id} is required: its failure fails loop ${loop}, so no next iteration follows it`;
  if (e.from === 'iteration_timed_out' && e.to === 'pending' && !t.optional)
    return `${t.id} is required: its timing out fails loop ${loop}, so no next iteration follows it`;
  if (touches('iteration_skipped')) {
    const body = new Set(def.tasks.flatMap((x) => (x.type === 'DO_WHILE' && x.id === loop ? x.loopOver : [])));
    const gated = routedInBody(def, body, t.id);
    const human = t.type === 'HUMAN' && t.onTimeout === 'skip' && t.timeoutMs !== undefined;
    if (!gated && !human && !t.dependsOn.some((d) => body.has(d)))
      return `${t.id} waits for no task of loop ${loop}'s body and no decision routes to it, so nothing skips it within an iteration`;
    if (e.from === 'iteration_skipped' && e.to === 'pending' && !quietSkip(def, t, body, new Set())) {
      return `${t.id} is skipped in an iteration only when a required task of loop ${loop}'s body failed, which fails the loop: no next iteration follows`;
    }
  }
  return null;
}

/** Why an edge of this task's region cannot be taken, whatever the handlers do; null when it can. */
function edgeExclusion(
  def: Definition,
  t: TaskDef,
  e: Edge,
  noSkip: string | null,
  iterators: ReadonlyMap<string, MapTask>,
  loop?: string,
  loopNoSkip?: string | null,
): string | null {
  const inBody = loop === undefined ? null : bodyEdgeExclusion(def, t, loop, e);
  if (inBody !== null) return inBody;
  // A body task leaves pending for skipped only when its loop never ran: when the loop was skipped.
  if (loop !== undefined && e.from === 'pending' && e.to === 'skipped')
    return loopNoSkip ? `${t.id} is skipped before it runs only when loop ${loop} is, and ${loopNoSkip}` : null;
  // HUMAN and WAIT take a task.completed only as a retry's reused output (runtime/retry.ts).
  if ((t.type === 'HUMAN' || t.type === 'WAIT') && e.on === 'task.completed')
    return `${t.id} completes without its ${t.type === 'HUMAN' ? 'approval' : 'signal or time'} only in a retry that reuses the run it retries (ledgerflow retry): an outside action, not a branch of the definition; the retry tests cover it`;
  if (e.on === 'task.released')
    return 'an attempt is given back when the process running it is stopped cleanly (Ctrl-C, SIGTERM): the runtime stopping, not a branch of the definition; the runtime and CLI tests cover it';
  if (e.on === 'task.restarted')
    return 'an attempt restarts when the process running it is lost (a worker that stopped answering, a resume after a crash): the runtime recovering, not a branch of the definition; the runtime tests cover it';
  const work =
    t.type === 'SIMPLE' ||
    t.type === 'COMMAND' ||
    t.type === 'HTTP' ||
    t.type === 'SUB_WORKFLOW' ||
    t.type === 'EMIT' ||
    t.type === 'TRANSFORM';
  if (work && e.on === 'timer.timeout' && t.timeoutMs === undefined)
    return `${t.id} has no timeout, so no attempt can time out`;
  if (work && (e.to === 'retrying' || e.from === 'retrying') && t.retry.maxAttempts <= 1) {
    return `${t.id} has no retries (max_attempts ${t.retry.maxAttempts})`;
  }
  if (t.type === 'WAIT') {
    const kept =
      'a signal sent before the WAIT is reached is kept (pending → pending changes no status) and taken on entering: outside timing, not a branch of the definition; the runtime tests cover it';
    if (e.from === 'pending' && e.to === 'pending') return kept;
    if (e.from === 'waiting' && e.to === 'done' && e.on === null) return kept;
    if (
      e.from === 'pending' &&
      e.to === 'failed' &&
      t.until !== undefined &&
      !t.until.includes('${') &&
      isIsoTime(t.until)
    )
      return `${t.id}'s until is a fixed valid time, so it cannot be malformed`;
    if (e.on === 'timer.timeout' && t.timeoutMs === undefined)
      return `${t.id} has no timeout, so it waits for its signal indefinitely`;
  }
  if (t.type === 'MAP') {
    const body = t.iterator ? (def.tasks.find((b) => b.id === t.iterator) ?? t) : t;
    if (e.on === 'timer.timeout' && body.timeoutMs === undefined)
      return `the items of ${t.id} have no timeout (${body.id} sets none), so no item can time out`;
    if (e.on === 'timer.backoff' && body.retry.maxAttempts <= 1)
      return `the items of ${t.id} have no retries (max_attempts ${body.retry.maxAttempts})`;
    const tolerated = t.optional ? Infinity : (t.tolerateFailures ?? 0);
    if (e.to === 'failed' && tolerated >= SAMPLE_ITEMS.length) {
      return `${t.id} tolerates ${t.optional ? 'every failed item (optional)' : `${tolerated} failed items`}, more than the ${SAMPLE_ITEMS.length} items generated paths map over; only items that are not a list fail it: script that in an expectation`;
    }
  }
  if (t.type === 'HUMAN' && e.on === 'timer.approval_timeout' && t.timeoutMs === undefined)
    return `${t.id} has no approval deadline (timeout), so it waits for a person indefinitely`;
  const map = iterators.get(t.id);
  if (map && e.from === 'pending' && e.to === 'skipped') {
    // An iterator mirrors its MAP: skipped when the MAP ends without completing, which only an optional MAP does in a run that goes on.
    return map.optional
      ? null
      : `${t.id} mirrors MAP ${map.id}, which is not optional: when it fails the run fails, so ${t.id} is never skipped`;
  }
  if (e.from === 'pending' && e.to === 'skipped' && noSkip !== null) return noSkip;
  return e.to === 'failed' ? decisionCannotFail(def, t) : null;
}

export function catalogItems(compiled: CompiledWorkflow): ItemCatalog {
  const def = compiled.definition;
  const applicable: Item[] = [];
  const excluded: ExcludedItem[] = [];
  const add = (i: Item, reason: string | null) =>
    reason === null ? applicable.push(i) : excluded.push({ ...i, reason });
  const noSkip = unskippable(def);
  const iterators = iteratorMap(def.tasks);
  const regions = compiled.config.states.running.states;

  const run = (item: string, kind: ItemKind) => ({ kind, task: null, item });
  add(run('running', 'state'), null);
  add(run('completed', 'state'), null);
  add(run('failed', 'state'), null);
  add(run('running → completed', 'transition'), null);
  add(run('running → failed', 'transition'), null);
  const cancel =
    'cancelling is an outside action (ledgerflow cancel), not a branch of the definition; the runtime tests cover it';
  // The workflow's run timeout is a way for a run to end (FAILED, or CANCELLED under timeout_policy: cancel).
  if (def.timeoutMs !== undefined)
    add(run(RUN_TIMEOUT_ITEM(def.timeoutPolicy === 'cancel' ? 'cancelled' : 'failed'), 'transition'), null);
  add(run('cancelled', 'state'), def.timeoutMs !== undefined && def.timeoutPolicy === 'cancel' ? null : cancel);
  add(run('running → cancelled on run.cancel', 'transition'), cancel);

  const loops = loopOwners(def);
  for (const t of def.tasks) {
    const { states, edges: all } = regionEdges(t.id, regions[t.id]!);
    // A MAP's item events are self-transitions on `mapping`, two per event type where a guard picks retry or not: one item each.
    const edges = all.filter((e, i) => all.findIndex((o) => o.from === e.from && o.to === e.to && o.on === e.on) === i);
    const loop = loops.get(t.id);
    const edgeReasons = edges.map((e) =>
      edgeExclusion(
        def,
        t,
        e,
        noSkip.get(t.id) ?? null,
        iterators,
        loop,
        loop === undefined ? null : (noSkip.get(loop) ?? null),
      ),
    );
    edges.forEach((e, i) =>
      add({ kind: 'transition', task: t.id, item: edgeName(e.from, e.to, e.on) }, edgeReasons[i]!),
    );
    for (const s of states) {
      if (s === 'pending') {
        add({ kind: 'state', task: t.id, item: s }, null);
        continue;
      }
      const incoming = edges.map((e, i) => ({ e, reason: edgeReasons[i]! })).filter(({ e }) => e.to === s);
      const open = incoming.filter((x) => x.reason === null);
      const reason =
        incoming.length === 0
          ? `no transition of a ${t.type} task's region leads to ${s}`
          : open.length === 0
            ? incoming[0]!.reason
            : null;
      add({ kind: 'state', task: t.id, item: s }, reason);
    }
    for (const c of casesOf(t)) add({ kind: 'decisionCase', task: t.id, item: c }, null);
  }
  return { applicable, excluded };
}
