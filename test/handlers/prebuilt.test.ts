/**
 * The bundled workflows' handlers compiled at build time (scripts/build-handlers.mjs) stand in for their
 * TypeScript sources only while those are the sources they were compiled from: a run of a bundled workflow
 * from the build starts no tsx, and a source edited in a clone is loaded through tsx as before.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtFromSources, prebuiltHandler } from '../../src/handlers/prebuilt.js';
import { ROOT, tempDir } from '../helpers/cli.js';

const SOURCES = join(ROOT, 'definitions', 'handlers');
const BUILT = join(ROOT, 'dist', 'definitions', 'handlers');

describe('the bundled handlers, compiled at build time', () => {
  it('stand in for the sources `npm run build` compiled them from (npm test builds first)', () => {
    expect(builtFromSources(SOURCES, BUILT)).toBe(true);
    expect(prebuiltHandler(join(SOURCES, 'leads.ts'))).toBe(join(BUILT, 'leads.js'));
    // A handler module anywhere else (a user's, a copied template's) is not the package's.
    const mine = tempDir('lf-prebuilt-');
    cpSync(join(SOURCES, 'leads.ts'), join(mine, 'leads.ts'));
    expect(prebuiltHandler(join(mine, 'leads.ts'))).toBeNull();
    expect(prebuiltHandler(join(SOURCES, 'leads.js'))).toBeNull();
  });

  it('do not once any source differs from the build (a handler imports its siblings: one edit and none is used)', () => {
    const dir = tempDir('lf-prebuilt-');
    const [src, built] = [join(dir, 'src'), join(dir, 'built')];
    cpSync(SOURCES, src, { recursive: true });
    cpSync(BUILT, built, { recursive: true });
    expect(builtFromSources(src, built)).toBe(true);
    writeFileSync(join(src, 'inventory.ts'), `${readFileSync(join(src, 'inventory.ts'), 'utf8')}\n// edited\n`);
    expect(builtFromSources(src, built)).toBe(false);
    // Not built at all: the sources load as before.
    expect(builtFromSources(src, join(dir, 'nowhere'))).toBe(false);
  });
});
