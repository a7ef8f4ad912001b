/**
 * What bin/ledgerflow.js runs: the command's CommonJS bundle (dist/cli/ledgerflow.cjs, built by
 * scripts/build-cli.mjs from main.ts), compiled as Node compiles a CommonJS module but with V8's cached data
 * of an earlier run of the same command (cached-code.ts). From a cache, `list` on the embedded store
 * starts in about half the CPU (docs/architecture-notes.md, "Start-up").
 *
 * The bundle's `import()` of modules outside it (handler modules, tsx, a TRANSFORM's wasm packages) goes
 * through this module's (src/import-module.ts says why).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { Script } from 'node:vm';
import { HOST_IMPORT } from '../import-module.js';
import { compileCache } from './cached-code.js';

// V8's allocation-site pretenuring off, before anything of ours runs: once the objects made at a place in the code
// have mostly outlived a scavenge (a run's state while a thousand runs are in flight, a long retried run's events),
// V8 allocates every later object of that place in the old generation, for good, so the garbage of later work made
// there (each step's states and events) is no longer collected young. In one process, a 10,000-event run made
// first doubled a 3,000-task chain's checked replay per event (bench `chain`); off, the engine's CPU per run on the
// memory store is ~6% lower and the fold ~15% faster (docs/architecture-notes.md, "Where an engine's time goes").
// Set here rather than on node's command line: an unknown V8 flag there would stop the command from starting on a
// Node whose V8 dropped it, where this is ignored. The same for every command (the code cache is checked against
// V8's flags: cached-code.ts).
setFlagsFromString('--no-allocation-site-pretenuring');

(globalThis as Record<symbol, unknown>)[HOST_IMPORT] = (specifier: string) => import(specifier);

const bundle = fileURLToPath(new URL('./ledgerflow.cjs', import.meta.url));
const cache = compileCache(bundle, process.argv.slice(2));
// The wrapper Node's CommonJS loader puts around a module, on one line: the bundle's line numbers stay its own.
// latin1: the bundle is written so (scripts/build-cli.mjs), and V8 keeps it as one byte a character.
const script = new Script(
  `(function (exports, require, module, __filename, __dirname) { ${readFileSync(bundle, 'latin1')}\n})`,
  {
    filename: bundle,
    ...(cache.data ? { cachedData: cache.data } : {}),
  },
);
cache.keep(script);
const module = { exports: {} };
(script.runInThisContext() as (...args: unknown[]) => void).call(
  module.exports,
  module.exports,
  createRequire(bundle),
  module,
  bundle,
  dirname(bundle),
);
