/**
 * The exhaustive walk: the path model of `ledgerflow paths` (src/coverage) with every deviation allowed on every path,
 * breadth first and deduplicated by state key (the model's own, the input it started from, and the monitor of the
 * declared properties), so the first state found that breaks a property ends a shortest path that breaks it. Bounded by
 * a number of states and by loop iterations; reaching a bound is reported, never a hang. Pure.
 */
import { compile, type CompiledWorkflow } from '../compiler/index.js';
import {
  baseInput,
  dependentsOf,
  initialModel,
  inputVariants,
  modelActions,
  outputVariants,
  planDecisions,
  serializeModel,
  setIn,
  stepModel,
  type DecisionPlan,
  type ModelAction,
  type ModelOptions,
  type ModelState,
} from '../coverage/index.js';
import { upstreamOf, type Definition, type JsonValue } from '../definition/index.js';
import { declaredProperties, Monitors, taskChanges, type Monitor } from './monitor.js';

/** A value no case names: offered to what an undefaulted decision reads, so a value its cases miss is found. */
export const UNLISTED_VALUE = 'UNLISTED_VALUE';

interface Node {
  parent: number;
  action: ModelAction | null;
  root: number;
  depth: number;
}

export interface Walk {
  compiled: CompiledWorkflow;
  model: ModelOptions;
  monitors: Monitors;
  inputs: Record<string, JsonValue>[];
  states: number;
  reached: ('states' | 'loop')[];
  pathsUpTo: number;
  /** What was seen, by key (`stuck`, `wait:<task>`, `decision:<task>`, `loop:<task>`, `declared:<k>`): the first node. */
  witness: Map<string, number>;
  /** Tasks that ran on some explored path; loops that ended by their condition on one. */
  ran: Set<string>;
  loopExited: Set<string>;
  /** The path to a node: its input, and each step with the state it leads to. */
  path(id: number): { input: Record<string, JsonValue>; actions: ModelAction[]; states: ModelState[] };
}

/** Output variants, plus for each decision without a default one in which what it reads is a value no case names. */
function variantsOf(def: Definition, plan: DecisionPlan): Map<string, unknown[]> {
  const variants = outputVariants(def, plan);
  for (const t of def.tasks) {
    if (t.type !== 'DECISION' || t.defaultNext) continue;
    for (const v of plan.reads.get(t.id) ?? []) {
      const own = variants.get(v.owner);
      if (own && own.length > 0) own.push(setIn(own[0], v.path, UNLISTED_VALUE));
    }
  }
  return variants;
}

/** A model state as verify keeps it: no focus (every task may deviate), so states differ only in what happened. */
const plain = (s: ModelState): ModelState =>
  s.focus === null && s.story === '' ? s : { ...s, focus: null, story: '' };

export function explore(def: Definition, maxStates: number, loopBound: number): Walk {
  const compiled = compile(def);
  const base = baseInput(def);
  const plan = planDecisions(def, base);
  const happyCases = new Map(
    [...plan.choices].flatMap(([d, cases]) => (cases.size ? [[d, [...cases.keys()][0]!] as const] : [])),
  );
  const model: ModelOptions = {
    variants: variantsOf(def, plan),
    plan,
    dependents: dependentsOf(def),
    happyCases,
    upstream: upstreamOf(def),
    exhaustive: true,
  };
  const monitors = new Monitors(declaredProperties(def));
  const inputs = inputVariants(base, plan);
  const nodes: Node[] = [];
  const seen = new Set<string>();
  const witness = new Map<string, number>();
  const ran = new Set<string>();
  const loopExited = new Set<string>();
  const reached = new Set<'states' | 'loop'>();
  const queue: { id: number; s: ModelState; m: Monitor; actions: ModelAction[] }[] = [];
  const waits = def.tasks.filter(
    (t) =>
      (t.type === 'HUMAN' || (t.type === 'WAIT' && t.event !== undefined)) &&
      t.timeoutMs === undefined &&
      !t.waitForever,
  );
  const undefaulted = def.tasks.filter((t) => t.type === 'DECISION' && !t.defaultNext);
  const loops = def.tasks.filter((t) => t.type === 'DO_WHILE');
  let full = false;
  let unique = 0;

  /**
   * Looks at a state reached by a step: what it shows (even when its key was seen: the key forgets how settled tasks
   * ended, which no later step depends on but a property may), and, if new, queues it to be expanded.
   */
  const add = (s: ModelState, m: Monitor, parent: number, action: ModelAction | null, root: number, depth: number) => {
    const key = `${root}|${serializeModel(compiled, model, s)}|${monitors.key(m)}`;
    const fresh = !seen.has(key);
    if (fresh && unique >= maxStates) {
      full = true;
      return;
    }
    let id = -1;
    const node = () => (id >= 0 ? id : (id = nodes.push({ parent, action, root, depth }) - 1));
    if (fresh) {
      seen.add(key);
      unique++;
      node();
    }
    const see = (k: string) => {
      if (!witness.has(k)) witness.set(k, node());
    };
    const tasks = s.run.context.tasks;
    for (const t of def.tasks) if (!['PENDING', 'SKIPPED', 'CANCELLED'].includes(tasks[t.id]!.status)) ran.add(t.id);
    for (const t of waits) if (['PENDING_APPROVAL', 'WAITING'].includes(tasks[t.id]!.status)) see(`wait:${t.id}`);
    for (const t of undefaulted) {
      const d = tasks[t.id]!.decision;
      if (d && d.case === null && !tasks[t.id]!.error) see(`decision:${t.id}`);
    }
    let cut = false;
    for (const t of loops) {
      const st = tasks[t.id]!;
      if (st.status === 'COMPLETED' && st.error?.code !== 'LF_LOOP_LIMIT') loopExited.add(t.id);
      if (st.error?.code === 'LF_LOOP_LIMIT' || (st.iteration ?? 0) > loopBound) see(`loop:${t.id}`);
    }
    for (const t of def.tasks) if ((tasks[t.id]!.iteration ?? 0) > loopBound) cut = true;
    m.broken.forEach((b, k) => b && see(`declared:${k}`));
    if (s.run.status !== 'active') {
      if (s.run.value === 'completed') for (const k of monitors.missing(m)) see(`declared:${k}`);
      return;
    }
    if (!fresh) return;
    if (cut) {
      reached.add('loop');
      return;
    }
    const actions = modelActions(compiled, model, s);
    if (actions.length === 0) see('stuck');
    else queue.push({ id: node(), s, m, actions });
  };

  inputs.forEach((input, root) => {
    const s = initialModel(compiled, input);
    add(s, monitors.step(monitors.initial(), taskChanges(null, s.run.context.tasks)), -1, null, root, 0);
  });
  let pathsUpTo = 0;
  for (let head = 0; head < queue.length && !full; head++) {
    const { id, s, m, actions } = queue[head]!;
    queue[head] = undefined as never; // expanded: let it go
    const node = nodes[id]!;
    for (const a of actions) {
      const next = plain(stepModel(compiled, s, a));
      add(
        next,
        monitors.step(m, taskChanges(s.run.context.tasks, next.run.context.tasks)),
        id,
        a,
        node.root,
        node.depth + 1,
      );
      if (full) break;
    }
    pathsUpTo = full ? node.depth : node.depth + 1;
  }
  if (full) reached.add('states');

  const path = (id: number) => {
    const chain: ModelAction[] = [];
    let n = nodes[id]!;
    const root = n.root;
    for (; n.parent >= 0; n = nodes[n.parent]!) chain.unshift(n.action!);
    const states = [initialModel(compiled, inputs[root]!)];
    for (const a of chain) states.push(plain(stepModel(compiled, states.at(-1)!, a)));
    return { input: inputs[root]!, actions: chain, states };
  };
  return {
    compiled,
    model,
    monitors,
    inputs,
    states: unique,
    reached: [...reached],
    pathsUpTo,
    witness,
    ran,
    loopExited,
    path,
  };
}
