/**
 * A `.ts` handler module, imported through tsx. ledgerflow's own tsconfig.json (in a clone) maps `ledgerflow` to
 * src/index.ts, so that the type-checker checks the bundled handlers against the source; tsx honours `paths` too, and
 * takes the tsconfig of the working directory. A built ledgerflow run in its clone (`npx ledgerflow run definitions/…`,
 * as the getting-started guide does) therefore transpiled the whole of src/ through tsx again for a handler's
 * `import … from 'ledgerflow'`: a second copy of the library, about a second of start-up. Run from the build, a handler
 * gets the built code: tsx is given no tsconfig when the one it would read is ledgerflow's own (its other options are
 * the type-checker's; tsx's defaults transpile the handlers alike), and `ledgerflow` then resolves as in any project
 * (the package's exports, or self-resolve.ts). A project's own tsconfig is used as it is. Run from src/ (the tests),
 * `paths` still gives the source, which is then the running ledgerflow.
 *
 * tsx is registered once for the process (its ESM hooks and its CommonJS ones, for a .ts module in a project without
 * "type": "module"), not per import with tsImport: tsImport gives each import a namespace of its own, and every module
 * the handler imports, `ledgerflow`'s build, zod, yaml and all, was loaded again under it, a second copy beside the
 * CLI's.
 *
 * A module tsx loads as CommonJS (a `.cts`, or a `.ts` whose package.json does not say `"type": "module"`, or that has
 * none) is required through tsx's CommonJS hooks alone, as tsx's ESM hooks would hand it to them: the ESM hooks run in
 * a thread of their own, which every later import crosses and whose start costs more CPU than `node -e 0`
 * (bench/RESULTS.md, "Start-up"). What the handler gets is the same: the module's exports, as an import of a
 * CommonJS module shows them (default: module.exports).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { packageRoot } from '../install/index.js';
import { loadsAsCommonJs } from './module-format.js';
import { importModule } from '../import-module.js';

const built = !fileURLToPath(import.meta.url).endsWith('.ts');

/** The tsconfig.json tsx reads: $TSX_TSCONFIG_PATH, else the nearest one from the working directory up. */
function tsconfigTsxReads(): string | null {
  if (process.env.TSX_TSCONFIG_PATH) return resolve(process.env.TSX_TSCONFIG_PATH);
  for (let dir = process.cwd(); ; dir = dirname(dir)) {
    const file = join(dir, 'tsconfig.json');
    if (existsSync(file)) return file;
    if (dirname(dir) === dir) return null;
  }
}

let registered: Promise<void> | undefined;
let cjsRegistered = false;

async function registerTsxCjs(): Promise<void> {
  if (cjsRegistered) return;
  const cjs = await importModule<typeof import('tsx/cjs/api')>('tsx/cjs/api');
  if (!cjsRegistered) cjs.register();
  cjsRegistered = true;
}

function registerTsx(): Promise<void> {
  registered ??= (async () => {
    const [esm] = await Promise.all([importModule<typeof import('tsx/esm/api')>('tsx/esm/api'), registerTsxCjs()]);
    const own = built && tsconfigTsxReads() === join(packageRoot(), 'tsconfig.json');
    esm.register(own ? { tsconfig: false } : {});
  })();
  return registered;
}

export async function importTypeScript(file: string): Promise<Record<string, unknown>> {
  // Once tsx's ESM hooks are registered (an ES module handler loaded before), imports go through them, as before.
  if (!registered && loadsAsCommonJs(file)) {
    await registerTsxCjs();
    const exported: unknown = createRequire(file)(file);
    // The namespace an import() of this CommonJS module gives: default is module.exports, beside its own keys.
    return { ...(exported !== null && typeof exported === 'object' ? exported : {}), default: exported };
  }
  await registerTsx();
  return await importModule(pathToFileURL(file).href);
}
