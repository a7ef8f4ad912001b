/**
 * FORK_DYNAMIC (docs/language.md#fork_dynamic-branches-chosen-at-run-time): a fork whose branches are a list a template
 * gives when the task starts, each branch `{ id, type, handler | workflow, input }`, and a JOIN after it. It runs as a
 * MAP does (compiler/map.ts: one item per branch, their attempts, retries, timeouts and child runs), so the canonical
 * task is a MapTask with `fork` set: `items` is the `branches` template, `fork.inputs` the optional `inputs` template.
 * This file holds what is its own: the normalised task, and the run-time check of the list (zod), which fails the task
 * with a message naming the element and the fix rather than running anything of a bad list.
 */
import { z } from 'zod';
import { BRANCH_TYPE_OF, httpBranchRequest, transformBranch } from './fork-dynamic-branch.js';
import { compact, int, type Raw, str } from './normalize-values.js';
import type { MapTask, TaskBase } from './task-types.js';

/** The types a branch may have: a handler's attempt, a child run, an HTTP request, a jq or js program. */
export const FORK_BRANCH_TYPES = ['SIMPLE', 'SUB_WORKFLOW', 'HTTP', 'TRANSFORM'] as const;

/** One branch of a FORK_DYNAMIC, as the run's state keeps it (the MAP item's value). */
export interface ForkBranch {
  id: string;
  type: (typeof FORK_BRANCH_TYPES)[number];
  /** SIMPLE: the handler its attempts run. */
  handler?: string;
  /** SUB_WORKFLOW: the workflow its child run runs, and the version. */
  workflow?: string;
  version?: number;
  /** TRANSFORM: the program the executor runs over the input (as a TRANSFORM task's). */
  transform?: { jq: string } | { js: string };
  /** The input; an HTTP branch's is its request (what the HTTP executor sends, as an HTTP task's input is). */
  input: Record<string, unknown>;
}

/** The canonical task of a `type: FORK_DYNAMIC` entry: a MAP over its branches (see above). */
export function forkDynamicTask(base: TaskBase, t: Raw): MapTask {
  return compact({
    ...base,
    type: 'MAP' as const,
    items: str(t.branches) ?? '',
    iterator: '',
    maxConcurrency: int(t.max_concurrency, 1),
    fork: compact({ inputs: str(t.inputs) }),
  });
}

/** Whether a task is a FORK_DYNAMIC (a MAP over branches). */
export function isDynamicFork(t: { type: string }): t is MapTask & { fork: { inputs?: string } } {
  return t.type === 'MAP' && (t as MapTask).fork !== undefined;
}

const BRANCH_ID = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;
const FIX =
  'each element must be { id, type: SIMPLE (with handler), SUB_WORKFLOW (with workflow), HTTP (input: the request) or TRANSFORM (with jq or js), input } — or a Conductor task { taskReferenceName, name, type (SIMPLE, SUB_WORKFLOW, HTTP, INLINE, LAMBDA, JSON_JQ_TRANSFORM), subWorkflowParam, inputParameters }';

/** An element as written: ledgerflow's names, or Conductor's (`taskReferenceName`, `name`, `subWorkflowParam`, `inputParameters`). */
const Element = z.looseObject({
  id: z.string().optional(),
  taskReferenceName: z.string().optional(),
  type: z.string().optional(),
  name: z.string().optional(),
  handler: z.string().optional(),
  jq: z.string().optional(),
  js: z.string().optional(),
  workflow: z.string().optional(),
  version: z.number().int().min(1).optional(),
  subWorkflowParam: z
    .looseObject({ name: z.string().optional(), version: z.number().int().min(1).optional() })
    .optional(),
  input: z.record(z.string(), z.unknown()).optional(),
  inputParameters: z.record(z.string(), z.unknown()).optional(),
});

const Inputs = z.record(z.string(), z.unknown());

const typeName = (v: unknown): string =>
  v === null
    ? 'null'
    : v === undefined
      ? 'nothing (the reference is missing)'
      : Array.isArray(v)
        ? 'a list'
        : typeof v === 'object'
          ? 'an object'
          : `a ${typeof v}`;

/**
 * The branches a FORK_DYNAMIC's `branches` and `inputs` resolved to, checked; or the message of the error that fails
 * the task (which element, what is wrong with it, and the shape it must have). A branch's input is the element's own
 * `input` (or `inputParameters`) with `inputs[id]` (Conductor's dynamicForkTasksInputParamName) put over it, key by key,
 * as Conductor puts a forked task's input over its inputParameters.
 */
export function parseBranches(
  taskId: string,
  value: unknown,
  inputs: unknown,
  timeoutMs?: number,
): { branches: ForkBranch[] } | { message: string } {
  const where = `branches of FORK_DYNAMIC task ${taskId}`;
  if (!Array.isArray(value))
    return { message: `${where} gave ${typeName(value)}, not a list; it must name a list of branches: ${FIX}` };
  if (inputs !== undefined && inputs !== null && !Inputs.safeParse(inputs).success)
    return {
      message: `inputs of FORK_DYNAMIC task ${taskId} gave ${typeName(inputs)}, not a map; it must map each branch's id to its input, e.g. { fetch_a: { url: "…" } }`,
    };
  const byId = (inputs ?? {}) as Record<string, unknown>;
  const branches: ForkBranch[] = [];
  const seen = new Set<string>();
  for (const [i, raw] of value.entries()) {
    const at = `element ${i} of the ${where}`;
    const parsed = Element.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.length > 0 ? ` (${issue.path.join('.')})` : '';
      return { message: `${at} is not a branch${field}: ${issue.message}; ${FIX}` };
    }
    const e = parsed.data;
    const id = e.id ?? e.taskReferenceName;
    if (id === undefined) return { message: `${at} has no id (or taskReferenceName); ${FIX}` };
    if (!BRANCH_ID.test(id))
      return {
        message: `${at} has id "${id.slice(0, 200)}": a branch id starts with a letter or _, then letters, digits, _ and - (at most 128)`,
      };
    if (seen.has(id))
      return { message: `${at} has id ${id}, which an earlier element has: each branch needs its own id` };
    seen.add(id);
    const written = (e.type ?? 'SIMPLE').toUpperCase();
    const type = BRANCH_TYPE_OF[written];
    if (type === undefined)
      return {
        message: `${at} (${id}) has type ${e.type}; a branch is SIMPLE (a handler), SUB_WORKFLOW (a child run), HTTP (a request) or TRANSFORM (jq or js; Conductor's JSON_JQ_TRANSFORM, INLINE, LAMBDA): ${FIX}`,
      };
    const own = byId[id];
    if (own !== undefined && own !== null && !Inputs.safeParse(own).success)
      return {
        message: `inputs.${id} of FORK_DYNAMIC task ${taskId} is ${typeName(own)}; a branch's input is a map of names to values`,
      };
    // Conductor's rule (ForkJoinDynamicTaskMapper): the element's own inputParameters, then inputs[id] put over them.
    const input = { ...(e.input ?? e.inputParameters), ...(own as Record<string, unknown> | null | undefined) };
    if (type === 'SUB_WORKFLOW') {
      const workflow = e.workflow ?? e.subWorkflowParam?.name;
      if (workflow === undefined || workflow === '')
        return { message: `${at} (${id}) is a SUB_WORKFLOW with no workflow (or subWorkflowParam.name): ${FIX}` };
      const version = e.version ?? e.subWorkflowParam?.version;
      branches.push({ id, type, workflow, ...(version !== undefined ? { version } : {}), input });
    } else if (type === 'HTTP') {
      const request = httpBranchRequest(input, timeoutMs);
      if (typeof request === 'string')
        return {
          message: `${at} (${id}) is an HTTP branch, and ${request}; its input is the request { method, url, headers, query, body } (or Conductor's http_request: { uri, method, headers, body })`,
        };
      branches.push({ id, type, input: request });
    } else if (type === 'TRANSFORM') {
      const program = transformBranch(written, e, input);
      if (typeof program === 'string') return { message: `${at} (${id}) is a ${written} branch, and ${program}` };
      branches.push({ id, type, transform: program.transform, input: program.input });
    } else {
      branches.push({ id, type, handler: e.handler ?? e.name ?? id, input });
    }
  }
  return { branches };
}
