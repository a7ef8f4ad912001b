// The ES module entries, bundled: dist/index.js (the package's `import 'ledgerflow'`) and dist/exports/*.js
// (`ledgerflow/cluster`, `/query`, `/internal`) are one esbuild build with code splitting, written over tsc's
// files after tsc has written dist/. The `ledgerflow` command is a bundle of its own (build-cli.mjs).
//
// Why: a module's cost at start-up on Node 20 is mostly the ES module loader's per file (resolve, read,
// compile, link): `import 'ledgerflow'` loaded about 370 files (zod's 95, yaml's 72, ledgerflow's ~190). As
// chunks, it loads a few dozen (bench/RESULTS.md, "Start-up"). Every dynamic import() in src/
// becomes a chunk of its own, loaded when first used.
//
// Why the entries in ONE build: each class is defined once, in one chunk, whichever entry a program imports
// it through, so `instanceof` holds between them.
//
// Dependencies are bundled too (most of the loader's files were theirs), except those that must stay one
// copy with the user's or that are loaded by path: `@nats-io/*` (store/jetstream/nats-lib.ts requires them when first
// used, and a user's own connection handed to an engine or worker must be of the same classes), `tsx` (registers loader hooks), `prom-client` (its default registry is a
// user's too), `@opentelemetry/api` (a user's tracer provider registers through it), `jq-wasm` (it reads its jq.wasm beside its own module, and only a TRANSFORM loads it), QuickJS's
// `quickjs-emscripten-core` and `@jitl/quickjs-wasmfile-release-sync` (the same, for a TRANSFORM's `js:`). tsc's other files
// stay in dist/ beside the chunks: dist/handlers/self-resolve-hooks.js is registered by path, and the
// declarations (.d.ts) are tsc's.
import { build } from 'esbuild';
import { buildId, EXTERNAL, failOnWarnings, OFFERED, zodEnglishOnly } from './esbuild-common.mjs';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// LEDGERFLOW_DIST: the folder the build writes (scripts/build.mjs builds beside dist/ and swaps it in).
const dist = process.env.LEDGERFLOW_DIST ? resolve(process.env.LEDGERFLOW_DIST) : join(root, 'dist');
const { engines } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

const result = await build({
  absWorkingDir: root,
  // src/state-file/thread-worker.ts: the state-file writer's thread, started by path (dist/state-file/thread-worker.js).
  // src/index.ts is written as dist/library.js; dist/index.js, below, hands on its names.
  entryPoints: {
    library: 'src/index.ts',
    'exports/cluster': 'src/exports/cluster.ts',
    'exports/query': 'src/exports/query.ts',
    'exports/internal': 'src/exports/internal.ts',
    'state-file/thread-worker': 'src/state-file/thread-worker.ts',
  },
  outdir: dist,
  metafile: true,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: `node${engines.node.replace(/^>=\s*/, '')}`,
  external: EXTERNAL,
  // The bundled CommonJS dependencies (yaml, commander) call require() for Node's own modules.
  banner: {
    js: "import { createRequire as __ledgerflowCreateRequire } from 'node:module'; const require = __ledgerflowCreateRequire(import.meta.url);",
  },
  // Two modules' classes or functions of one name are renamed apart in a bundle (Foo, Foo2). keepNames would keep
  // each one's .name as written, at the price of a defineProperty call per function and class at every start
  // (3,500 of them: a tenth of a command's CPU, 2026-11-25). Only dependencies' names collide today (commander's,
  // hono's, yaml's); ledgerflow's exported classes, whose names `err.name` shows, keep theirs, which
  // test/package/class-names.test.ts checks on the build.
  keepNames: false,
  sourcemap: true,
  plugins: [zodEnglishOnly],
  logLevel: 'silent',
});
// A warning (an import that cannot resolve, a require esbuild cannot follow) is a broken bundle: fail the build.
failOnWarnings(result, 'build-esm');

// dist/index.js, what `import 'ledgerflow'` gets: the names of src/index.ts, from the copy the `ledgerflow` command
// offers the handler modules it loads when it is this build (src/cli/offer-library.ts), else from dist/library.js.
const library = Object.entries(result.metafile.outputs).find(([file]) => file.endsWith('library.js'));
if (!library || library[1].exports.length === 0) {
  console.error('build-esm: no exports of dist/library.js');
  process.exit(1);
}
const names = library[1].exports.filter((n) => n !== 'default');
writeFileSync(
  join(dist, 'index.js'),
  `// src/index.ts: its names (scripts/build-esm.mjs). In a \`ledgerflow\` command of this build, the command's own copy
// (src/cli/offer-library.ts: one copy of every class for the command and its handlers), else dist/library.js.
const offered = ${OFFERED};
const library = offered !== undefined && offered.build === ${JSON.stringify(buildId(root))} ? offered.exports : await import('./library.js');
export const {
${names.map((n) => `  ${n},`).join('\n')}
} = library;
`,
);
