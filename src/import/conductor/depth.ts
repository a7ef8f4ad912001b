/**
 * How deep a Conductor workflow's JSON may nest: the bound a ledgerflow definition has (MAX_NESTING maps and lists,
 * src/definition/aliases.ts). Reading a WorkflowDef (zod), converting its tasks and its templates each take one stack
 * frame per level, so a deeper file would end in a stack overflow whose depth depends on the caller's stack, not on the
 * file. JSON.parse follows any depth; this check walks the parsed value iteratively, before anything recurses.
 */
import { MAX_NESTING } from '../../definition/aliases.js';
import { UsageError } from '../../errors/index.js';

/** Where the bound is passed: the innermost task around that place (its reference and type), and its field there. */
interface TooDeepAt {
  task: string;
  type: string;
  field: string | null;
}

/** The fields of a task that hold tasks: nesting there is tasks inside tasks. */
const TASK_FIELDS = new Set(['decisionCases', 'defaultCase', 'forkTasks', 'loopOver']);

const isTask = (v: Record<string, unknown>): boolean =>
  typeof v.taskReferenceName === 'string' && typeof v.type === 'string';

interface Frame {
  node: unknown;
  depth: number;
  at: TooDeepAt;
}

/**
 * The first place a WorkflowDef (each one of a list) nests maps and lists more than MAX_NESTING deep, or null. The
 * WorkflowDef itself is level 1, as a definition's top-level map is.
 */
export function conductorTooDeep(json: unknown): TooDeepAt | null {
  const roots = Array.isArray(json) ? json : [json];
  // Pushed last to first, so the place reported is the first in the file.
  const stack: Frame[] = roots
    .map((node): Frame => ({ node, depth: 1, at: { task: '(workflow)', type: 'workflow', field: null } }))
    .reverse();
  while (stack.length > 0) {
    const { node, depth, at } = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > MAX_NESTING) return at;
    if (Array.isArray(node)) {
      for (let i = node.length - 1; i >= 0; i--) stack.push({ node: node[i], depth: depth + 1, at });
      continue;
    }
    const map = node as Record<string, unknown>;
    const task = isTask(map) ? { task: map.taskReferenceName as string, type: map.type as string } : null;
    for (const [key, value] of Object.entries(map).reverse()) {
      // Below a task (or the workflow itself), the field it came through says what nests: its tasks, or data.
      const here = task ? { ...task, field: key } : at.field === null ? { ...at, field: key } : at;
      stack.push({ node: value, depth: depth + 1, at: here });
    }
  }
  return null;
}

function fix(at: TooDeepAt): string {
  if (at.field !== null && TASK_FIELDS.has(at.field))
    return 'move the tasks inside it into a workflow of their own, run by a SUB_WORKFLOW task';
  if (at.field === 'subWorkflowParam')
    return 'save the inline sub-workflow (subWorkflowParam.workflowDefinition) as a workflow of its own and name it in subWorkflowParam.name';
  return 'keep deep data out of the definition (pass it as workflow input)';
}

/** A Conductor file nested deeper than a definition may be: refused whole (exit 2), nothing imported or written. */
export class ConductorTooDeepError extends UsageError {
  constructor(file: string, at: TooDeepAt) {
    const where = at.task === '(workflow)' ? 'the workflow' : `task ${at.task} (${at.type})`;
    const what = at.field === null ? 'it nests' : `its ${at.field} nests`;
    super(
      `${file}: ${where}: ${what} JSON maps and lists more than ${MAX_NESTING} levels deep (a workflow needs a few); nothing was imported: ${fix(at)}`,
      { file, task: at.task, type: at.type, field: at.field, limit: MAX_NESTING },
      'LF_IMPORT_TOO_DEEP',
    );
  }
}
