/**
 * Task handler modules: a file whose default export maps handler names to `async (input, ctx) => output`. TypeScript
 * modules load through tsx, so the same module runs in-process now and in a remote worker later, unchanged.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { HandlerError, errorMessage } from '../errors/index.js';
import type { Handlers } from '../runtime/index.js';
import { resolveSelfForHandlers } from './self-resolve.js';
import { prebuiltHandler } from './prebuilt.js';
import { importModule } from '../import-module.js';

export async function loadHandlerModule(path: string, baseDir = process.cwd()): Promise<Handlers> {
  const file = isAbsolute(path) ? path : resolve(baseDir, path);
  if (!existsSync(file)) {
    throw new HandlerError(
      'LF_HANDLER_MODULE_NOT_FOUND',
      `handler module ${file} does not exist; check --handlers or the definition's \`handlers:\` path (relative to the YAML file)`,
      { file },
    );
  }
  let mod: Record<string, unknown>;
  resolveSelfForHandlers(file); // `import … from 'ledgerflow'` in the module works without a project install
  try {
    const prebuilt = prebuiltHandler(file);
    if (prebuilt) {
      // A bundled workflow's handlers, compiled at build time: no tsx for them (prebuilt.ts).
      mod = await importModule(pathToFileURL(prebuilt).href);
    } else if (/\.(c|m)?ts$/.test(file)) {
      // Only here: a run whose handlers are JavaScript (or that has none) never loads tsx.
      mod = await (await import('./typescript.js')).importTypeScript(file);
    } else {
      mod = await importModule(pathToFileURL(file).href);
    }
  } catch (err) {
    throw new HandlerError(
      'LF_HANDLER_MODULE_INVALID',
      `could not load handler module ${file}: ${errorMessage(err)}`,
      { file },
      { cause: err },
    );
  }
  let exported = mod.default as Record<string, unknown> | undefined;
  // A TS file loaded as CommonJS (a project without "type": "module") arrives wrapped once more: the namespace's
  // default is module.exports, which holds the real default beside the named exports the namespace also shows.
  if (
    exported &&
    typeof exported === 'object' &&
    Object.hasOwn(exported, 'default') &&
    typeof exported.default === 'object' &&
    exported.default !== null &&
    Object.keys(mod)
      .filter((k) => k !== 'default')
      .every((k) => exported![k] === mod[k])
  ) {
    exported = exported.default as Record<string, unknown>;
  }
  if (!exported || typeof exported !== 'object') {
    throw new HandlerError(
      'LF_HANDLER_MODULE_INVALID',
      `handler module ${file} must have a default export mapping handler names to functions, e.g. \`export default { scan_files: async (input, ctx) => ({...}) }\``,
      { file },
    );
  }
  const bad = Object.entries(exported)
    .filter(([, v]) => typeof v !== 'function')
    .map(([k]) => k);
  if (bad.length > 0) {
    throw new HandlerError(
      'LF_HANDLER_MODULE_INVALID',
      `handler module ${file}: ${bad.join(', ')} ${bad.length > 1 ? 'are' : 'is'} not a function`,
      { file, names: bad },
    );
  }
  return exported as Handlers;
}

export { createHttpExecutor, hostAllowed, retryAfterMs, HttpTaskError, type HttpExecutorOptions } from './http.js';
export {
  createCommandExecutor,
  CommandError,
  DEFAULT_COMMAND_OUTPUT_LIMIT,
  type CommandExecutorOptions,
} from './command.js';
