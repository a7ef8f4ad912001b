/**
 * Path generation. xstate/graph walks the model (model.ts) from each input: `getAdjacencyMap` gives every model state
 * and every step out of it, and the shortest way to each state. A step that covers something no chosen path covers yet
 * becomes a path: the shortest way to its state, the step, then the happy continuation to the end of the run. So there
 * is about one path per coverage item, never one per interleaving.
 */
import { getAdjacencyMap, type AdjacencyMap, type TraversalOptions } from 'xstate/graph';
import { compile, type CompiledWorkflow, type TaskStatus } from '../compiler/index.js';
import { upstreamOf, type Definition, type JsonValue } from '../definition/index.js';
import { LedgerflowError, errorMessage } from '../errors/index.js';
import type { PendingEvent, RecordedState, WorkflowStatus } from '../events/index.js';
import { recordedState, runStatus } from '../runtime/index.js';
import { explainUncovered, type BrokenCase, type Uncovered } from './explain.js';
import { catalogItems, itemKey, type ExcludedItem, type Item, type ItemKind } from './items.js';
import { stepItems } from './step-items.js';
import {
  dependentsOf,
  modelActions,
  modelLogic,
  serializeModel,
  stepModel,
  stopped,
  type ModelAction,
  type ModelOptions,
  type ModelState,
} from './model.js';
import { pathName } from './naming.js';
import { baseInput, inputVariants, outputVariants, planDecisions } from './outputs.js';

export interface GeneratedPath {
  name: string;
  input: Record<string, JsonValue>;
  /** The log the run should write after run.started, event for event. */
  events: PendingEvent[];
  /** The state each event leads to (as recorded in the log): the model's side of the lockstep check. */
  states: RecordedState[];
  outcome: WorkflowStatus;
  /** Each task's status when the path ends (and a decision's case): what the real run must record. */
  tasks: Record<string, { status: TaskStatus; case?: string | null }>;
  /** Keys of the items (itemKey) the path covers. */
  covers: string[];
}

export interface Tally {
  covered: number;
  total: number;
}
export interface CoverageTally {
  states: Tally;
  transitions: Tally;
  decisionCases: Tally;
}

export interface PathReport {
  workflowId: string;
  paths: GeneratedPath[];
  coverage: CoverageTally;
  /** The same per task (the run's own states and transitions count only in the whole). */
  tasks: Record<string, CoverageTally>;
  uncovered: Uncovered[];
  /** Not counted: ruled out by the definition itself (no timeout, no retries, ...), each with why. */
  excluded: ExcludedItem[];
}

interface GenerateOptions {
  /** Most model states visited per input before giving up (xstate/graph's `limit`; it throws rather than truncating). */
  limit?: number;
}

/** A step out of a model state: the shortest way there, then this step. */
interface Candidate {
  actions: ModelAction[];
  states: ModelState[];
  local: string[];
  order: [number, number];
}
interface Built {
  actions: ModelAction[];
  states: ModelState[];
  items: Item[];
}

/** The second pass builds whole paths to look for what only a continuation covers; past this many, what is left is explained instead. */
const SECOND_PASS_BUILDS = 2_000;

/** How many different kinds of deviation a path mixes (fail, hang, reject): fewer reads better ("times out on all 3 attempts"), so it sorts first. */
function mixed(actions: ModelAction[]): number {
  const kinds = new Set(
    actions.map((a) =>
      a.type === 'hang'
        ? 'h'
        : a.event.type === 'task.failed'
          ? 'f'
          : a.event.type === 'approval.recorded' && a.event.data.decision === 'rejected'
            ? 'r'
            : '',
    ),
  );
  kinds.delete('');
  return kinds.size;
}

/** The candidate's steps, then the happy continuation to the end of the run, with every item covered on the way. */
function build(compiled: CompiledWorkflow, opts: ModelOptions, c: Candidate): Built {
  const def = compiled.definition;
  const actions = [...c.actions];
  const states = [...c.states];
  for (
    let s = states.at(-1)!, next = modelActions(compiled, opts, s, true)[0];
    next;
    next = modelActions(compiled, opts, s, true)[0]
  ) {
    s = stepModel(compiled, s, next);
    actions.push(next);
    states.push(s);
  }
  const items = stepItems(def, null, states[0]!.run, null);
  actions.forEach((a, i) =>
    items.push(...stepItems(def, states[i]!.run, states[i + 1]!.run, a.type === 'log' ? a.event : null)),
  );
  return { actions, states, items };
}

/**
 * Every step out of every model state reachable from `input`, each with the shortest way to where it starts.
 * getAdjacencyMap builds the map breadth first, so the first step found into a state lies on a shortest path to it;
 * reading the shortest paths off the map (rather than calling getShortestPaths, which would walk the whole graph a
 * second time) halves the cost of generation.
 */
function walk(
  compiled: CompiledWorkflow,
  opts: ModelOptions,
  input: Record<string, unknown>,
  limit: number,
): Candidate[] {
  const logic = modelLogic(compiled, input);
  type Snap = ReturnType<typeof logic.transition>;
  const serialize = (snap: Snap) => serializeModel(compiled, opts, snap.context);
  const options: TraversalOptions<Snap, ModelAction, unknown> = {
    serializeState: serialize,
    events: (snap) => modelActions(compiled, opts, snap.context),
    stopWhen: (snap) => stopped(snap.context),
    limit,
  };
  let adjacency: AdjacencyMap<Snap, ModelAction>;
  try {
    adjacency = getAdjacencyMap(logic, options);
  } catch (err) {
    if (errorMessage(err) !== 'Traversal limit exceeded') throw err;
    throw new LedgerflowError(
      'LF_PATHS_LIMIT',
      `path generation for ${compiled.definition.id} stopped after ${limit} model states: its decisions multiply into too many combinations to walk; raise the limit or split the workflow`,
      { workflowId: compiled.definition.id, limit },
    );
  }
  // Keyed by a branded string, which Object.values cannot see through.
  const steps = (key: string) =>
    Object.values(adjacency[key as keyof typeof adjacency]!.transitions) as { event: ModelAction; state: Snap }[];
  const root = Object.keys(adjacency)[0]!;
  const way = new Map<string, { actions: ModelAction[]; states: ModelState[] }>([
    [root, { actions: [], states: [adjacency[root as keyof typeof adjacency]!.state.context] }],
  ]);
  const out: Candidate[] = [];
  const def = compiled.definition;
  for (const [key, w] of way) {
    const from = w.states.at(-1)!;
    for (const { event, state } of steps(key)) {
      const to = state.context;
      const next = { actions: [...w.actions, event], states: [...w.states, to] };
      const k = serialize(state);
      if (!way.has(k) && adjacency[k as keyof typeof adjacency]) way.set(k, next);
      const local = stepItems(def, from.run, to.run, event.type === 'log' ? event.event : null).map(itemKey);
      out.push({ ...next, local, order: [mixed(next.actions), next.actions.length] });
    }
  }
  return out.sort((a, b) => a.order[0] - b.order[0] || a.order[1] - b.order[1]);
}

function tally(items: Item[], covered: Set<string>): CoverageTally {
  const t = (kind: ItemKind): Tally => {
    const of = items.filter((i) => i.kind === kind);
    return { covered: of.filter((i) => covered.has(itemKey(i))).length, total: of.length };
  };
  return { states: t('state'), transitions: t('transition'), decisionCases: t('decisionCase') };
}

export function generatePaths(def: Definition, opts: GenerateOptions = {}): PathReport {
  const compiled = compile(def);
  const catalog = catalogItems(compiled);
  const base = baseInput(def);
  const plan = planDecisions(def, base);
  const happyCases = new Map(
    [...plan.choices].flatMap(([d, cases]) => (cases.size ? [[d, [...cases.keys()][0]!] as const] : [])),
  );
  const model: ModelOptions = {
    variants: outputVariants(def, plan),
    plan,
    dependents: dependentsOf(def),
    happyCases,
    upstream: upstreamOf(def),
  };
  const applicable = new Set(catalog.applicable.map(itemKey));
  const known = new Set(def.tasks.map((t) => t.id));
  const covered = new Set<string>();
  // Covered, or known not to be coverable by more paths (a case routing to an unknown task): nothing more to look for.
  const settled = new Set<string>();
  const paths: GeneratedPath[] = [];
  const broken: BrokenCase[] = [];
  const ran = new Set<string>();

  const take = (input: Record<string, JsonValue>, b: Built) => {
    const keys = [...new Set(b.items.map(itemKey))];
    const final = b.states.at(-1)!.run;
    const tasks: GeneratedPath['tasks'] = {};
    for (const [id, t] of Object.entries(final.context.tasks)) {
      tasks[id] = { status: t.status, ...(t.decision ? { case: t.decision.case } : {}) };
      if (t.status !== 'PENDING' && t.status !== 'SKIPPED' && t.status !== 'CANCELLED') ran.add(id);
    }
    let name = pathName(compiled, b.actions, b.states, happyCases);
    for (let n = 2; paths.some((p) => p.name === name); n++) name = `${name.replace(/ \(\d+\)$/, '')} (${n})`;
    for (const [id, t] of Object.entries(final.context.tasks)) {
      const unknown = t.decision?.next.filter((x) => !known.has(x)) ?? [];
      // The branch of a case routing to a task that does not exist never runs: the case is not covered, only its failure is.
      if (t.decision?.case && unknown.length > 0) {
        const key = itemKey({ kind: 'decisionCase', task: id, item: t.decision.case });
        if (!settled.has(key)) broken.push({ decision: id, case: t.decision.case, unknown, path: name });
        settled.add(key);
        if (keys.includes(key)) keys.splice(keys.indexOf(key), 1);
      }
    }
    for (const k of keys) {
      covered.add(k);
      settled.add(k);
    }
    const logged = b.actions.flatMap((a, i) =>
      a.type === 'log' ? [{ event: a.event, state: recordedState(b.states[i + 1]!.run) }] : [],
    );
    paths.push({
      name,
      input,
      events: logged.map((l) => l.event),
      states: logged.map((l) => l.state),
      outcome: runStatus(final),
      tasks,
      covers: keys,
    });
  };
  const isNew = (keys: string[]) => keys.some((k) => applicable.has(k) && !settled.has(k));

  const limit = opts.limit ?? 50_000;
  const walks = inputVariants(base, plan).map((input) => ({ input, candidates: walk(compiled, model, input, limit) }));
  // First the steps that cover something new by themselves, shortest first; then, only while something is still
  // uncovered, steps whose happy continuation does (a skip that happens later, when a sibling settles).
  for (const { input, candidates } of walks) {
    for (const c of candidates) if (isNew(c.local)) take(input, build(compiled, model, c));
  }
  let budget = SECOND_PASS_BUILDS;
  const open = () => [...applicable].some((k) => !settled.has(k));
  for (const { input, candidates } of walks) {
    for (const c of candidates) {
      if (budget-- <= 0 || !open()) break;
      const b = build(compiled, model, c);
      if (isNew(b.items.map(itemKey))) take(input, b);
    }
  }

  const missing = catalog.applicable.filter((i) => !covered.has(itemKey(i)));
  const tasks: PathReport['tasks'] = {};
  for (const t of def.tasks)
    tasks[t.id] = tally(
      catalog.applicable.filter((i) => i.task === t.id),
      covered,
    );
  return {
    workflowId: def.id,
    paths,
    coverage: tally(catalog.applicable, covered),
    tasks,
    uncovered: explainUncovered(def, missing, plan, broken, ran),
    excluded: catalog.excluded,
  };
}
