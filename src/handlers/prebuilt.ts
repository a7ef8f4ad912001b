/**
 * The bundled workflows' handlers, compiled at build time (scripts/build-handlers.mjs writes
 * dist/definitions/handlers/*.js and the digest of the sources they came from). A handler module named by a bundled
 * definition (definitions/handlers/<name>.ts of this package) is loaded from its compiled twin while the sources are
 * still the ones it was compiled from, so that a run of a bundled workflow does not start tsx (a thread for its module
 * hooks and an esbuild service: about half a second of CPU for each such command). A source edited since the build (a
 * clone being worked on) is loaded as before, through tsx; so is every handler module outside the package.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { packageRoot } from '../install/index.js';

const Manifest = z.object({ sources: z.array(z.string()), sha256: z.string() });

/** Where the package's handler sources and their compiled twins are. */
function dirs(): { sourceDir: string; builtDir: string } {
  const root = packageRoot();
  return { sourceDir: join(root, 'definitions', 'handlers'), builtDir: join(root, 'dist', 'definitions', 'handlers') };
}

/** Whether `builtDir` holds what scripts/build-handlers.mjs compiled from `sourceDir` as it is now (every source, unedited). */
export function builtFromSources(sourceDir: string, builtDir: string): boolean {
  try {
    const manifest = Manifest.parse(JSON.parse(readFileSync(join(builtDir, 'handlers.json'), 'utf8')));
    const digest = createHash('sha256');
    for (const f of manifest.sources) digest.update(`${f}\n`).update(readFileSync(join(sourceDir, f)));
    return digest.digest('hex') === manifest.sha256;
  } catch {
    return false; // not built, or a source gone: tsx loads them as before
  }
}

/** The compiled twin of `file` (an absolute path), or null when there is none that may stand for it. */
export function prebuiltHandler(file: string): string | null {
  if (!file.endsWith('.ts')) return null;
  const { sourceDir, builtDir } = dirs();
  // Checked at every load (a few ms: ten small files hashed), not remembered: a module of ours keeps no state between calls.
  if (resolve(dirname(file)) !== sourceDir || !builtFromSources(sourceDir, builtDir)) return null;
  const js = join(builtDir, basename(file).replace(/\.ts$/, '.js'));
  return existsSync(js) ? js : null;
}
