/**
 * What loading a definition can tell of its children from the folder it is in (loadDefinitionFile reports it): a
 * SUB_WORKFLOW or failure_workflow naming nothing there, a sub-workflow cycle.
 */
import { dirname, resolve } from 'node:path';
import { positionIn, type Definition } from '../definition/index.js';
import type { Diagnostic } from '../errors/index.js';
import { folderById, namesAFile, type FolderDefinitions } from './source.js';

/** The child workflows a definition names: its SUB_WORKFLOW tasks' and its MAPs' with a `workflow:` body (id or relative path), with where each is written. */
function childRefs(def: Definition): { workflow: string; path: (string | number)[] }[] {
  return def.tasks.flatMap((t) =>
    // A workflow chosen at run time (`${...}`) names no file to check here.
    (t.type === 'SUB_WORKFLOW' || t.type === 'MAP') && t.workflow && !t.workflow.includes('${')
      ? [{ workflow: t.workflow, path: ['workflow', 'tasks', t.index, 'workflow'] }]
      : [],
  );
}

/**
 * What can be known of a definition's children from the folder it is in: a SUB_WORKFLOW (or failure_workflow) naming no
 * definition there is a warning (it may be deployed elsewhere, e.g. on NATS; at run time the attempt fails with
 * LF_SUBWORKFLOW_NOT_FOUND); a SUB_WORKFLOW through which the workflow calls itself (directly or through others in the
 * folder) is an error (LF_SUBWORKFLOW_CYCLE), at the task's `workflow:` key. `folder` reads the siblings (a
 * folderReader() when many files of one folder are loaded, so each is parsed once, not once per file naming it).
 */
export function checkChildren(
  def: Definition,
  text: string,
  file: string,
  folder: FolderDefinitions = folderById,
): Diagnostic[] {
  const refs = childRefs(def);
  // With `steps`, failure_workflow runs inline: its id names no other definition.
  const fw = def.failureWorkflow?.id && def.failureWorkflow.steps.length === 0 ? def.failureWorkflow.id : undefined;
  if (refs.length === 0 && !fw) return [];
  const dir = dirname(resolve(file));
  const self = resolve(file);
  const me = { definition: def, file: self };
  // The folder's definitions, asked for once per id (a lookup by id may parse only the files that can declare it).
  const byId = new Map<string, { definition: Definition; file: string }[]>();
  const siblings = (id?: string) => {
    const key = id ?? '';
    let found = byId.get(key);
    if (!found) byId.set(key, (found = folder(dir, id)));
    return found;
  };
  const among = (id?: string) => [me, ...siblings(id).filter((d) => d.file !== self)];
  /** The definition a reference from `from` names, among the folder's. */
  const target = (workflow: string, from: string) =>
    namesAFile(workflow)
      ? among().find((d) => d.file === resolve(dirname(from), workflow))
      : among(workflow).find((d) => d.definition.id === workflow);
  const out: Diagnostic[] = [];
  const at = (path: (string | number)[]) => positionIn(text, path);
  const warnMissing = (workflow: string, path: (string | number)[], what: string) => {
    out.push({
      severity: 'warning',
      code: 'LF_SUBWORKFLOW_NOT_FOUND',
      file,
      path,
      ...at(path),
      message: `${what} names workflow "${workflow}", and no definition in ${dir} has that id; put its file beside this one (or deploy it, on NATS), else the run fails here with LF_SUBWORKFLOW_NOT_FOUND`,
    });
  };
  for (const ref of refs) {
    const found = target(ref.workflow, self);
    if (!found) {
      warnMissing(
        ref.workflow,
        ref.path,
        `task ${ref.path[2] !== undefined ? def.tasks.find((t) => t.index === ref.path[2])?.id : ''}`,
      );
      continue;
    }
    // Does the child reach this definition again through sub-workflows in the folder?
    const chain = pathBack(found, def.id, (d) =>
      childRefs(d.definition)
        .map((r) => target(r.workflow, d.file))
        .filter((x): x is NonNullable<typeof x> => !!x),
    );
    if (chain) {
      out.push({
        severity: 'error',
        code: 'LF_SUBWORKFLOW_CYCLE',
        file,
        path: ref.path,
        ...at(ref.path),
        message: `workflow ${def.id} calls itself: ${[def.id, ...chain].join(' → ')}; a sub-workflow cycle never ends (break it, or use a DO_WHILE)`,
      });
    }
  }
  if (fw && !target(fw, self)) warnMissing(fw, ['workflow', 'failure_workflow', 'id'], 'failure_workflow');
  return out;
}

/** The ids from `start` to a definition with id `goal` through `next`, or null (each definition visited once). */
function pathBack<T extends { definition: Definition }>(start: T, goal: string, next: (d: T) => T[]): string[] | null {
  const seen = new Set<T>();
  const walk = (d: T): string[] | null => {
    if (d.definition.id === goal) return [d.definition.id];
    if (seen.has(d)) return null;
    seen.add(d);
    for (const n of next(d)) {
      const rest = walk(n);
      if (rest) return [d.definition.id, ...rest];
    }
    return null;
  };
  return walk(start);
}
