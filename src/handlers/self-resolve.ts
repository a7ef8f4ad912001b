/**
 * Handler modules import `ledgerflow` (NonRetryableError, the Handlers type): the scaffold `ledgerflow new` writes
 * does. In a project that has not installed ledgerflow itself (a global install, `npm link`, a clone run as
 * `node /path/to/clone/bin/ledgerflow.js`) that import failed with "Cannot find module 'ledgerflow'". Before the first
 * handler module loads, both of Node's resolvers learn to fall back to the running ledgerflow: a resolve hook
 * (module.register) for ESM imports, and Module._resolveFilename for CommonJS, which is how tsx loads .ts handlers in a
 * project without "type": "module". Only a failed resolution falls back: a project's own install is used as it is.
 *
 * The resolve hook runs in a thread of its own, which every later import crosses (about 70 ms of CPU to start, more
 * than `node -e 0` takes), so it is registered only for a handler module from whose directory `ledgerflow` does not
 * resolve: in a project that installed it, or in ledgerflow's own clone (the package resolves itself by name), nothing
 * is registered. Nor for a module that cannot import `ledgerflow` through the ES module resolver (names-ledgerflow.ts):
 * one that does not name it, nor any module it imports by a relative path, or that is loaded as CommonJS and names it
 * only in `require`s. A TypeScript module loaded as an ES module gets it regardless: tsx's ESM hooks start that thread
 * anyway (Node runs every registered hook in one), so it costs little there.
 */
import { existsSync } from 'node:fs';
import Module, { createRequire, register } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../install/index.js';
import { loadsAsCommonJs } from './module-format.js';
import { mayImportLedgerflow } from './names-ledgerflow.js';

let patched = false;
let hooked = false;
let checking = false; // resolvesFrom asks how the project resolves, without this module's fallback

type ResolveFilename = (request: string, parent: unknown, isMain: boolean, options?: unknown) => string;

/** Before `file`, a handler module, is imported. */
export function resolveSelfForHandlers(file: string): void {
  const root = packageRoot();
  const esm = join(root, 'dist', 'index.js');
  const hooks = join(root, 'dist', 'handlers', 'self-resolve-hooks.js');
  // Only a built package has them (the tests of src/ run from a checkout, where ledgerflow resolves to itself anyway).
  if (
    !hooked &&
    !resolvesFrom(file) &&
    existsSync(hooks) &&
    existsSync(esm) &&
    ((/\.(c|m)?ts$/.test(file) && !loadsAsCommonJs(file)) || mayImportLedgerflow(file))
  ) {
    hooked = true;
    register(pathToFileURL(hooks).href, { data: { url: pathToFileURL(esm).href } });
  }
  patchRequire(join(root, 'dist', 'cjs', 'index.js'));
}

/** Whether `ledgerflow` resolves from the directory of `file` as it stands (an install, or the package itself). */
function resolvesFrom(file: string): boolean {
  checking = true;
  try {
    createRequire(file).resolve('ledgerflow');
    return true;
  } catch {
    return false;
  } finally {
    checking = false;
  }
}

/** CommonJS's resolver, once: cheap (no thread), so always. */
function patchRequire(cjs: string): void {
  if (patched) return;
  patched = true;
  if (!existsSync(cjs)) return;
  const m = Module as unknown as { _resolveFilename: ResolveFilename };
  const original = m._resolveFilename;
  m._resolveFilename = function resolveFilename(this: unknown, request, parent, isMain, options) {
    try {
      return original.call(this, request, parent, isMain, options);
    } catch (err) {
      if (!checking && request === 'ledgerflow' && (err as { code?: string }).code === 'MODULE_NOT_FOUND') return cjs;
      throw err;
    }
  };
}
