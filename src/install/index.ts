/**
 * Where this package is installed, and its version: the bundled definitions, events and nats.conf are read from there,
 * and `ledgerflow --version` prints package.json's version. A module of its own, importing only errors/, so that
 * `--version` (and any module that only needs the package root) loads nothing else.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LedgerflowError } from '../errors/index.js';

/** Read when asked (a handful of times per process), not remembered: a few stat calls, no state to fence. */
function locate(): { root: string; version: string } {
  // Walk up rather than count levels: the sources (src/install/), the ESM build (dist/install/) and the CommonJS bundle
  // (dist/cjs/, where import.meta.url is the bundle's own file) sit at different depths.
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const manifest = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
      if (manifest.name === 'ledgerflow' && typeof manifest.version === 'string')
        return { root: dir, version: manifest.version };
    }
    if (dirname(dir) === dir) {
      throw new LedgerflowError(
        'LF_PACKAGE_NOT_FOUND',
        `no package.json of ledgerflow above ${start}: the installed package is incomplete`,
        { start },
      );
    }
  }
}

/** The directory holding ledgerflow's package.json (the clone, or node_modules/ledgerflow). */
export function packageRoot(): string {
  return locate().root;
}

export function packageVersion(): string {
  return locate().version;
}
