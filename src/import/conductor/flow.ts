/**
 * Conductor's nested task lists made into ledgerflow's flat list with dependencies, in Conductor's order: each task of
 * a list depends on what the task before it ends with (its exits); a SWITCH becomes a DECISION whose cases name their
 * first task; a FORK_JOIN a FORK naming each branch's first task, and its JOIN a JOIN on what the branches end with; a
 * DO_WHILE's body goes in its loop_over (flow-loops.ts: DO_WHILE and HTTP_POLL).
 */
import { attemptSettings, commonSettings } from './common.js';
import type { Ctx, LfTask } from './context.js';
import type { ConductorTask } from './schema.js';
import { httpPoll, loop } from './flow-loops.js';
import { dynamicForkTasks, sameTaskForks } from './flow-dynamic-fork.js';
import { lambdaBody, scriptFields, scriptTask } from './javascript.js';
import { NotPlain } from './script.js';
import { translateCases, translateScript, translateValue } from './translate.js';
import { MISSING_REF, type Templates } from './templates.js';
import { integrationNote, isIntegration, mapOther } from './types.js';

/** Types that shape the flow: never imported as a SIMPLE task. */
const STRUCTURAL = new Set([
  'SWITCH',
  'DECISION',
  'FORK_JOIN',
  'FORK_JOIN_DYNAMIC',
  'JOIN',
  'EXCLUSIVE_JOIN',
  'DO_WHILE',
  'SUB_WORKFLOW',
  'TERMINATE',
  'SET_VARIABLE',
  'WAIT',
  'HUMAN',
]);

export class Flow {
  constructor(
    readonly ctx: Ctx,
    readonly tpl: Templates,
  ) {}

  /** Converts a list; the first task depends on `entry`. Returns what the list ends with. */
  seq(list: readonly ConductorTask[], entry: string[]): string[] {
    let deps = entry;
    for (const t of list) deps = this.one(t, deps);
    return deps;
  }

  emit(t: ConductorTask, type: string, deps: string[], fields: LfTask): LfTask {
    const lf: LfTask = { id: this.ctx.id(t), type };
    if (t.name !== undefined && t.name !== t.taskReferenceName && type !== 'SIMPLE') lf.name = t.name;
    if (t.description !== undefined) lf.description = t.description;
    if (deps.length > 0) lf.depends_on = deps.length === 1 ? deps[0] : deps;
    Object.assign(lf, fields, commonSettings(t, this.ctx));
    this.ctx.tasks.push(lf);
    this.ctx.exits.set(t.taskReferenceName, [lf.id as string]);
    return lf;
  }

  /** The id of the first ledgerflow task a Conductor task became (the script's TRANSFORM before a SWITCH, else its own). */
  private entry(t: ConductorTask): string {
    return this.ctx.entries.get(t.taskReferenceName) ?? this.ctx.id(t);
  }

  /** A task the importer adds (not one of Conductor's): `fields` with its id and dependencies. */
  add(id: string, deps: string[], fields: LfTask): void {
    this.ctx.tasks.push({
      id,
      type: fields.type,
      ...(deps.length > 0 ? { depends_on: deps.length === 1 ? deps[0] : deps } : {}),
      ...fields,
    });
  }

  private input(t: ConductorTask): LfTask {
    const ip = t.inputParameters ?? {};
    return Object.keys(ip).length === 0 ? {} : { input: this.tpl.value(ip, t) };
  }

  private one(t: ConductorTask, deps: string[]): string[] {
    const id = this.ctx.id(t);
    const integration = this.ctx.integrations && isIntegration(t.type);
    if ((this.ctx.asSimple.has(t.type) || integration) && !STRUCTURAL.has(t.type)) {
      this.ctx.note(
        t,
        integration && !this.ctx.asSimple.has(t.type)
          ? integrationNote(t.type, t.name ?? t.taskReferenceName)
          : `imported as a SIMPLE task (--as-simple ${t.type}): a handler named ${t.name ?? t.taskReferenceName} does its work`,
      );
      this.emit(t, 'SIMPLE', deps, {
        handler: t.name ?? t.taskReferenceName,
        ...this.input(t),
        ...attemptSettings(t, this.ctx),
      });
      return [id];
    }
    switch (t.type) {
      case 'SIMPLE':
        if (t.asyncComplete === true)
          this.ctx.note(t, "asyncComplete: the handler's return completes the task in ledgerflow");
        this.emit(t, 'SIMPLE', deps, {
          handler: t.name ?? t.taskReferenceName,
          ...this.input(t),
          ...attemptSettings(t, this.ctx),
        });
        return [id];
      case 'SWITCH':
      case 'DECISION':
        return this.decision(t, deps);
      case 'FORK_JOIN': {
        const branches = (t.forkTasks ?? []).filter((b) => b.length > 0);
        const fork = this.emit(t, 'FORK', deps, { fork_tasks: branches.map((b) => this.ctx.id(b[0]!)) });
        const exits = branches.flatMap((b) => this.seq(b, []));
        // A branch whose first task got a task before it (a SWITCH's script) starts there.
        fork.fork_tasks = branches.map((b) => this.entry(b[0]!));
        const out = exits.length > 0 ? exits : [id];
        this.ctx.exits.set(t.taskReferenceName, out);
        return out;
      }
      case 'JOIN':
      case 'EXCLUSIVE_JOIN': {
        // A JOIN naming itself (as some exports have after a FORK_JOIN_DYNAMIC, whose forked tasks Conductor fills in) joins what comes before it.
        const on = [
          ...(t.joinOn ?? []),
          ...(t.type === 'EXCLUSIVE_JOIN' ? (t.defaultExclusiveJoinTask ?? []) : []),
        ].filter((r) => r !== t.taskReferenceName);
        const unknown = on.filter((r) => !this.ctx.ids.has(r));
        if (unknown.length > 0)
          this.ctx.refuse(
            t,
            `joinOn names ${unknown.join(', ')}, which ${unknown.length === 1 ? 'is' : 'are'} no task of this workflow`,
          );
        const joinOn =
          on.length === 0 ? deps : [...new Set(on.flatMap((r) => this.ctx.exits.get(r) ?? [this.ctx.ids.get(r) ?? r]))];
        if (t.type === 'EXCLUSIVE_JOIN')
          this.ctx.note(
            t,
            'EXCLUSIVE_JOIN becomes a JOIN: the branches that did not run are SKIPPED, which a JOIN passes over',
          );
        this.emit(t, 'JOIN', [], { join_on: joinOn });
        return [id];
      }
      case 'FORK_JOIN_DYNAMIC':
        return this.dynamicFork(t, deps);
      case 'DO_WHILE':
        return loop(this, t, deps);
      case 'HTTP_POLL':
        return httpPoll(this, t, deps);
      case 'INLINE':
      case 'LAMBDA':
        return this.inline(t, deps);
      case 'NOOP':
        this.emit(t, 'SET', deps, { values: {} });
        return [id];
      default: {
        const fields = mapOther(t, this.ctx, this.tpl);
        if (fields === null) return [id];
        const { type, ...rest } = fields;
        this.emit(t, type as string, deps, rest);
        return [id];
      }
    }
  }

  /** A script's string literal that is one `${...}`, as ledgerflow text (null: not one it can read). */
  private readonly templateRef = (template: string): string | null => {
    const b = this.tpl.body(template.slice(2, -1));
    return b === MISSING_REF ? 'null' : b.startsWith('!') ? null : `\${${b}}`;
  };

  script(t: ConductorTask, src: string, extra?: (path: string[]) => string | null): string {
    try {
      return translateScript(src, (path) => this.tpl.dollar(t, path, extra), this.templateRef);
    } catch (err) {
      if (err instanceof NotPlain) return `\0${err.message}`;
      throw err;
    }
  }

  private decision(t: ConductorTask, entry: string[]): string[] {
    let deps = entry;
    const id = this.ctx.id(t);
    const ip = t.inputParameters ?? {};
    const cases = Object.entries(t.decisionCases ?? {});
    const fields: LfTask = {};
    const param =
      t.type === 'DECISION' ? t.caseValueParam : t.evaluatorType === 'value-param' ? t.expression : undefined;
    const script =
      t.type === 'DECISION'
        ? t.caseExpression
        : t.evaluatorType === 'javascript' || t.evaluatorType === 'graaljs'
          ? t.expression
          : undefined;
    let conditions: Record<string, string> | null = null;
    if (param !== undefined) {
      const given = ip[param];
      if (given === undefined) this.ctx.refuse(t, `the case value ${param} is none of the task's inputParameters`);
      else if (typeof given === 'string') fields.decision_param = this.tpl.text(given, t);
      else if (typeof given === 'number' || typeof given === 'boolean') fields.decision_param = String(given);
      else this.ctx.refuse(t, `the case value ${param} is not a reference or a plain value`);
    } else if (script !== undefined) {
      try {
        const translated = translateCases(
          script,
          cases.map(([name]) => name),
          (path) => this.tpl.dollar(t, path),
          this.templateRef,
        );
        conditions = translated.conditions;
        this.ctx.note(t, `the JavaScript became the condition ${translated.expression}`);
      } catch (err) {
        if (!(err instanceof NotPlain)) throw err;
        // Beyond a plain comparison: a TRANSFORM before the DECISION runs the script, and the DECISION reads its value.
        const js = scriptTask(t, script, this.ctx, this.tpl);
        if (js !== null) {
          const jsId = this.ctx.freshId(`${id}_js`);
          this.add(jsId, deps, scriptFields(js));
          deps = [jsId];
          this.ctx.entries.set(t.taskReferenceName, jsId);
          fields.decision_param = `\${${jsId}.output.result}`;
          this.ctx.note(
            t,
            `its JavaScript (beyond a plain comparison: it has ${err.message}) runs in the TRANSFORM ${jsId} before it (js:, in a sandbox); the DECISION takes the case its result names`,
          );
        }
      }
    } else {
      this.ctx.refuse(t, `evaluatorType ${t.evaluatorType ?? '(none)'} is not value-param, javascript or graaljs`);
    }
    const lfCases: Record<string, LfTask> = {};
    const hasDefault = (t.defaultCase ?? []).length > 0;
    for (const [name, list] of cases) {
      // An empty case runs nothing: left out, unless a default would then run instead of nothing.
      if (list.length === 0 && !hasDefault) continue;
      if (name === 'default') this.ctx.refuse(t, 'a case named "default" would be ledgerflow\'s default case');
      const c: LfTask = {};
      if (conditions !== null) c.condition = conditions[name];
      if (list.length > 0) c.next = this.ctx.id(list[0]!);
      lfCases[name] = c;
    }
    if ((t.defaultCase ?? []).length > 0) lfCases.default = { next: this.ctx.id(t.defaultCase![0]!) };
    this.emit(t, 'DECISION', deps, { ...fields, decision_cases: lfCases });
    const exits = [id];
    for (const [, list] of cases) if (list.length > 0) exits.push(...this.seq(list, []));
    if ((t.defaultCase ?? []).length > 0) exits.push(...this.seq(t.defaultCase!, []));
    // A case whose first task got a task before it (a SWITCH's script) starts there.
    for (const [name, list] of cases)
      if (list.length > 0 && lfCases[name] !== undefined) lfCases[name].next = this.entry(list[0]!);
    if ((t.defaultCase ?? []).length > 0) lfCases.default = { next: this.entry(t.defaultCase![0]!) };
    this.ctx.exits.set(t.taskReferenceName, exits);
    return exits;
  }

  private dynamicFork(t: ConductorTask, deps: string[]): string[] {
    // One task type for every fork (forkTaskType): a FORK_DYNAMIC over the list Conductor would make (flow-dynamic-fork.ts).
    if (t.inputParameters?.forkTaskType !== undefined && t.inputParameters?.forkTaskWorkflow === undefined)
      return sameTaskForks(this, t, deps);
    // Each fork its own task (dynamicForkTasksParam): a FORK_DYNAMIC; one task for every fork (forkTaskName, below): a MAP.
    const sameTask = t.inputParameters?.forkTaskName !== undefined || t.inputParameters?.forkTaskWorkflow !== undefined;
    if (t.dynamicForkTasksParam !== undefined && !sameTask) return dynamicForkTasks(this, t, deps);
    const ip = t.inputParameters ?? {};
    const name = typeof ip.forkTaskName === 'string' ? ip.forkTaskName : undefined;
    const workflow = typeof ip.forkTaskWorkflow === 'string' ? ip.forkTaskWorkflow : undefined;
    const items = ip.forkTaskInputs;
    if (
      (name === undefined && workflow === undefined) ||
      typeof items !== 'string' ||
      !/^\s*\$\{[^{}]*\}\s*$/.test(items) ||
      `${name ?? ''}${workflow ?? ''}`.includes('${')
    ) {
      this.ctx.refuse(
        t,
        'the tasks it forks are chosen at run time (dynamicForkTasksParam); only the form with a fixed forkTaskName or forkTaskWorkflow and forkTaskInputs given by a reference maps to a MAP',
      );
      return [this.ctx.id(t)];
    }
    const body = name !== undefined ? { handler: name } : { workflow: this.ctx.subWorkflowId(workflow!) };
    this.ctx.note(
      t,
      'FORK_JOIN_DYNAMIC becomes a MAP: each element of forkTaskInputs is ${item}, given to each run as input.item (Conductor gave it as the whole input)',
    );
    this.emit(t, 'MAP', deps, {
      items: this.tpl.text(items.trim(), t),
      ...body,
      input: { item: '${item}' },
      ...attemptSettings(t, this.ctx),
    });
    return [this.ctx.id(t)];
  }

  private inline(t: ConductorTask, deps: string[]): string[] {
    const ip = t.inputParameters ?? {};
    const src = t.type === 'LAMBDA' ? ip.scriptExpression : ip.expression;
    if (typeof src !== 'string') {
      this.ctx.refuse(t, `no ${t.type === 'LAMBDA' ? 'scriptExpression' : 'expression'} to read`);
      return [this.ctx.id(t)];
    }
    let value: unknown;
    try {
      const body = t.type === 'LAMBDA' ? lambdaBody(src) : src;
      value = translateValue(body, (path) => this.tpl.dollar(t, path), this.templateRef);
    } catch (err) {
      if (!(err instanceof NotPlain)) throw err;
      // Beyond a plain value: the script runs in a TRANSFORM (js:), whose output is Conductor's { result }.
      const js = scriptTask(t, src, this.ctx, this.tpl);
      if (js === null) return [this.ctx.id(t)];
      this.ctx.note(
        t,
        `${t.type} JavaScript beyond a plain value (it has ${err.message}): a TRANSFORM running the script (js:, in a sandbox); \${${this.ctx.id(t)}.output.result} reads its value, as in Conductor`,
      );
      const { type: _type, ...fields } = scriptFields(js);
      this.emit(t, 'TRANSFORM', deps, { ...fields, ...attemptSettings(t, this.ctx) });
      return [this.ctx.id(t)];
    }
    this.ctx.note(t, `${t.type} gives a plain value: a SET of result (also the workflow variable result)`);
    this.emit(t, 'SET', deps, { values: { result: value } });
    return [this.ctx.id(t)];
  }
}
