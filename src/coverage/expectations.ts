/**
 * Expectations a workflow author writes next to a definition (`expectations/<name>.yaml` in the folder of
 * `<name>.yaml`: not `<name>.expect.yaml`, which `definitions/*.yaml` globs and the trigger catalog would take for a
 * workflow): for this input, these task outputs, attempt outcomes and approvals, the run ends so and these tasks end
 * so. `ledgerflow test` runs each against the real runtime (scripted handlers, virtual time) along with the generated
 * paths. Parsing is pure; reading the file is the caller's business.
 */
import { basename, dirname, join } from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { TASK_STATUSES } from '../compiler/index.js';
import type { Definition } from '../definition/index.js';
import { UsageError } from '../errors/index.js';
import { WorkflowStatus } from '../events/index.js';

const TaskStatus = z.enum(TASK_STATUSES);
const TaskExpectation = z.union([
  TaskStatus,
  z.strictObject({
    status: TaskStatus.optional(),
    case: z.string().nullable().optional(),
    attempts: z.number().int().positive().optional(),
  }),
]);

export const ExpectationSchema = z.strictObject({
  name: z.string().min(1),
  /** Inputs left out take their default, or a placeholder of their declared type. */
  input: z.record(z.string(), z.unknown()).default({}),
  /** What each task returns when an attempt succeeds (default: its declared output names, each null). */
  outputs: z.record(z.string(), z.unknown()).default({}),
  /** How each attempt ends, in order; attempts past the list succeed. fatal = a NonRetryableError; timeout = never answers. */
  attempts: z.record(z.string(), z.array(z.enum(['ok', 'fail', 'fatal', 'timeout'])).min(1)).default({}),
  /** What the person decides on a HUMAN task (default approved); timeout = nobody decides (on a WAIT: no signal comes). */
  approvals: z.record(z.string(), z.enum(['approved', 'rejected', 'timeout'])).default({}),
  expect: z.strictObject({
    status: WorkflowStatus.optional(),
    tasks: z.record(z.string(), TaskExpectation).default({}),
    /** Keys of the workflow output that must have these values (others are not checked). */
    output: z.record(z.string(), z.unknown()).optional(),
  }),
});
export type Expectation = z.infer<typeof ExpectationSchema>;
const FileSchema = z.strictObject({ expectations: z.array(ExpectationSchema) });

/** `definitions/inventory-validation.yaml` → `definitions/expectations/inventory-validation.yaml`. */
export function expectationsFileFor(definitionFile: string): string {
  return join(dirname(definitionFile), 'expectations', basename(definitionFile));
}

function invalid(file: string, problems: string[]): never {
  throw new UsageError(`${file}: invalid expectations:\n  ${problems.join('\n  ')}`, { file, problems });
}

/** Parses and checks an expectations file against its definition: every task it names must exist and be of the right type. */
export function parseExpectations(text: string, def: Definition, file = '<expectations>'): Expectation[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  /** file:line:col of a key (where a person looks for a wrong name), else of the value, else the file. */
  const at = (path: readonly PropertyKey[]) => {
    const parent = doc.getIn(path.slice(0, -1) as (string | number)[], true);
    const last = String(path.at(-1));
    const pair = isMap(parent) ? parent.items.find((p) => isScalar(p.key) && String(p.key.value) === last) : undefined;
    const node = (pair && isScalar(pair.key) ? pair.key : doc.getIn(path as (string | number)[], true)) as
      | { range?: [number, number, number] }
      | undefined;
    const pos = node?.range ? lineCounter.linePos(node.range[0]) : null;
    return pos ? `${file}:${pos.line}:${pos.col}` : file;
  };
  if (doc.errors.length > 0) {
    invalid(
      file,
      doc.errors.map((e) => {
        const p = lineCounter.linePos(e.pos[0]);
        return `${file}:${p.line}:${p.col}: YAML: ${e.message}`;
      }),
    );
  }
  const parsed = FileSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    const dotted = (path: PropertyKey[]) =>
      path
        .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
        .join('')
        .replace(/^\./, '');
    invalid(
      file,
      parsed.error.issues.map(
        (i) =>
          `${at(i.path)}: ${dotted(i.path) || '(top)'}: ${i.message}${i.path.length === 0 ? ' (expected a map with an `expectations:` list)' : ''}`,
      ),
    );
  }
  const byId = new Map(def.tasks.map((t) => [t.id, t]));
  const problems: string[] = [];
  parsed.data.expectations.forEach((e, i) => {
    const check = (field: string, ids: string[], types?: string[]) => {
      for (const id of ids) {
        const t = byId.get(id);
        const where = `${at(['expectations', i, ...field.split('.'), id])}: expectations[${i}].${field}.${id}`;
        if (!t) problems.push(`${where}: ${def.id} has no task "${id}"; its tasks are ${[...byId.keys()].join(', ')}`);
        else if (types && !types.includes(t.type))
          problems.push(`${where}: ${id} is a ${t.type} task; ${field} applies to ${types.join(', ')} tasks`);
      }
    };
    check('outputs', Object.keys(e.outputs), ['SIMPLE', 'COMMAND', 'HTTP', 'SUB_WORKFLOW', 'EMIT', 'MAP', 'TRANSFORM']);
    check('attempts', Object.keys(e.attempts), [
      'SIMPLE',
      'COMMAND',
      'HTTP',
      'SUB_WORKFLOW',
      'EMIT',
      'MAP',
      'TRANSFORM',
    ]);
    check('approvals', Object.keys(e.approvals), ['HUMAN', 'WAIT']);
    // A WAIT has no approval: only `timeout` (its signal never arrives) says something of it.
    for (const [id, how] of Object.entries(e.approvals)) {
      if (byId.get(id)?.type === 'WAIT' && how !== 'timeout')
        problems.push(
          `${at(['expectations', i, 'approvals', id])}: expectations[${i}].approvals.${id}: ${id} is a WAIT task; the one thing to say of it is timeout (its signal never arrives)`,
        );
    }
    check('expect.tasks', Object.keys(e.expect.tasks));
    const unknown = Object.keys(e.input).filter((k) => !def.inputs.some((d) => d.name === k));
    for (const k of unknown)
      problems.push(
        `${at(['expectations', i, 'input', k])}: expectations[${i}].input.${k}: ${def.id} declares no input "${k}"; its inputs are ${def.inputs.map((d) => d.name).join(', ') || '(none)'}`,
      );
  });
  if (problems.length > 0) invalid(file, problems);
  return parsed.data.expectations;
}
