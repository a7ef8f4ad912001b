/**
 * What bin/ledgerflow.js runs (as dist/cli/launch.cjs, a CommonJS file scripts/build-cli.mjs builds from this one): the
 * command's CommonJS bundle (dist/cli/ledgerflow.cjs, built by scripts/build-cli.mjs from main.ts), compiled as Node
 * compiles a CommonJS module but with V8's cached data of an earlier run of the same command (cached-code.ts). From a
 * cache, `list` on the embedded store starts in about half the CPU (bench/RESULTS.md, "Start-up").
 *
 * The bundle's `import()` of modules outside it (handler modules, tsx, a TRANSFORM's wasm packages) goes through this
 * module's (src/import-module.ts says why).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { Script } from 'node:vm';
import { HOST_IMPORT } from '../import-module.js';
import { commandOf, compileCache } from './cached-code.js';

// V8's allocation-site pretenuring off, before anything of ours runs: once a code site's objects mostly outlive a
// scavenge (a run's state under load, a long run's events), V8 allocates that site's later objects old for good, and
// later garbage made there is no longer collected young (~6% of an engine's CPU a run: docs/architecture-notes.md,
// "Where an engine's time goes"). Set here, not on node's command line, where a V8 flag a later Node dropped would stop
// the command starting; the code cache is checked against V8's flags (cached-code.ts).
setFlagsFromString('--no-allocation-site-pretenuring');

// The commands that hold many runs for as long as they run: V8 lets the old space grow to at most half again what its
// last full collection kept. Its own factor (up to 4× while collections are quick) let `serve` taking up 100,000
// waiting runs peak at 1.24 GB for a live heap of about 300 MB; with a half it peaked at 795 MB (768 with a fifth),
// its starts and approvals as fast (bench/RESULTS.md, 2026-11-29). Set before the bundle is compiled, so the
// command's code cache is made and read under the same flags.
const HOLDING_COMMANDS = new Set(['serve', 'ui']);
if (HOLDING_COMMANDS.has(commandOf(process.argv.slice(2)))) setFlagsFromString('--heap-growing-percent=50');

(globalThis as Record<symbol, unknown>)[HOST_IMPORT] = (specifier: string) => import(specifier);

const bundle = fileURLToPath(new URL('./ledgerflow.cjs', import.meta.url));
const cache = compileCache(bundle, process.argv.slice(2));
// The bundle is written inside the wrapper Node's CommonJS loader puts around a module (scripts/build-cli.mjs): a
// function of those five, compiled as the file stands. latin1: it is written so, and V8 keeps it as one byte a character.
const script = new Script(readFileSync(bundle, 'latin1'), {
  filename: bundle,
  ...(cache.data ? { cachedData: cache.data } : {}),
});
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
