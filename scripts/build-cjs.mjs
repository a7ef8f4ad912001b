// The CommonJS build, for consumers that `require('ledgerflow')` (Node 20 cannot require() the ESM build
// before 20.19). Runs after `tsc -p tsconfig.build.json` has written the ESM build and its declarations to dist/.
//
// dist/cjs/all.js is one esbuild bundle of every entry of the package (src/index.ts and src/exports/*.ts):
// one copy of every class, so `instanceof` holds inside a CommonJS consumer whichever entry a class came
// through. Each entry is then a small file that hands on its own names from it: dist/cjs/index.js for
// `require('ledgerflow')`, dist/cjs/exports/<tier>.js for `require('ledgerflow/<tier>')`, each with exactly
// the names its ES module twin exports (read from esbuild's metafile of the entry).
// Dependencies stay external (required from node_modules, as a user installs them).
// import.meta.url becomes the bundle's own file URL; src/install/index.ts walks up from there to package.json,
// so definitions/, events/ and nats.conf are found whichever build runs.
// The declarations are tsc's, copied under dist/cjs/, whose package.json says "commonjs": TypeScript then reads
// them as CommonJS types for a `require` import.
import { build } from 'esbuild';
import { buildId, failOnWarnings, OFFERED } from './esbuild-common.mjs';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// LEDGERFLOW_DIST: the folder the build writes (scripts/build.mjs builds beside dist/ and swaps it in).
const dist = process.env.LEDGERFLOW_DIST ? resolve(process.env.LEDGERFLOW_DIST) : join(root, 'dist');
const out = join(dist, 'cjs');
const { engines } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/** The package's entries: `ledgerflow` and `ledgerflow/<tier>` (package.json "exports"), by their file under src/. */
const ENTRIES = {
  index: 'src/index.ts',
  'exports/cluster': 'src/exports/cluster.ts',
  'exports/query': 'src/exports/query.ts',
  'exports/internal': 'src/exports/internal.ts',
};

/** The names each entry exports, from esbuild's metafile of an ES module build that writes nothing. */
async function exportedNames() {
  const r = await build({
    absWorkingDir: root,
    entryPoints: ENTRIES,
    outdir: join(out, 'names'),
    bundle: true,
    format: 'esm',
    platform: 'node',
    packages: 'external',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const names = {};
  for (const [file, o] of Object.entries(r.metafile.outputs)) {
    const entry = Object.keys(ENTRIES).find((k) => file.endsWith(`names/${k}.js`));
    if (entry) names[entry] = o.exports;
  }
  return names;
}

const all = Object.keys(ENTRIES)
  .map((k) => `export * from ${JSON.stringify(`./${ENTRIES[k]}`)};`)
  .join('\n');
const result = await build({
  absWorkingDir: root,
  stdin: { contents: all, resolveDir: root, sourcefile: 'all-entries.ts', loader: 'ts' },
  outfile: join(out, 'all.js'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: `node${engines.node.replace(/^>=\s*/, '')}`,
  packages: 'external',
  define: { 'import.meta.url': '__ledgerflowModuleUrl' },
  banner: { js: 'const __ledgerflowModuleUrl = require("node:url").pathToFileURL(__filename).href;' },
  sourcemap: false,
  logLevel: 'silent',
});
// A warning here (an import.meta left unshimmed, a require that cannot resolve) is a broken bundle: fail the build.
failOnWarnings(result, 'build-cjs');

// Each entry hands on its names from the one bundle.
const id = buildId(root);
for (const [entry, names] of Object.entries(await exportedNames())) {
  if (names.length === 0) {
    console.error(`build-cjs: entry ${entry} exports nothing`);
    process.exit(1);
  }
  const up = entry.includes('/') ? '../' : './';
  const file = join(out, `${entry}.js`);
  mkdirSync(dirname(file), { recursive: true });
  // `require('ledgerflow')` in a handler module a `ledgerflow` command of this build loads: the command's own copy
  // (src/cli/offer-library.ts), as dist/index.js does for `import`.
  const own = `require(${JSON.stringify(`${up}all.js`)})`;
  const source =
    entry === 'index'
      ? `(offered !== undefined && offered.build === ${JSON.stringify(id)} ? offered.exports : ${own})`
      : own;
  writeFileSync(
    file,
    `"use strict";\n// ${ENTRIES[entry]}: its names, from the one bundle of every entry (scripts/build-cjs.mjs).\n${entry === 'index' ? `const offered = ${OFFERED};\n` : ''}const all = ${source};\nmodule.exports = {\n${names.map((n) => `  ${JSON.stringify(n)}: all[${JSON.stringify(n)}],`).join('\n')}\n};\n`,
  );
}

// Every declaration but the CLI's (not library API), at the same relative path.
function copyDeclarations(from, to) {
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    if (entry.isDirectory() && from === dist && (entry.name === 'cjs' || entry.name === 'cli')) continue;
    if (entry.isDirectory()) copyDeclarations(join(from, entry.name), join(to, entry.name));
    else if (entry.name.endsWith('.d.ts')) {
      mkdirSync(to, { recursive: true });
      copyFileSync(join(from, entry.name), join(to, entry.name));
    }
  }
}
copyDeclarations(dist, out);
writeFileSync(join(out, 'package.json'), `${JSON.stringify({ type: 'commonjs' }, null, 2)}\n`);
