// The ES module entries, bundled: dist/index.js (the package's `import 'ledgerflow'`), dist/exports/*.js
// (`ledgerflow/cluster`, `/query`, `/internal`) and dist/cli/main.js (what bin/ledgerflow.js imports) are one
// esbuild build with code splitting, written over tsc's files after tsc has written dist/. Runs last in
// scripts/build.mjs.
//
// Why: Node 20 has no compile cache, and a command's start-up was mostly the ES module loader's cost per
// file (resolve, read, compile, link): `ledgerflow run` of a one-task workflow loaded about 370 files (zod's
// 95, yaml's 72, ledgerflow's ~190). As chunks, it loads a few dozen; CPU per `run` fell by about 40%
// (docs/architecture-notes.md, "Start-up"). The command table still imports each command's code when the
// command runs: every dynamic import() in src/ becomes a chunk of its own.
//
// Why both entries in ONE build: a handler module's `import … from 'ledgerflow'` resolves to dist/index.js;
// the CLI and it then share the chunks that define every class, so `instanceof NonRetryableError` (and every
// other class) holds between the CLI and a handler, as it did between tsc's files. Two separate bundles
// would give each a copy of its own.
//
// Dependencies are bundled too (most of the loader's files were theirs), except those that must stay one
// copy with the user's or that are loaded by path: `@nats-io/*` (store/jetstream/nats-lib.ts requires them when first
// used, and a user's own connection handed to an engine or worker must be of the same classes), `tsx` (registers loader hooks), `prom-client` (its default registry is a
// user's too), `@opentelemetry/api` (a user's tracer provider registers through it), `jq-wasm` (it reads its jq.wasm beside its own module, and only a TRANSFORM loads it), QuickJS's
// `quickjs-emscripten-core` and `@jitl/quickjs-wasmfile-release-sync` (the same, for a TRANSFORM's `js:`). tsc's other files
// stay in dist/ beside the chunks: dist/handlers/self-resolve-hooks.js is registered by path, and the
// declarations (.d.ts) are tsc's.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// LEDGERFLOW_DIST: the folder the build writes (scripts/build.mjs builds beside dist/ and swaps it in).
const dist = process.env.LEDGERFLOW_DIST ? resolve(process.env.LEDGERFLOW_DIST) : join(root, 'dist');
const { engines } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

const EXTERNAL = ['@nats-io/*', 'tsx', 'tsx/*', 'prom-client', '@opentelemetry/api', 'jq-wasm', 'quickjs-emscripten-core', '@jitl/quickjs-wasmfile-release-sync'];

/**
 * zod's `z` namespace carries `z.locales`, every language's error messages (about 60 files, 375 KB of the
 * bundle's 2 MB that every command compiled at start-up), and a namespace object keeps all it names, so
 * esbuild cannot drop them. ledgerflow's messages are English, the locale zod itself registers (schemas.js
 * imports locales/en.js directly): `z.locales` here holds `en` only. About a sixth of a command's start-up.
 */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) => {
      if (!/[\\/]node_modules[\\/]zod[\\/]/.test(args.importer)) return undefined;
      return { path: join(dirname(args.importer), '..', 'locales', 'index.js'), namespace: 'zod-english-only' };
    });
    b.onLoad({ filter: /.*/, namespace: 'zod-english-only' }, (args) => ({
      contents: "export { default as en } from './en.js';", resolveDir: dirname(args.path), loader: 'js',
    }));
  },
};

const result = await build({
  absWorkingDir: root,
  // src/state-file/thread-worker.ts: the state-file writer's thread, started by path (dist/state-file/thread-worker.js).
  entryPoints: ['src/index.ts', 'src/exports/cluster.ts', 'src/exports/query.ts', 'src/exports/internal.ts', 'src/cli/main.ts', 'src/state-file/thread-worker.ts'],
  outdir: dist,
  outbase: 'src',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: `node${engines.node.replace(/^>=\s*/, '')}`,
  external: EXTERNAL,
  // The bundled CommonJS dependencies (yaml, commander) call require() for Node's own modules.
  banner: { js: "import { createRequire as __ledgerflowCreateRequire } from 'node:module'; const require = __ledgerflowCreateRequire(import.meta.url);" },
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
if (result.warnings.length > 0) {
  for (const w of result.warnings) console.error(`build-esm: ${w.location ? `${w.location.file}:${w.location.line}: ` : ''}${w.text}`);
  process.exit(1);
}
