/**
 * `import(specifier)` of a module outside ledgerflow's own code (a handler module, tsx's API, a TRANSFORM's wasm
 * package), through the host that loaded ledgerflow when it names one.
 *
 * Why a host: the `ledgerflow` command is one CommonJS bundle that its launcher (src/cli/launch.ts) compiles with a V8
 * code cache, and on Node 20 an `import()` inside a script compiled from a code cache fails ("A dynamic import callback
 * was not specified": V8 drops the script's host-defined options when it serializes them, fixed in later V8s). The
 * launcher is an ES module compiled as usual; its `import()` works, and it hands it over under HOST_IMPORT. The
 * package's own builds (`import 'ledgerflow'`, `require('ledgerflow')`) have no host and call `import()` themselves.
 * Specifiers are absolute file URLs or package names, which resolve alike from dist/cli/ and dist/chunks/ (siblings).
 */
export const HOST_IMPORT = Symbol.for('ledgerflow.hostImport');

type Importer = (specifier: string) => Promise<unknown>;

export function importModule<M = Record<string, unknown>>(specifier: string): Promise<M> {
  const host = (globalThis as Record<symbol, unknown>)[HOST_IMPORT];
  return (typeof host === 'function' ? (host as Importer)(specifier) : import(specifier)) as Promise<M>;
}
