/**
 * Scripted outputs: what each task "returns" on a generated path, and which values make each decision take each case.
 *
 * A case is found by search, not by solving: the values a decision reads (the `decision_param` reference, references in
 * case conditions) get candidates from the decision itself (case names, literals of the conditions, the inputs they
 * compare against, each ±1), and the real `decide()` of the compiler picks the case for each combination. So what a
 * path claims a decision chooses is what the runtime would choose; a case no candidate selects is reported, with its
 * condition, instead of guessed.
 */
import { decide, scopeOf, type RunContext } from '../compiler/index.js';
import type { DecisionTask, Definition, JsonValue, TaskDef } from '../definition/index.js';
import { findRefs, parseCondition, resolveTemplate } from '../expressions/index.js';
import { getIn, setIn } from './values.js';
import { varKey, varOfNode, varOfRef, walk, type Var } from './decision-vars.js';

export type { Var } from './decision-vars.js';

export interface CaseChoice {
  /** Values of output variables (by varKey) that make the decision choose the case. */
  outputs: Map<string, { v: Var; value: unknown }>;
  /** Inputs that differ from the base input, if the case needs them. */
  input: Record<string, unknown>;
}

export interface DecisionPlan {
  /** decision → case → values that choose it. */
  choices: Map<string, Map<string, CaseChoice>>;
  /** decision → the output variables it reads (what the path model must not forget while it is undecided). */
  reads: Map<string, Var[]>;
  missing: { decision: string; case: string; reason: string }[];
}

/** Tried combinations per decision: enough for a handful of variables, bounded for pathological ones. */
const MAX_COMBINATIONS = 20_000;

/** What a task returns when nothing in particular is scripted: its declared output names, each null. */
export function defaultOutput(task: TaskDef): Record<string, JsonValue> {
  // A TRANSFORM's output has its shape whatever its jq: { result, resultList }.
  const out: Record<string, JsonValue> = task.type === 'TRANSFORM' ? { result: null, resultList: [] } : {};
  for (const n of [...task.output.names, ...Object.keys(task.output.values)]) out[n] = null;
  return out;
}

/** The items a MAP runs over on a generated path: two, so one may fail while another completes. */
export const SAMPLE_ITEMS = ['item-0', 'item-1'];

/** The branches a FORK_DYNAMIC runs on a generated path: two SIMPLE ones (compiler/fork-dynamic.ts). */
export const SAMPLE_BRANCHES = [{ id: 'branch_0' }, { id: 'branch_1' }];

/** What each MAP's `items` reads, when it is one reference to a task's output or an input: what paths give a list (`sample`). */
function mapItemVars(def: Definition): (Var & { sample: JsonValue[] })[] {
  const out: (Var & { sample: JsonValue[] })[] = [];
  for (const t of def.tasks) {
    if (t.type !== 'MAP') continue;
    let refs: ReturnType<typeof findRefs>;
    try {
      refs = findRefs(t.items);
    } catch {
      continue;
    }
    const v = refs.length === 1 && refs[0]!.text === t.items.trim() ? varOfRef(refs[0]!.ref, def) : null;
    if (v) out.push({ ...v, sample: t.fork ? SAMPLE_BRANCHES : SAMPLE_ITEMS });
  }
  return out;
}

/** A valid input: defaults, and a placeholder of the declared type for each required input without one. */
export function baseInput(def: Definition): Record<string, JsonValue> {
  const input: Record<string, JsonValue> = {};
  const sample: Record<string, JsonValue> = { string: '', number: 1, boolean: false, object: {}, array: [], any: null };
  for (const d of def.inputs) {
    if (d.default !== undefined) input[d.name] = d.default;
    else if (d.required) input[d.name] = d.type === 'string' || d.type === 'any' ? `sample-${d.name}` : sample[d.type]!;
  }
  // An input a MAP runs over is a list of sample items (unless it has a default).
  for (const v of mapItemVars(def)) {
    if (v.kind === 'input' && v.path.length === 0 && def.inputs.find((d) => d.name === v.owner)?.default === undefined)
      input[v.owner] = [...v.sample];
  }
  return input;
}

interface Search {
  vars: Var[];
  candidates: unknown[][];
}

/** The variables a decision reads and the candidate values of each. */
function searchSpace(def: Definition, task: DecisionTask, input: Record<string, unknown>): Search {
  const vars = new Map<string, Var>();
  const cands = new Map<string, unknown[]>();
  const numbers = new Set<number>([0]);
  const strings = new Set<string>();
  const addVar = (v: Var, first: unknown[] = []) => {
    const k = varKey(v);
    if (!vars.has(k)) {
      vars.set(k, v);
      cands.set(k, []);
    }
    cands.get(k)!.push(...first);
  };
  const names = task.cases.map((c) => c.name);
  if (task.decisionParam !== undefined) {
    const refs = findRefs(task.decisionParam);
    const whole = refs.length === 1 && refs[0]!.text === task.decisionParam.trim();
    for (const r of refs) {
      const v = varOfRef(r.ref, def);
      if (!v) continue;
      // The param's value selects the case of that name: offer exactly those names (and their numeric or boolean reading).
      addVar(
        v,
        whole
          ? names.flatMap((n) => [
              n,
              ...(n.trim() !== '' && Number.isFinite(Number(n)) ? [Number(n)] : []),
              ...(n === 'true' ? [true] : n === 'false' ? [false] : []),
            ])
          : [],
      );
    }
  }
  for (const c of task.cases) {
    if (c.condition === undefined) continue;
    walk(parseCondition(c.condition).ast, (n) => {
      const v = varOfNode(n, def);
      if (v) {
        addVar(v);
        if (v.kind === 'input') {
          const x = getIn(input[v.owner], v.path);
          if (typeof x === 'number') {
            numbers.add(x);
            numbers.add(-x);
          }
          if (typeof x === 'string') strings.add(x);
        }
      } else if (n.t === 'lit') {
        if (typeof n.v === 'number') numbers.add(n.v);
        if (typeof n.v === 'string') strings.add(n.v);
      }
    });
  }
  const nums = [...numbers].flatMap((k) => [k, k + 1, k - 1]);
  const generic = [...nums, ...strings, `not-${[...strings][0] ?? 'matching'}`, true, false, null];
  const list = [...vars.values()];
  return {
    vars: list,
    candidates: list.map((v) => {
      const own = cands.get(varKey(v))!;
      const base = v.kind === 'input' ? [getIn(input[v.owner], v.path)] : [];
      return [...new Set([...base, ...own, ...generic])];
    }),
  };
}

function contextFor(
  def: Definition,
  input: Record<string, unknown>,
  outputs: Map<string, { v: Var; value: unknown }>,
): RunContext {
  const tasks: RunContext['tasks'] = {};
  for (const t of def.tasks) {
    tasks[t.id] = {
      status: 'COMPLETED',
      attempts: 1,
      startedAt: null,
      completedAt: null,
      output: defaultOutput(t),
      error: null,
    };
  }
  for (const { v, value } of outputs.values())
    tasks[v.owner] = { ...tasks[v.owner]!, output: setIn(tasks[v.owner]!.output, v.path, value) };
  const t0 = '2026-01-01T00:00:00.000Z';
  const ctx: RunContext = {
    runId: 'plan',
    workflowId: def.id,
    version: def.version,
    input,
    startedAt: t0,
    completedAt: null,
    updatedAt: t0,
    tasks,
    timers: {},
    error: null,
    output: null,
  };
  // The variables SET tasks would have set from these outputs, in definition order, as the fold's setValues does.
  for (const t of def.tasks) {
    if (t.type === 'SET')
      ctx.variables = {
        ...(ctx.variables ?? {}),
        ...((resolveTemplate(t.values, scopeOf(ctx)) ?? {}) as Record<string, unknown>),
      };
  }
  return ctx;
}

/** Tries combinations of candidates (odometer order: earlier candidates first) until every case is found. */
function search(
  def: Definition,
  task: DecisionTask,
  base: Record<string, unknown>,
  space: Search,
  withInputs: boolean,
  found: Map<string, CaseChoice>,
  wanted: string[],
): void {
  const vars = space.vars.map((v, i) => ({
    v,
    cands: !withInputs && v.kind === 'input' ? [getIn(base[v.owner], v.path)] : space.candidates[i]!,
  }));
  const idx = vars.map(() => 0);
  for (let n = 0; n < MAX_COMBINATIONS; n++) {
    const outputs = new Map<string, { v: Var; value: unknown }>();
    let input: Record<string, unknown> = base;
    const overrides: Record<string, unknown> = {};
    vars.forEach(({ v, cands }, i) => {
      const value = cands[idx[i]!];
      if (v.kind === 'output') outputs.set(varKey(v), { v, value });
      else if (value !== getIn(base[v.owner], v.path)) {
        input = { ...input, [v.owner]: setIn(input[v.owner], v.path, value) };
        overrides[v.owner] = input[v.owner];
      }
    });
    const chosen = decide(def, task, contextFor(def, input, outputs)).case;
    if (chosen !== null && !found.has(chosen)) found.set(chosen, { outputs, input: overrides });
    if (wanted.every((c) => found.has(c))) return;
    let i = vars.length - 1;
    while (i >= 0 && ++idx[i]! >= vars[i]!.cands.length) idx[i--] = 0;
    if (i < 0) return;
  }
}

/**
 * A DO_WHILE's condition, read as a decision with two cases: `end` (false: the happy one, so a path's happy
 * continuation leaves the loop) and `repeat` (true): the outputs that choose each are what lets paths run a loop once,
 * again, and to its limit.
 */
function loopAsDecision(t: Extract<TaskDef, { type: 'DO_WHILE' }>): DecisionTask {
  return {
    ...t,
    type: 'DECISION',
    decisionParam: undefined,
    cases: [
      { name: 'end', condition: `!(${t.loopCondition})`, next: [] },
      { name: 'repeat', condition: t.loopCondition, next: [] },
    ],
  } as unknown as DecisionTask;
}

export function planDecisions(def: Definition, input: Record<string, unknown>): DecisionPlan {
  const plan: DecisionPlan = { choices: new Map(), reads: new Map(), missing: [] };
  for (const t of def.tasks) {
    if (t.type !== 'DECISION' && t.type !== 'DO_WHILE') continue;
    const task = t.type === 'DO_WHILE' ? loopAsDecision(t) : t;
    const wanted = [...task.cases.map((c) => c.name), ...(task.defaultNext ? ['default'] : [])];
    const space = searchSpace(def, task, input);
    plan.reads.set(
      task.id,
      space.vars.filter((v) => v.kind === 'output'),
    );
    const found = new Map<string, CaseChoice>();
    search(def, task, input, space, false, found, wanted);
    // Only when outputs alone cannot do it: vary the inputs the decision reads too (such a path gets its own input).
    if (wanted.some((c) => !found.has(c)) && space.vars.some((v) => v.kind === 'input'))
      search(def, task, input, space, true, found, wanted);
    plan.choices.set(task.id, new Map(wanted.filter((c) => found.has(c)).map((c) => [c, found.get(c)!])));
    for (const c of wanted.filter((x) => !found.has(x))) {
      const cond = task.cases.find((x) => x.name === c)?.condition;
      const reads = space.vars.map((v) =>
        v.kind === 'output'
          ? `${v.owner}.output${v.path.map((p) => `.${p}`).join('')}`
          : `workflow.input.${v.owner}${v.path.map((p) => `.${p}`).join('')}`,
      );
      plan.missing.push({
        decision: task.id,
        case: c,
        reason: `no generated value${reads.length ? ` of ${reads.join(', ')}` : ''} makes ${task.id} choose ${c}${cond ? ` (condition: ${cond})` : task.decisionParam ? ` (decision_param: ${task.decisionParam})` : ''}; script it in an expectation`,
      });
    }
  }
  return plan;
}

/**
 * The outputs a task may return on a path: the first is the happy one (every decision takes its first case that can be
 * chosen); one more per case of a decision that reads this task, with the other decisions left happy.
 */
export function outputVariants(def: Definition, plan: DecisionPlan): Map<string, unknown[]> {
  const happy = new Map<string, { v: Var; value: unknown }>();
  for (const cases of plan.choices.values()) {
    const first = [...cases.values()].find((c) => Object.keys(c.input).length === 0);
    for (const [k, x] of first?.outputs ?? []) if (!happy.has(k)) happy.set(k, x);
  }
  // A MAP over a task's output: happily two items, and one more variant with none (an empty MAP completes at once).
  const empties: Map<string, { v: Var; value: unknown }>[] = [];
  for (const v of mapItemVars(def)) {
    if (v.kind !== 'output') continue;
    if (!happy.has(varKey(v))) happy.set(varKey(v), { v, value: v.sample });
    empties.push(new Map([[varKey(v), { v, value: [] }]]));
  }
  const variants = new Map<string, unknown[]>();
  const build = (task: TaskDef, values: Map<string, { v: Var; value: unknown }>) => {
    let out: unknown = defaultOutput(task);
    for (const { v, value } of values.values()) if (v.owner === task.id) out = setIn(out, v.path, value);
    return out;
  };
  for (const task of def.tasks) {
    if (
      task.type !== 'SIMPLE' &&
      task.type !== 'COMMAND' &&
      task.type !== 'HTTP' &&
      task.type !== 'SUB_WORKFLOW' &&
      task.type !== 'EMIT' &&
      task.type !== 'TRANSFORM'
    )
      continue;
    const seen = new Map<string, unknown>();
    const add = (values: Map<string, { v: Var; value: unknown }>) => {
      const out = build(task, values);
      const k = JSON.stringify(out);
      if (!seen.has(k)) seen.set(k, out);
    };
    add(happy);
    for (const cases of plan.choices.values()) for (const c of cases.values()) add(new Map([...happy, ...c.outputs]));
    for (const empty of empties) add(new Map([...happy, ...empty]));
    variants.set(task.id, [...seen.values()]);
  }
  return variants;
}

/** The inputs paths start from: the base input, then one per set of input values some case needs. */
export function inputVariants(base: Record<string, JsonValue>, plan: DecisionPlan): Record<string, JsonValue>[] {
  const out = new Map<string, Record<string, JsonValue>>([[JSON.stringify(base), base]]);
  for (const cases of plan.choices.values()) {
    for (const c of cases.values()) {
      if (Object.keys(c.input).length === 0) continue;
      const input = { ...base, ...(c.input as Record<string, JsonValue>) };
      out.set(JSON.stringify(input), input);
    }
  }
  return [...out.values()];
}
