/**
 * Finding a child run's definition on disk (SUB_WORKFLOW `workflow:`, failure_workflow `id`): the I/O the engine's pure
 * core leaves to the edge. A name with a `/` or a `.yaml`/`.yml` ending is a path relative to the parent's file; any
 * other is a workflow id, looked for among the definitions in the parent's folder.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Definition } from '../definition/index.js';
import { loadDefinitionFile } from './definitions.js';
import { folderById, namesAFile } from './source.js';

export interface FoundChild {
  definition: Definition;
  file: string;
  handlersPath?: string;
}

/**
 * The definition a child names, seen from its parent's file: by relative path, or by id beside it (the one of that
 * version when there are several, else the highest version). Null when there is none.
 */
export function findChildDefinition(ref: {
  workflow: string;
  version?: number;
  parentFile?: string;
}): FoundChild | null {
  if (!ref.parentFile) return null;
  const dir = dirname(ref.parentFile);
  if (namesAFile(ref.workflow)) {
    const file = resolve(dir, ref.workflow);
    if (!existsSync(file)) return null;
    const loaded = loadDefinitionFile(file);
    return {
      definition: loaded.definition,
      file: loaded.file,
      ...(loaded.handlersPath ? { handlersPath: loaded.handlersPath } : {}),
    };
  }
  const matches = folderById(dir, ref.workflow).filter((d) => d.definition.id === ref.workflow);
  if (matches.length === 0) return null;
  const pick =
    matches.find((m) => m.definition.version === ref.version) ??
    matches.sort((a, b) => b.definition.version - a.definition.version)[0]!;
  const handlers = pick.definition.handlers;
  return { ...pick, ...(handlers ? { handlersPath: resolve(dirname(pick.file), handlers) } : {}) };
}
