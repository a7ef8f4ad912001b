/**
 * The bundled definitions' inputs default to sample files of the package (`root: definitions/samples/operations`):
 * paths relative to the clone. Started from another folder (`ledgerflow start daily-operations` in a project), such a
 * default named nothing there, and the run failed (`definitions/samples/operations: ENOENT`), on its first attempt or
 * on a later `resume`. A run of a bundled definition started elsewhere records those defaults as the package's paths
 * instead, explicitly in its input, so any process in any folder finds them. Inputs given are never touched, nor a
 * definition of the user's own, nor a run started in the package's folder (where the relative path already names the
 * file, as the tour shows it).
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { Definition } from '../definition/index.js';
import { packageRoot } from '../install/index.js';

/** The inputs to record for a run of `file` started in `cwd`: each bundled default that names a file of the package, as its absolute path. */
export function bundledDefaults(definition: Definition, file: string, cwd = process.cwd()): Record<string, string> {
  const root = packageRoot();
  const inside = relative(join(root, 'definitions'), resolve(file));
  if (inside.startsWith('..') || isAbsolute(inside)) return {};
  if (resolve(cwd) === resolve(root)) return {};
  const out: Record<string, string> = {};
  for (const input of definition.inputs) {
    const value = input.default;
    if (typeof value !== 'string' || value === '' || isAbsolute(value)) continue;
    const path = join(root, value);
    if (relative(root, path).startsWith('..')) continue;
    if (existsSync(path)) out[input.name] = path;
  }
  return out;
}
