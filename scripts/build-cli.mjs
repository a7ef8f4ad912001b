// The `ledgerflow` command as one CommonJS bundle: dist/cli/ledgerflow.cjs, which bin/ledgerflow.js runs
// through dist/cli/launch.js (src/cli/launch.ts) with a V8 code cache, and dist/cli/ledgerflow.cjs.sha256,
// the digest its caches are keyed by. Runs after build-esm.mjs in scripts/build.mjs.
//
// Why CommonJS: Node 20 has no compile cache for ES modules (module.enableCompileCache is Node 22's), and
// compiling is most of what a short command costs (`list` on the embedded store: 0.41 CPU-s as ES module
// chunks, 0.21 from a code cache). A script compiled through node:vm takes V8's cached data; an ES module
// cannot on Node 20. The command table's lazy imports stay lazy: esbuild turns each dynamic import() of
// ledgerflow's own modules into a function that evaluates that module when first called.
//
// A handler's `import … from 'ledgerflow'` resolves to the package's entries, another copy: the command offers
// them its own (src/cli/offer-library.ts), which they take when it is the same build, so the command and its
// handlers share one copy of every class, as they did when both were the ES module chunks.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildId, EXTERNAL, zodEnglishOnly } from './esbuild-common.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// LEDGERFLOW_DIST: the folder the build writes (scripts/build.mjs builds beside dist/ and swaps it in).
const dist = process.env.LEDGERFLOW_DIST ? resolve(process.env.LEDGERFLOW_DIST) : join(root, 'dist');
const { engines } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const outfile = join(dist, 'cli', 'ledgerflow.cjs');

const result = await build({
  absWorkingDir: root,
  entryPoints: ['src/cli/main.ts'],
  outfile,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: `node${engines.node.replace(/^>=\s*/, '')}`,
  external: EXTERNAL,
  // The sources are ES modules: strict mode, as they were written for. import.meta.url is the bundle's own file
  // (src/install/index.ts walks up from it to package.json; the state file's thread looks beside it).
  banner: { js: '"use strict";\nconst __ledgerflowModuleUrl = require("node:url").pathToFileURL(__filename).href;' },
  // The build's id: what the package's entries check before they take the command's copy (src/cli/offer-library.ts).
  define: { 'import.meta.url': '__ledgerflowModuleUrl', __LEDGERFLOW_BUILD__: JSON.stringify(buildId(root)) },
  // As in build-esm.mjs: no keepNames (a defineProperty per class and function at every start).
  keepNames: false,
  // Whitespace and comments out, names kept (a stack trace still names its functions; the source map has the
  // rest): less to read at every start, and a smaller cache. Only ASCII is left (esbuild escapes the rest in
  // strings), which the launcher reads as such, without decoding UTF-8.
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: true,
  plugins: [zodEnglishOnly],
  logLevel: 'silent',
});
// A warning (an import.meta left unshimmed, an import that cannot resolve) is a broken bundle: fail the build.
if (result.warnings.length > 0) {
  for (const w of result.warnings) console.error(`build-cli: ${w.location ? `${w.location.file}:${w.location.line}: ` : ''}${w.text}`);
  process.exit(1);
}
// ASCII only, as the launcher reads it (latin1: one byte a character, no decoding).
if (/[^\x00-\x7f]/.test(readFileSync(outfile, 'latin1'))) {
  console.error('build-cli: the bundle holds a character that is not ASCII; src/cli/launch.ts reads it as latin1');
  process.exit(1);
}
// The cache's key: V8 checks a cached script against its source's length only, so a cache made for another
// build of the same length must never be offered: the launcher names cache files by this digest.
writeFileSync(`${outfile}.sha256`, `${createHash('sha256').update(readFileSync(outfile)).digest('hex')}\n`);
