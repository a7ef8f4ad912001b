/**
 * Template and condition checks: each `${...}` must parse, name a declared input or a known task, and a task may only
 * read tasks upstream of it (an output that may not exist yet is a bug, not a race to win). `${event.…}` exists only
 * while an event trigger fires: its filter and input mapping read the event, nothing else may.
 */
import { ExpressionError } from '../errors/index.js';
import { findRefs, parseCondition, refText, type Ref } from '../expressions/index.js';
import type { CheckContext } from './context.js';
import { loopOwners, upstreamOf, type Upstream } from './graph.js';
import { didYouMean, isObj, rawAt, type RawPath } from './issues.js';
import { iteratorMap, type TaskDef } from './task-types.js';

interface Site {
  /** Who uses the template, for messages: "task y", "workflow output". */
  owner: string;
  /** The task using it, if any: refs must then be upstream of it. */
  task?: TaskDef;
  /** Tasks it may read besides its upstream (itself for output_to, the loop body for DO_WHILE). */
  alsoAllowed?: ReadonlySet<string>;
  /** Triggers fire before any task runs and before the input exists: no task or input refs. */
  trigger?: 'event' | 'schedule';
  /** The input of a MAP's body (the MAP's own, or its iterator's): `${item}` and `${index}` are in scope. */
  mapBody?: string;
  /** Resolved when a run starts, before any task (`concurrency.key`): only the input is known. */
  atStart?: true;
  /** A task's input, a COMMAND's command and env: resolved when an attempt starts, where `${secrets.NAME}` may be. */
  secrets?: true;
}

const SECRETS_WHERE =
  "${secrets.<NAME>} may only be used in the input of a task a handler or a program runs (SIMPLE, COMMAND, a MAP over a handler), a COMMAND task's command and env, an HTTP task's url, headers, query and body, and notification targets (resolved when an attempt starts, never recorded)";

const EVENT_ONLY_IN_TRIGGERS = 'event.* can only be used in triggers[].filter and triggers[].input';

type Occ = { ref: Ref; text: string; offset: number };

function checkRef(ctx: CheckContext, up: Upstream, site: Site, occ: Occ, path: RawPath): void {
  const { ref } = occ;
  const at = { inString: occ.offset };
  if (ref.kind === 'secret') {
    if (!site.secrets)
      ctx.error('LF_SECRET_NOT_ALLOWED', `template ${occ.text} in ${site.owner}: ${SECRETS_WHERE}`, path, at);
    return;
  }
  if (site.atStart && ref.kind !== 'input') {
    ctx.error(
      'LF_TEMPLATE_NOT_AT_START',
      `template ${occ.text} in ${site.owner}: it is resolved when a run starts, before any task runs; only \${workflow.input.<name>} is known then`,
      path,
      at,
    );
    return;
  }
  if (ref.kind === 'event') {
    if (site.trigger === 'schedule') {
      ctx.error(
        'LF_EVENT_REF_OUTSIDE_TRIGGER',
        `template ${occ.text} in ${site.owner}: a schedule trigger has no event; ${EVENT_ONLY_IN_TRIGGERS} of an event trigger`,
        path,
        at,
      );
    } else if (site.trigger === undefined) {
      ctx.error(
        'LF_EVENT_REF_OUTSIDE_TRIGGER',
        `template ${occ.text} in ${site.owner}: ${EVENT_ONLY_IN_TRIGGERS} (map what a run needs into its input there and read \${workflow.input.<name>})`,
        path,
        at,
      );
    }
    return;
  }
  if (ref.kind === 'variable') {
    // SET tasks set variables while a run runs: a trigger fires before any has.
    if (site.trigger !== undefined) {
      ctx.error(
        'LF_TEMPLATE_VARIABLE_IN_TRIGGER',
        `template ${occ.text} in ${site.owner} reads a workflow variable, but no SET task has run when a trigger fires`,
        path,
        at,
      );
      return;
    }
    if (ref.name === null) return;
    const setters = ctx.def.tasks.filter((x) => x.type === 'SET' && Object.hasOwn(x.values, ref.name!));
    if (setters.length === 0) {
      const names = [...new Set(ctx.def.tasks.flatMap((x) => (x.type === 'SET' ? Object.keys(x.values) : [])))];
      ctx.warn(
        'LF_UNKNOWN_VARIABLE',
        `template ${occ.text} in ${site.owner} reads variable "${ref.name}", which no SET task sets (it resolves to nothing)${names.length ? `; SET tasks set: ${names.join(', ')}${didYouMean(ref.name, names)}` : ''}`,
        path,
        at,
      );
    } else if (site.task && !setters.some((x) => x.id === site.task!.id || up.has(site.task!.id, x.id))) {
      ctx.warn(
        'LF_VARIABLE_NOT_UPSTREAM',
        `template ${occ.text} in task ${site.task.id} reads variable "${ref.name}", but no SET task that sets it (${setters.map((x) => x.id).join(', ')}) is upstream of ${site.task.id}, so it may not be set yet; add one to depends_on`,
        path,
        at,
      );
    }
    return;
  }
  if (ref.kind === 'item' || ref.kind === 'index') {
    if (site.mapBody === undefined) {
      ctx.error(
        'LF_ITEM_REF_OUTSIDE_MAP',
        `template ${occ.text} in ${site.owner}: \${item} and \${index} exist only in the input of a MAP's body (the MAP's own input, or its iterator task's), evaluated once per item`,
        path,
        at,
      );
    }
    return;
  }
  if (ref.kind === 'input' && site.trigger !== undefined) {
    const hint = site.trigger === 'event' ? '; read the event instead, e.g. ${event.data.<field>}' : '';
    ctx.error(
      'LF_TEMPLATE_INPUT_IN_TRIGGER',
      `template ${occ.text} in ${site.owner} reads the workflow input, but a trigger is what builds that input${hint}`,
      path,
      at,
    );
    return;
  }
  if (ref.kind === 'input') {
    const declared = ctx.def.inputs.map((i) => i.name);
    if (ref.name !== null && !declared.includes(ref.name)) {
      const list = declared.length ? declared.join(', ') : '(none)';
      ctx.error(
        'LF_UNKNOWN_INPUT',
        `unknown input "${ref.name}" in ${site.owner}; declared inputs: ${list}${didYouMean(ref.name, declared)}`,
        path,
        at,
      );
    }
    return;
  }
  if (ref.kind !== 'task') return;
  if (site.trigger !== undefined) {
    ctx.error(
      'LF_TEMPLATE_TASK_IN_TRIGGER',
      `template ${occ.text} in ${site.owner} names task ${ref.task}, but no task has run when a trigger fires`,
      path,
      at,
    );
    return;
  }
  if (!ctx.ids.has(ref.task)) {
    ctx.error(
      'LF_TEMPLATE_UNKNOWN_TASK',
      `template ${occ.text} in ${site.owner} names unknown task "${ref.task}"${didYouMean(ref.task, [...ctx.ids])}`,
      path,
      at,
    );
    return;
  }
  const t = site.task;
  if (t && !up.has(t.id, ref.task) && !site.alsoAllowed?.has(ref.task)) {
    ctx.error(
      'LF_TEMPLATE_NOT_UPSTREAM',
      `template ${occ.text} in task ${t.id} names task ${ref.task}, which is not upstream of ${t.id}; add it to depends_on`,
      path,
      at,
    );
    return;
  }
  const target = ctx.task(ref.task)!;
  const name = ref.path[0];
  if (
    ref.field === 'output' &&
    name !== undefined &&
    target.output.names.length > 0 &&
    !target.output.names.includes(name)
  ) {
    ctx.warn(
      'LF_UNKNOWN_OUTPUT',
      `template ${occ.text} in ${site.owner} reads output "${name}" of task ${ref.task}, which declares only: ${target.output.names.join(', ')}${didYouMean(name, target.output.names)}`,
      path,
      at,
    );
  }
}

function syntaxError(ctx: CheckContext, site: Site, kind: string, err: unknown, path: RawPath): void {
  if (!(err instanceof ExpressionError)) throw err;
  const column = typeof err.meta.column === 'number' ? err.meta.column : 1;
  ctx.error('LF_TEMPLATE_SYNTAX', `invalid ${kind} in ${site.owner}: ${err.message}`, path, { inString: column - 1 });
}

/** Every string of a template tree. */
function templates(ctx: CheckContext, up: Upstream, site: Site, value: unknown, path: RawPath): void {
  if (typeof value === 'string') {
    let occs: Occ[];
    try {
      occs = findRefs(value);
    } catch (err) {
      syntaxError(ctx, site, 'template', err, path);
      return;
    }
    for (const occ of occs) checkRef(ctx, up, site, occ, path);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => templates(ctx, up, site, v, [...path, i]));
  } else if (isObj(value)) {
    for (const [k, v] of Object.entries(value)) templates(ctx, up, site, v, [...path, k]);
  }
}

function condition(ctx: CheckContext, up: Upstream, site: Site, text: unknown, path: RawPath): void {
  if (typeof text !== 'string') return;
  let refs: Ref[];
  try {
    refs = parseCondition(text).refs;
  } catch (err) {
    syntaxError(ctx, site, 'condition', err, path);
    return;
  }
  const written = findRefs(text);
  for (const ref of refs) {
    const canonical = refText(ref);
    const occ = written.find((o) => refText(o.ref) === canonical);
    // Bare refs (no ${}) have no offset of their own: point at their first name in the text.
    const bare =
      ref.kind === 'task'
        ? ref.task
        : ref.kind === 'event'
          ? 'event'
          : ref.kind === 'item'
            ? 'item'
            : ref.kind === 'index'
              ? 'index'
              : ref.kind === 'secret'
                ? 'secrets'
                : 'workflow';
    checkRef(ctx, up, site, occ ?? { ref, text: canonical, offset: Math.max(0, text.indexOf(bare)) }, path);
  }
}

export function checkTemplates(ctx: CheckContext): void {
  const up = upstreamOf(ctx.def);
  const wf = ctx.wf;
  const owners = loopOwners(ctx.def);
  const bodyOf = (loop: string) => [...owners].filter(([, l]) => l === loop).map(([b]) => b);
  const iterators = iteratorMap(ctx.def.tasks);
  for (const t of ctx.def.tasks) {
    const raw = ctx.rawTask(t);
    const p = ctx.taskPath(t);
    // A loop-body task may read its loop and every task of its body: their latest iteration's output (or null before the first).
    const loop = owners.get(t.id);
    const site: Site =
      loop === undefined
        ? { owner: `task ${t.id}`, task: t }
        : { owner: `task ${t.id}`, task: t, alsoAllowed: new Set([loop, ...bodyOf(loop)]) };
    const withSelf: Site = { ...site, alsoAllowed: new Set([t.id, ...(site.alsoAllowed ?? [])]) };
    // A MAP's input, and its iterator's, is its body's: resolved per item when the MAP runs, so it reads what is upstream of the MAP.
    const map = t.type === 'MAP' ? t : iterators.get(t.id);
    const inputSite: Site = map ? { ...site, task: map, mapBody: map.id } : site;
    // Only an input an attempt hands to a handler or a program may name secrets: a SUB_WORKFLOW's (a MAP's over a
    // workflow) becomes a child run's input, recorded; a HUMAN's is shown to people; the other types run no attempt.
    const runsAttempt = t.type === 'SIMPLE' || t.type === 'COMMAND' || (t.type === 'MAP' && t.workflow === undefined);
    templates(ctx, up, runsAttempt ? { ...inputSite, secrets: true } : inputSite, raw.input, [...p, 'input']);
    if (isObj(raw.output)) templates(ctx, up, withSelf, raw.output, [...p, 'output']);
    templates(ctx, up, withSelf, raw.output_to, [...p, 'output_to']);
    if (t.type === 'DECISION') {
      templates(ctx, up, site, raw.decision_param, [...p, 'decision_param']);
      for (const name of Object.keys(isObj(raw.decision_cases) ? raw.decision_cases : {})) {
        const cpath = [...p, 'decision_cases', name, 'condition'];
        condition(ctx, up, site, rawAt(wf, cpath.slice(1)), cpath);
      }
    }
    if (t.type === 'DO_WHILE') {
      condition(ctx, up, { ...site, alsoAllowed: new Set([t.id, ...t.loopOver]) }, raw.loop_condition, [
        ...p,
        'loop_condition',
      ]);
    }
    if (t.type === 'SET') templates(ctx, up, site, raw.values, [...p, 'values']);
    if (t.type === 'SET') templates(ctx, up, site, raw.search, [...p, 'search']);
    if (t.type === 'EMIT') templates(ctx, up, site, raw.data, [...p, 'data']);
    // A COMMAND's argv, cwd and env resolve when an attempt starts, as its input does (per item when it is a MAP's iterator).
    if (t.type === 'COMMAND')
      for (const key of ['command', 'cwd', 'env'] as const)
        templates(ctx, up, key === 'cwd' ? inputSite : { ...inputSite, secrets: true }, raw[key], [...p, key]);
    // An HTTP task's request is its input (definition/http.ts): resolved when an attempt starts, secrets allowed.
    if (t.type === 'HTTP')
      for (const key of ['url', 'headers', 'query', 'body'] as const)
        templates(ctx, up, { ...inputSite, secrets: true }, raw[key], [...p, key]);
    if (t.type === 'MAP') templates(ctx, up, site, raw.items, [...p, 'items']);
    if (t.type === 'MAP' && t.fork)
      for (const k of ['branches', 'inputs'] as const) templates(ctx, up, site, raw[k], [...p, k]);
    // A SIMPLE's handler and a SUB_WORKFLOW's workflow may be chosen at run time: resolved when an attempt starts, as its input.
    if (t.type === 'SIMPLE') templates(ctx, up, inputSite, raw.handler, [...p, 'handler']);
    if (t.type === 'SUB_WORKFLOW') templates(ctx, up, inputSite, raw.workflow, [...p, 'workflow']);
    if (t.type === 'TERMINATE') templates(ctx, up, site, raw.reason, [...p, 'reason']);
    if (t.type === 'WAIT') templates(ctx, up, site, raw.until, [...p, 'until']);
  }
  // The workflow's output and the failure handler run after every task: any known task may be read.
  if (isObj(wf.output)) templates(ctx, up, { owner: 'workflow output' }, wf.output, ['workflow', 'output']);
  if (isObj(wf.failure_workflow)) {
    templates(ctx, up, { owner: 'failure_workflow' }, wf.failure_workflow.input, [
      'workflow',
      'failure_workflow',
      'input',
    ]);
  }
  if (isObj(wf.search)) templates(ctx, up, { owner: 'search', atStart: true }, wf.search, ['workflow', 'search']);
  if (isObj(wf.concurrency))
    templates(ctx, up, { owner: 'concurrency.key', atStart: true }, wf.concurrency.key, [
      'workflow',
      'concurrency',
      'key',
    ]);
  if (Array.isArray(wf.triggers)) {
    wf.triggers.forEach((tr, i) => {
      if (!isObj(tr)) return;
      const site: Site = { owner: `triggers[${i}]`, trigger: tr.event !== undefined ? 'event' : 'schedule' };
      templates(ctx, up, site, tr.input, ['workflow', 'triggers', i, 'input']);
      condition(ctx, up, site, tr.filter, ['workflow', 'triggers', i, 'filter']);
    });
  }
}
