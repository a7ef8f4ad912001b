// What the two bundles of ledgerflow's code share: the ES module build (build-esm.mjs: the package's entries)
// and the command's CommonJS bundle (build-cli.mjs).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

export const EXTERNAL = [
  '@nats-io/*',
  'tsx',
  'tsx/*',
  'prom-client',
  '@opentelemetry/api',
  'jq-wasm',
  'quickjs-emscripten-core',
  '@jitl/quickjs-wasmfile-release-sync',
];

/**
 * zod's `z` namespace carries `z.locales`, every language's error messages (about 60 files, 375 KB of the
 * bundle's 2 MB that every command compiled at start-up), and a namespace object keeps all it names, so
 * esbuild cannot drop them. ledgerflow's messages are English, the locale zod itself registers (schemas.js
 * imports locales/en.js directly): `z.locales` here holds `en` only. About a sixth of a command's start-up.
 */
export const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) => {
      if (!/[\\/]node_modules[\\/]zod[\\/]/.test(args.importer)) return undefined;
      return { path: join(dirname(args.importer), '..', 'locales', 'index.js'), namespace: 'zod-english-only' };
    });
    b.onLoad({ filter: /.*/, namespace: 'zod-english-only' }, (args) => ({
      contents: "export { default as en } from './en.js';",
      resolveDir: dirname(args.path),
      loader: 'js',
    }));
  },
};

/**
 * The build's identity, from what it is built of (every file under src/, and package.json): the same sources
 * give the same id in any clone or install. The command offers its own copy of the package to the handler
 * modules it loads (src/cli/offer-library.ts), and the package's entries take it only when it is this build.
 */
export function buildId(root) {
  const hash = createHash('sha256');
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else hash.update(`${relative(root, path)}\n`).update(readFileSync(path));
    }
  };
  walk(join(root, 'src'));
  hash.update(readFileSync(join(root, 'package.json')));
  return hash.digest('hex').slice(0, 16);
}

/** What a package entry's first lines are: the command's offered copy when it is this build, else `fallback`. */
export const OFFERED = "globalThis[Symbol.for('ledgerflow.offered')]";

/**
 * Ends the build when esbuild warned: a warning (an import that cannot resolve, an import.meta left unshimmed, a
 * require esbuild cannot follow, a duplicate key) means a broken bundle. `who` names the step in each line.
 */
export function failOnWarnings(result, who) {
  if (result.warnings.length === 0) return;
  for (const w of result.warnings)
    console.error(`${who}: ${w.location ? `${w.location.file}:${w.location.line}: ` : ''}${w.text}`);
  process.exit(1);
}
