/**
 * One Conductor WorkflowDef → ledgerflow YAML text, validated with the same parser `ledgerflow validate` uses; or the
 * reasons it cannot be imported.
 */
import { Document } from 'yaml';
import { parseDefinition } from '../../definition/index.js';
import { Ctx, type LfTask, type Refusal, safeId } from './context.js';
import { Flow } from './flow.js';
import { type WorkflowDef, WorkflowDefSchema } from './schema.js';
import { Templates } from './templates.js';

/** One imported definition: its ledgerflow id, the YAML text and what changed on the way. */
export interface ImportedDefinition {
  workflowId: string;
  conductorName: string;
  yaml: string;
  notes: string[];
}

interface WorkflowImport {
  definitions: ImportedDefinition[];
  refusals: Refusal[];
}

const workflowId = (name: string): string => safeId(name, 'w_');

const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();

/** Reads one WorkflowDef (unknown JSON) and converts it, with any inline sub-workflows it defines. */
/**
 * How to import: `asSimple` names Conductor task types to import as SIMPLE tasks (a handler of the task's name does the
 * work); `integrations: false` refuses Orkes' integration and AI tasks instead of importing them so (types.ts).
 */
export interface ImportOptions {
  asSimple?: readonly string[];
  integrations?: boolean;
}

export function convertWorkflow(json: unknown, source: string, options: ImportOptions = {}, depth = 0): WorkflowImport {
  const parsed = WorkflowDefSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const at = issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
    return {
      definitions: [],
      refusals: [
        { task: '(workflow)', type: 'workflow', why: `not a Conductor workflow definition: ${issue.message}${at}` },
      ],
    };
  }
  const def = parsed.data;
  const ctx = new Ctx(
    workflowId,
    new Set((options.asSimple ?? []).map((s) => s.toUpperCase())),
    options.integrations ?? true,
  );
  const tpl = new Templates(ctx);
  ctx.register(def.tasks);
  new Flow(ctx, tpl).seq(def.tasks, []);
  const workflow = workflowFields(def, ctx, tpl);
  const refusals = [...ctx.refusals];
  const definitions: ImportedDefinition[] = [];
  if (refusals.length === 0) {
    const yaml = toYaml(workflow, def, source, ctx.notes);
    const validation = parseDefinition(yaml, `${workflow.id as string}.yaml`);
    for (const d of validation.diagnostics) {
      const task = taskAt(d.path, ctx);
      if (d.severity === 'error') refusals.push({ ...task, why: `ledgerflow validation: ${d.message} (${d.code})` });
      else ctx.notes.push(`${task.task}: ledgerflow validation warning: ${d.message} (${d.code})`);
    }
    definitions.push({ workflowId: workflow.id as string, conductorName: def.name, yaml, notes: [...ctx.notes] });
  }
  if (depth < 8) {
    for (const inline of ctx.extra) {
      const sub = convertWorkflow(inline, `${source} (inline sub-workflow)`, options, depth + 1);
      definitions.push(...sub.definitions);
      refusals.push(...sub.refusals);
    }
  }
  return refusals.length > 0 ? { definitions: [], refusals } : { definitions, refusals: [] };
}

/** The Conductor task a diagnostic's path points into. */
function taskAt(path: readonly (string | number)[], ctx: Ctx): { task: string; type: string } {
  if (path[0] === 'workflow' && path[1] === 'tasks' && typeof path[2] === 'number') {
    const id = ctx.tasks[path[2]]?.id;
    for (const [ref, lfId] of ctx.ids) if (lfId === id) return { task: ref, type: ctx.byRef.get(ref)?.type ?? '?' };
  }
  return { task: '(workflow)', type: 'workflow' };
}

function workflowFields(def: WorkflowDef, ctx: Ctx, tpl: Templates): LfTask {
  const wf: LfTask = { id: workflowId(def.name) };
  if (wf.id !== def.name) wf.name = def.name;
  if (typeof def.version === 'number' && Number.isInteger(def.version) && def.version >= 1) wf.version = def.version;
  if (def.description !== undefined) wf.description = def.description;
  const output =
    def.outputParameters !== undefined && Object.keys(def.outputParameters).length > 0
      ? tpl.value(def.outputParameters, null)
      : undefined;
  if (typeof def.failureWorkflow === 'string' && def.failureWorkflow !== '') {
    if (def.failureWorkflow.includes('${'))
      ctx.refusals.push({
        task: '(workflow)',
        type: 'workflow',
        why: `failureWorkflow ${def.failureWorkflow} is chosen at run time`,
      });
    else wf.failure_workflow = { id: workflowId(def.failureWorkflow) };
  }
  const timeout = def.timeoutSeconds ?? 0;
  if (timeout > 0 && def.timeoutPolicy === 'ALERT_ONLY')
    ctx.note(
      null,
      `timeoutSeconds ${timeout} with timeoutPolicy ALERT_ONLY: not imported (a ledgerflow run timeout ends the run)`,
    );
  else if (timeout > 0) {
    wf.timeout = `${timeout}s`;
    wf.timeout_policy = 'fail';
  }
  if (def.variables !== undefined && Object.keys(def.variables).length > 0)
    ctx.note(
      null,
      `initial variables ${Object.keys(def.variables).join(', ')} are not imported: set them with a SET task first`,
    );
  // Conductor does not require inputs; every one the templates read is declared optional, with its inputTemplate default.
  const names = [...new Set([...(def.inputParameters ?? []), ...ctx.inputs])].filter((n) =>
    /^[A-Za-z_][A-Za-z0-9_]*$/.test(n),
  );
  const defaults = def.inputTemplate ?? {};
  if (names.length > 0)
    wf.input = { optional: names.map((n) => (defaults[n] !== undefined ? { [n]: defaults[n] } : n)) };
  if (output !== undefined) wf.output = output;
  wf.tasks = ctx.tasks;
  return wf;
}

function toYaml(workflow: LfTask, def: WorkflowDef, source: string, notes: string[]): string {
  const doc = new Document({ workflow });
  const header = [
    ` Imported by \`ledgerflow import conductor\` from ${oneLine(source)}`,
    ` (Conductor workflow "${oneLine(def.name)}"${def.version !== undefined ? ` version ${def.version}` : ''}).`,
    ...notes.map((n) => ` note: ${oneLine(n)}`),
  ];
  doc.commentBefore = header.join('\n');
  return doc.toString({ lineWidth: 0 });
}
