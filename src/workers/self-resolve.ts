/**
 * Handler modules import `ledgerflow` (NonRetryableError, the Handlers type):
 * the scaffold `ledgerflow new` writes does. In a project that has not
 * installed ledgerflow itself (a global install, `npm link`, a clone run as
 * `node /path/to/clone/bin/ledgerflow.js`) that import failed with "Cannot
 * find module 'ledgerflow'". Before the first handler module loads, both of
 * Node's resolvers learn to fall back to the running ledgerflow: a resolve
 * hook (module.register) for ESM imports, and Module._resolveFilename for
 * CommonJS, which is how tsx loads .ts handlers in a project without
 * "type": "module". Only a failed resolution falls back: a project's own
 * install is used as it is.
 */
import { existsSync } from 'node:fs';
import Module, { register } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../install/index.js';

let done = false;

type ResolveFilename = (request: string, parent: unknown, isMain: boolean, options?: unknown) => string;

export function resolveSelfForHandlers(): void {
  if (done) return;
  done = true;
  const root = packageRoot();
  const esm = join(root, 'dist', 'index.js');
  const cjs = join(root, 'dist', 'cjs', 'index.js');
  const hooks = join(root, 'dist', 'workers', 'self-resolve-hooks.js');
  // Only a built package has them (the tests of src/ run from a checkout, where ledgerflow resolves to itself anyway).
  if (existsSync(hooks) && existsSync(esm)) register(pathToFileURL(hooks).href, { data: { url: pathToFileURL(esm).href } });
  if (!existsSync(cjs)) return;
  const m = Module as unknown as { _resolveFilename: ResolveFilename };
  const original = m._resolveFilename;
  m._resolveFilename = function resolveFilename(this: unknown, request, parent, isMain, options) {
    try {
      return original.call(this, request, parent, isMain, options);
    } catch (err) {
      if (request === 'ledgerflow' && (err as { code?: string }).code === 'MODULE_NOT_FOUND') return cjs;
      throw err;
    }
  };
}
