/**
 * What a definition reads, and where: every `${...}` of its templates and every reference of its conditions, each with
 * the YAML path of the string it is in. The diff asks it who still reads an output or a task that a new version
 * removed. Read off the normalised definition (so a definition without its text answers too), with the raw key names
 * (templates.ts checks the same places).
 */
import type { Definition, JsonValue, TaskDef } from '../definition/index.js';
import { collectRefs, conditionRefs, findRefs, type Ref } from '../expressions/index.js';
import { taskPath, type RawPath } from './where.js';

export interface Read {
  ref: Ref;
  /** Who reads, for messages: `task ship`, `the workflow's output`, `trigger 1 (event order.created)`. */
  reader: string;
  /** The task that reads, when a task does. */
  task?: string;
  /** The string's path in the YAML, and the offset of the reference in it. */
  path: RawPath;
  offset: number;
}

type Part = [key: string, value: JsonValue | undefined];

/** The template fields of a task, by their YAML keys (conditions apart: conditionReads). */
function templateParts(t: TaskDef): Part[] {
  const parts: Part[] = [
    ['input', t.input],
    ['output', t.output.values],
    ['output_to', t.outputTo],
  ];
  switch (t.type) {
    case 'DECISION':
      return [...parts, ['decision_param', t.decisionParam]];
    case 'SET':
      return [...parts, ['values', t.values], ['search', t.search]];
    case 'EMIT':
      return [...parts, ['data', t.data]];
    case 'COMMAND':
      return [...parts, ['command', t.command], ['cwd', t.cwd], ['env', t.env]];
    case 'HTTP':
      return [...parts, ['url', t.url], ['headers', t.headers], ['query', t.query], ['body', t.body]];
    case 'MAP':
      return [...parts, ['items', t.items]];
    case 'TERMINATE':
      return [...parts, ['reason', t.reason]];
    case 'WAIT':
      return [...parts, ['until', t.until]];
    default:
      return parts;
  }
}

function conditionParts(t: TaskDef): [RawPath, string][] {
  if (t.type === 'DECISION')
    return t.cases.flatMap((c): [RawPath, string][] =>
      c.condition === undefined ? [] : [[['decision_cases', c.name, 'condition'], c.condition]],
    );
  if (t.type === 'DO_WHILE') return [[['loop_condition'], t.loopCondition]];
  return [];
}

function templateReads(value: JsonValue | undefined, path: RawPath, reader: string, task?: string): Read[] {
  if (value === undefined) return [];
  return collectRefs(value).map((r) => ({
    ref: r.ref,
    reader,
    ...(task === undefined ? {} : { task }),
    path: [...path, ...r.path],
    offset: r.offset,
  }));
}

/** Where a condition's reference starts: its `${`, else its first name (a bare reference has no offset of its own). */
function offsetIn(text: string, ref: Ref): number {
  const written = findRefs(text, 'condition').find((o) => JSON.stringify(o.ref) === JSON.stringify(ref));
  if (written) return written.offset;
  const name = ref.kind === 'task' ? `${ref.task}.` : ref.kind === 'input' ? 'workflow.input' : ref.kind;
  return Math.max(0, text.indexOf(name));
}

function conditionReads(text: string | undefined, path: RawPath, reader: string, task?: string): Read[] {
  if (text === undefined) return [];
  return conditionRefs(text).map((ref) => ({
    ref,
    reader,
    ...(task === undefined ? {} : { task }),
    path,
    offset: offsetIn(text, ref),
  }));
}

/** Every reference the definition's tasks, output, failure workflow, triggers and concurrency key read. */
export function readsOf(def: Definition): Read[] {
  const reads: Read[] = [];
  for (const t of def.tasks) {
    const at = taskPath(t.index);
    for (const [key, value] of templateParts(t))
      reads.push(...templateReads(value, [...at, key], `task ${t.id}`, t.id));
    for (const [sub, text] of conditionParts(t))
      reads.push(...conditionReads(text, [...at, ...sub], `task ${t.id}`, t.id));
  }
  reads.push(...templateReads(def.output.values, ['workflow', 'output'], "the workflow's output"));
  if (def.failureWorkflow)
    reads.push(
      ...templateReads(def.failureWorkflow.input, ['workflow', 'failure_workflow', 'input'], 'failure_workflow'),
    );
  def.triggers.forEach((tr, i) => {
    const reader = `trigger ${i + 1} (${tr.kind === 'event' ? `event ${tr.event}` : `schedule ${tr.cron}`})`;
    reads.push(...templateReads(tr.input, ['workflow', 'triggers', i, 'input'], reader));
    if (tr.kind === 'event') reads.push(...conditionReads(tr.filter, ['workflow', 'triggers', i, 'filter'], reader));
  });
  if (def.concurrency?.key !== undefined)
    reads.push(...templateReads(def.concurrency.key, ['workflow', 'concurrency', 'key'], 'concurrency'));
  return reads;
}

/** The reads of a task's output (`${task.output...}`, whole or one field) or of the task at all (status, error...). */
export const readsOfTask = (reads: readonly Read[], task: string): Read[] =>
  reads.filter((r) => r.ref.kind === 'task' && r.ref.task === task);
