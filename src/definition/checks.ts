/**
 * Semantic checks over the whole definition: ids, references between tasks, cycles, decisions, fields that do not fit a
 * task's type. Every problem is reported (none stops the others), each at the line that causes it. The checks of one
 * task against its type are in task-field-checks.ts.
 */
import type { CheckContext } from './context.js';
import { dependencyEdges, findCycles, upstreamOf, type Edge } from './graph.js';
import { didYouMean, isObj, type RawPath } from './issues.js';
import { isDefaultCase } from './normalize-values.js';
import { checkReachability } from './reachability.js';
import { checkProperties } from './property-checks.js';
import { checkTypeFields } from './task-field-checks.js';
import type { TaskDef } from './task-types.js';

function checkIds(ctx: CheckContext): void {
  const first = new Map<string, TaskDef>();
  for (const t of ctx.def.tasks) {
    const prev = first.get(t.id);
    if (prev) {
      ctx.error(
        'LF_DUPLICATE_TASK',
        `duplicate task id "${t.id}" (already used by tasks[${prev.index}]); task ids must be unique`,
        [...ctx.taskPath(t), 'id'],
      );
    } else first.set(t.id, t);
    if (t.id === 'workflow') {
      ctx.error(
        'LF_RESERVED_ID',
        'task id "workflow" is reserved: ${workflow.…} references the run itself; rename the task',
        [...ctx.taskPath(t), 'id'],
      );
    }
    if (t.id === 'event') {
      ctx.error(
        'LF_RESERVED_ID',
        'task id "event" is reserved: ${event.…} references the event that fires a trigger; rename the task',
        [...ctx.taskPath(t), 'id'],
      );
    }
  }
  const item = ctx.def.tasks.find((t) => t.id === 'item');
  if (item) {
    ctx.warn(
      'LF_RESERVED_ID',
      'task id "item": ${item…} in templates is the current item of a MAP, so this task\'s state cannot be read as ${item.output}; rename the task to read it',
      [...ctx.taskPath(item), 'id'],
    );
  }
  checkReservedNames(ctx);
  const seen = new Set<string>();
  ctx.def.inputs.forEach((input) => {
    if (seen.has(input.name)) {
      ctx.error(
        'LF_DUPLICATE_INPUT',
        `input "${input.name}" is declared more than once (in required and/or optional)`,
        ['workflow', 'input'],
      );
    }
    seen.add(input.name);
  });
}

/**
 * Names that become keys of plain objects (task states, inputs, outputs, decision cases) must not be Object.prototype's
 * own (`__proto__`, `constructor`, `toString`, …): as keys they would reach the prototype instead of the data.
 */
function isReservedKey(name: string): boolean {
  return name === 'prototype' || name in Object.prototype;
}

/** `what` names the kind of name, with `%` where the name goes. */
function reserved(ctx: CheckContext, what: string, name: string, path: RawPath, onKey = false): void {
  if (!isReservedKey(name)) return;
  ctx.error(
    'LF_RESERVED_NAME',
    `${what.replace('%', `"${name}"`)} is reserved (it names a property every JavaScript object has); rename it`,
    path,
    { onKey },
  );
}

/** Names written as list items or as map keys: the path to each, for the error. */
function declaredNames(value: unknown, path: RawPath): { name: string; path: RawPath; onKey: boolean }[] {
  if (Array.isArray(value)) {
    return value.flatMap((v, i) =>
      typeof v === 'string' ? [{ name: v, path: [...path, i], onKey: false }] : declaredNames(v, [...path, i]),
    );
  }
  if (isObj(value)) return Object.keys(value).map((k) => ({ name: k, path: [...path, k], onKey: true }));
  return [];
}

function checkReservedNames(ctx: CheckContext): void {
  for (const t of ctx.def.tasks) {
    const p = ctx.taskPath(t);
    const raw = ctx.rawTask(t);
    reserved(ctx, 'task id %', t.id, [...p, 'id']);
    for (const o of declaredNames(raw.output, [...p, 'output']))
      reserved(ctx, `output % of task ${t.id}`, o.name, o.path, o.onKey);
    if (isObj(raw.decision_cases)) {
      for (const name of Object.keys(raw.decision_cases))
        reserved(ctx, `decision case % of ${t.id}`, name, [...p, 'decision_cases', name], true);
    }
  }
  const input = isObj(ctx.wf.input) ? ctx.wf.input : {};
  for (const key of ['required', 'optional']) {
    for (const o of declaredNames(input[key], ['workflow', 'input', key]))
      reserved(ctx, 'input %', o.name, o.path, o.onKey);
  }
  for (const o of declaredNames(ctx.wf.output, ['workflow', 'output']))
    reserved(ctx, 'workflow output %', o.name, o.path, o.onKey);
}

function unknownTask(ctx: CheckContext, id: string, field: string, t: TaskDef, path: RawPath): void {
  if (ctx.ids.has(id)) return;
  ctx.error('LF_UNKNOWN_TASK', `unknown task "${id}" in ${field} of task ${t.id}${didYouMean(id, [...ctx.ids])}`, path);
}

/** A loop's body tasks run only inside that loop: a task in two bodies, or a loop in its own, has no place to run. */
function checkLoopBodies(ctx: CheckContext): void {
  const owner = new Map<string, string>();
  for (const t of ctx.def.tasks) {
    if (t.type !== 'DO_WHILE') continue;
    t.loopOver.forEach((id, i) => {
      const at = ctx.listPath(t, 'loop_over', i);
      if (id === t.id) {
        ctx.error(
          'LF_LOOP_BODY',
          `DO_WHILE task ${t.id} lists itself in loop_over; its body are the tasks it repeats, not the loop`,
          at,
        );
        return;
      }
      const other = owner.get(id);
      if (other !== undefined) {
        ctx.error(
          'LF_LOOP_BODY',
          `task ${id} is in the body of both ${other} and ${t.id}; a body task runs only inside its one loop (give each loop its own task)`,
          at,
        );
        return;
      }
      owner.set(id, t.id);
      const body = ctx.task(id);
      // Nested loops: an iteration of the inner loop inside an iteration of the outer one is not modelled yet.
      if (body?.type === 'DO_WHILE') {
        ctx.error(
          'LF_LOOP_BODY',
          `DO_WHILE task ${id} is in the body of loop ${t.id}; nested loops are not supported yet (run the inner loop in a sub-workflow, or flatten it)`,
          at,
        );
      }
    });
  }
  // A body task runs inside its iteration: it may wait for other tasks of its body (and its loop), nothing outside.
  for (const t of ctx.def.tasks) {
    const loop = owner.get(t.id);
    if (loop === undefined) continue;
    t.dependsOn.forEach((d, i) => {
      if (d === loop || owner.get(d) === loop || !ctx.ids.has(d)) return;
      ctx.error(
        'LF_LOOP_BODY',
        `task ${t.id} is in the body of loop ${loop} but depends on ${d}, which is not; a body task waits only for tasks of its body (put ${d} in the depends_on of ${loop})`,
        ctx.listPath(t, 'depends_on', i),
      );
    });
  }
}

function checkTaskRefs(ctx: CheckContext): void {
  for (const t of ctx.def.tasks) {
    t.dependsOn.forEach((d, i) => unknownTask(ctx, d, 'depends_on', t, ctx.listPath(t, 'depends_on', i)));
    t.parallelWith.forEach((d, i) => unknownTask(ctx, d, 'parallel_with', t, ctx.listPath(t, 'parallel_with', i)));
    if (t.type === 'JOIN') t.joinOn.forEach((d, i) => unknownTask(ctx, d, 'join_on', t, ctx.listPath(t, 'join_on', i)));
    if (t.type === 'FORK') t.forkTasks.forEach((d, i) => unknownTask(ctx, d, 'fork_tasks', t, ctx.forkPath(t, i)));
    if (t.type === 'DO_WHILE')
      t.loopOver.forEach((d, i) => unknownTask(ctx, d, 'loop_over', t, ctx.listPath(t, 'loop_over', i)));
    if (t.type === 'MAP' && t.iterator) unknownTask(ctx, t.iterator, 'iterator', t, [...ctx.taskPath(t), 'iterator']);
  }
}

/** Where the edge "task waits for dep" is written. */
function edgePath(ctx: CheckContext, task: TaskDef, edge: Edge): RawPath {
  const byId = (id: string) => ctx.task(id)!;
  switch (edge.via) {
    case 'depends_on':
      return ctx.listPath(task, 'depends_on', edge.index);
    case 'join_on':
      return ctx.listPath(task, 'join_on', edge.index);
    case 'decision':
      return ctx.casePath(
        byId(edge.dep),
        edge.caseName === 'default' ? defaultCaseName(ctx, byId(edge.dep)) : edge.caseName,
        task.id,
      );
    case 'fork':
      return ctx.forkPath(byId(edge.dep), edge.index);
    case 'loop_over':
      return ctx.listPath(byId(edge.dep), 'loop_over', edge.index);
    case 'loop_body':
      return ctx.listPath(task, 'depends_on', edge.index);
  }
}

function defaultCaseName(ctx: CheckContext, t: TaskDef): string {
  const cases = ctx.rawTask(t).decision_cases;
  return (isObj(cases) ? Object.keys(cases).find(isDefaultCase) : undefined) ?? 'default';
}

function checkCycles(ctx: CheckContext): void {
  const edges = dependencyEdges(ctx.def);
  for (const cycle of findCycles(ctx.def)) {
    const task = ctx.task(cycle[0]!)!;
    const edge = edges.get(task.id)!.find((e) => e.dep === cycle[1])!;
    ctx.error(
      'LF_CYCLE',
      `dependency cycle ${cycle.join(' → ')} (each task waits for the next, so none can start); remove one of these dependencies`,
      edgePath(ctx, task, edge),
    );
  }
}

function checkDecisions(ctx: CheckContext): void {
  for (const t of ctx.def.tasks) {
    if (t.type !== 'DECISION') continue;
    const p = ctx.taskPath(t);
    const hasCases = t.cases.length > 0 || t.defaultNext !== undefined;
    if (!hasCases) {
      ctx.error(
        'LF_DECISION_NO_CASES',
        `decision task ${t.id} has no cases; add decision_cases with at least one case (or a default)`,
        p,
      );
    } else if (t.decisionParam === undefined && !t.cases.some((c) => c.condition !== undefined)) {
      ctx.error(
        'LF_DECISION_NO_SELECTOR',
        `decision task ${t.id} has neither decision_param nor a condition on any case, so no case can be chosen; add decision_param: "\${<task>.output.<field>}"`,
        [...p, 'decision_cases'],
      );
    }
    const named = [
      ...t.cases.map((c) => ({ name: c.name, next: c.next })),
      ...(t.defaultNext ? [{ name: defaultCaseName(ctx, t), next: t.defaultNext }] : []),
    ];
    for (const c of named) {
      const rawCases = ctx.rawTask(t).decision_cases;
      // A case that is not a map already has a schema error: do not add a second finding for it.
      if (c.next.length === 0 && isObj(isObj(rawCases) ? rawCases[c.name] : undefined)) {
        ctx.warn(
          'LF_DECISION_EMPTY_CASE',
          `decision case ${c.name} of ${t.id} routes to no task; choosing it runs nothing after ${t.id}`,
          [...p, 'decision_cases', c.name],
        );
      }
      for (const target of c.next) {
        if (ctx.ids.has(target)) continue;
        ctx.warn(
          'LF_UNKNOWN_CASE_TARGET',
          `decision case ${c.name} of ${t.id} routes to unknown task "${target}"; choosing this case at run time fails the run`,
          ctx.casePath(t, c.name, target),
        );
      }
    }
  }
}

function checkParallel(ctx: CheckContext): void {
  const up = upstreamOf(ctx.def);
  for (const t of ctx.def.tasks) {
    t.parallelWith.forEach((other, i) => {
      if (!ctx.ids.has(other)) return;
      const path = ctx.listPath(t, 'parallel_with', i);
      const relation =
        other === t.id
          ? 'itself'
          : up.has(t.id, other)
            ? `${other}, which is upstream of ${t.id}`
            : up.has(other, t.id)
              ? `${other}, which is downstream of ${t.id}`
              : null;
      if (relation)
        ctx.warn(
          'LF_PARALLEL_DEPENDENT',
          `task ${t.id} is parallel_with ${relation}, so they cannot run in parallel`,
          path,
        );
    });
  }
}

/** `timeout_policy` says what a run timeout does: alone, it does nothing. */
function checkRunTimeout(ctx: CheckContext): void {
  if (ctx.wf.timeout_policy !== undefined && ctx.wf.timeout === undefined) {
    ctx.warn(
      'LF_FIELD_IGNORED',
      'timeout_policy is ignored: the workflow has no timeout (add timeout: e.g. 2h, or remove timeout_policy)',
      ['workflow', 'timeout_policy'],
      { onKey: true },
    );
  }
}

/** A SET's `search:` sets attributes the workflow declares in its `search:` (their type comes from there). */
function checkSearch(ctx: CheckContext): void {
  const declared = Object.keys(ctx.def.search ?? {});
  for (const t of ctx.def.tasks) {
    if (t.type !== 'SET' || !t.search) continue;
    for (const name of Object.keys(t.search)) {
      if (declared.includes(name)) continue;
      ctx.error(
        'LF_SEARCH_UNDECLARED',
        `task ${t.id} sets search attribute "${name}", which the workflow's search: does not declare (declare it there with its type${declared.length ? `; declared: ${declared.join(', ')}` : ''})`,
        [...ctx.taskPath(t), 'search', name],
        { onKey: true },
      );
    }
  }
}

export function checkStructure(ctx: CheckContext): void {
  checkRunTimeout(ctx);
  checkSearch(ctx);
  checkIds(ctx);
  checkTaskRefs(ctx);
  checkLoopBodies(ctx);
  checkCycles(ctx);
  checkDecisions(ctx);
  checkTypeFields(ctx);
  checkParallel(ctx);
  checkReachability(ctx);
  checkProperties(ctx);
}
