// What the two bundles of ledgerflow's code share: the ES module build (build-esm.mjs: the package's entries)
// and the command's CommonJS bundle (build-cli.mjs).
import { dirname, join } from 'node:path';

export const EXTERNAL = ['@nats-io/*', 'tsx', 'tsx/*', 'prom-client', '@opentelemetry/api', 'jq-wasm', 'quickjs-emscripten-core', '@jitl/quickjs-wasmfile-release-sync'];

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
      contents: "export { default as en } from './en.js';", resolveDir: dirname(args.path), loader: 'js',
    }));
  },
};

