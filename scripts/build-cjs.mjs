// The CommonJS build, for consumers that `require('ledgerflow')` (Node 20 cannot require() the ESM build
// before 20.19). Runs after `tsc -p tsconfig.build.json` has written the ESM build and its declarations to dist/.
//
// dist/cjs/index.js is one esbuild bundle of src/index.ts: one copy of every class, so `instanceof` holds
// inside a CommonJS consumer. Dependencies stay external (required from node_modules, as a user installs them).
// import.meta.url becomes the bundle's own file URL; src/install/index.ts walks up from there to package.json,
// so definitions/, events/ and nats.conf are found whichever build runs.
// The declarations are tsc's, copied under dist/cjs/, whose package.json says "commonjs": TypeScript then reads
// them as CommonJS types for a `require` import.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// LEDGERFLOW_DIST: the folder the build writes (scripts/build.mjs builds beside dist/ and swaps it in).
const dist = process.env.LEDGERFLOW_DIST ? resolve(process.env.LEDGERFLOW_DIST) : join(root, 'dist');
const out = join(dist, 'cjs');
const { engines } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

const result = await build({
  absWorkingDir: root,
  entryPoints: ['src/index.ts'],
  outfile: join(out, 'index.js'),
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
if (result.warnings.length > 0) {
  for (const w of result.warnings) console.error(`build-cjs: ${w.location ? `${w.location.file}:${w.location.line}: ` : ''}${w.text}`);
  process.exit(1);
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
