// The `ledgerflow` command as one CommonJS bundle: dist/cli/ledgerflow.cjs, which bin/ledgerflow.js runs
// through dist/cli/launch.cjs (src/cli/launch.ts, built below) with a V8 code cache, and dist/cli/ledgerflow.cjs.sha256,
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
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildId, EXTERNAL, failOnWarnings, zodEnglishOnly } from './esbuild-common.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// LEDGERFLOW_DIST: the folder the build writes (scripts/build.mjs builds beside dist/ and swaps it in).
const dist = process.env.LEDGERFLOW_DIST ? resolve(process.env.LEDGERFLOW_DIST) : join(root, 'dist');
const { engines } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const outfile = join(dist, 'cli', 'ledgerflow.cjs');

/** @nats-io/jetstream's jsmsg.js, which its `exports` map does not name (nats-lib.ts `toJsMsg` says why it is needed). */
const jetstreamJsMsg = {
  name: 'jetstream-jsmsg',
  setup(b) {
    b.onResolve({ filter: /^@nats-io\/jetstream\/lib\/jsmsg\.js$/ }, () => ({
      path: join(dirname(createRequire(join(root, 'package.json')).resolve('@nats-io/jetstream')), 'jsmsg.js'),
    }));
  },
};

const result = await build({
  absWorkingDir: root,
  entryPoints: ['src/cli/main.ts'],
  outfile,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: `node${engines.node.replace(/^>=\s*/, '')}`,
  // The NATS client is bundled here (store/jetstream/nats-lib.ts): the command makes its own connections, and its
  // code then comes from the code cache too. The package's builds keep it external (one copy with a user's).
  external: EXTERNAL.filter((e) => e !== '@nats-io/*'),
  // The sources are ES modules: strict mode, as they were written for. import.meta.url is the bundle's own file
  // (src/install/index.ts walks up from it to package.json; the state file's thread looks beside it).
  banner: { js: '"use strict";\nconst __ledgerflowModuleUrl = require("node:url").pathToFileURL(__filename).href;' },
  // The build's id: what the package's entries check before they take the command's copy (src/cli/offer-library.ts).
  define: {
    'import.meta.url': '__ledgerflowModuleUrl',
    __LEDGERFLOW_BUILD__: JSON.stringify(buildId(root)),
    __LEDGERFLOW_BUNDLED_NATS__: 'true',
  },
  // As in build-esm.mjs: no keepNames (a defineProperty per class and function at every start).
  keepNames: false,
  // Whitespace and comments out, names kept (a stack trace still names its functions; the source map has the
  // rest): less to read at every start, and a smaller cache.
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: true,
  plugins: [zodEnglishOnly, jetstreamJsMsg],
  logLevel: 'silent',
});
// A warning (an import.meta left unshimmed, an import that cannot resolve) is a broken bundle: fail the build.
failOnWarnings(result, 'build-cli');
// One byte a character, as the launcher reads it (latin1: no UTF-8 to decode, and V8 keeps it so). esbuild writes
// ASCII but for what it cannot escape (a regular expression's `µs` in the NATS client): written as Latin-1, and a
// character past U+00FF fails the build.
const text = readFileSync(outfile, 'utf8');
if (/[^\u0000-\u00ff]/.test(text)) {
  console.error('build-cli: the bundle holds a character past U+00FF; src/cli/launch.ts reads it as latin1');
  process.exit(1);
}
// Written inside the wrapper Node's CommonJS loader puts around a module, on the first line (the bundle's line numbers
// stay its own): the launcher compiles the file as it is. Wrapped there at each start, the 3 MB of source were read,
// then copied once more into the string V8 compiles: 15 ms of `ledgerflow --version`'s 230 on the 2-core machine.
const bytes = Buffer.from(`(function (exports, require, module, __filename, __dirname) { ${text}\n})`, 'latin1');
writeFileSync(outfile, bytes);
// The cache's key: V8 checks a cached script against its source's length only, so a cache made for another
// build of the same length must never be offered: the launcher names cache files by this digest.
writeFileSync(`${outfile}.sha256`, `${createHash('sha256').update(bytes).digest('hex')}\n`);

// The launcher bin/ledgerflow.js requires: src/cli/launch.ts with what it imports, as one CommonJS file. As an ES
// module (dist/cli/launch.js) every command started Node's ES module loader first, and each `import … from 'node:fs'`
// there read every export of node:fs, which loads its streams: about a tenth of `ledgerflow --version`'s CPU on the
// 2-core machine, for a launcher of four imports. Its `import()` stays an import() (handler modules are ES modules).
const launcher = await build({
  absWorkingDir: root,
  entryPoints: ['src/cli/launch.ts'],
  outfile: join(dist, 'cli', 'launch.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: `node${engines.node.replace(/^>=\s*/, '')}`,
  banner: { js: '"use strict";\nconst __ledgerflowModuleUrl = require("node:url").pathToFileURL(__filename).href;' },
  define: { 'import.meta.url': '__ledgerflowModuleUrl' },
  minifyWhitespace: true,
  sourcemap: true,
  logLevel: 'silent',
});
failOnWarnings(launcher, 'build-cli');
