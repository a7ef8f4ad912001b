/**
 * The command offers its own copy of the package to the handler modules it loads. The command is a bundle of its own
 * (scripts/build-cli.mjs), and a handler's `import … from 'ledgerflow'` (or `require`) resolves to the package's
 * entries, another copy: loading it cost a `run` about 0.4 s of CPU (its ES module chunks compile on every start; the
 * command's code comes from a cache), and the handler's NonRetryableError was another class than the command's. The
 * entries (dist/index.js, dist/cjs/index.js, written by scripts/build-esm.mjs and build-cjs.mjs) take what is offered
 * here when it comes from the same build (the sources' digest, scripts/esbuild-common.mjs `buildId`), else load their
 * own: a project's own install of another version keeps its own.
 *
 * Offered lazily: the package's modules the command has not loaded are evaluated only when a handler takes them (a
 * getter, synchronous, since an import of `ledgerflow` reads it while the handler module loads).
 */
declare const __LEDGERFLOW_BUILD__: string | undefined;

const OFFERED = Symbol.for('ledgerflow.offered');

export function offerLibrary(): void {
  // Only in the built command (esbuild defines the id); the sources, under the tests, have none to offer.
  if (typeof __LEDGERFLOW_BUILD__ !== 'string') return;
  const build = __LEDGERFLOW_BUILD__;
  let exports: unknown;
  const offer = {
    build,
    get exports(): unknown {
      // A require the bundler resolves: the package's entry, inside the command's bundle, evaluated on first use.
      exports ??= require('../index.js');
      return exports;
    },
  };
  Object.defineProperty(globalThis, OFFERED, { value: offer, configurable: true, enumerable: false, writable: false });
}
