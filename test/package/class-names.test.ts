/**
 * The build bundles modules with code splitting and without esbuild's keepNames (scripts/build-esm.mjs): a class
 * or function whose name collides with another's in a chunk is renamed (Foo2). Every class the package exports
 * must keep its own name: `err.name` (LedgerflowError sets it from new.target), messages and stack traces show it.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

describe('the built package', () => {
  it('exports every class under the name it has (no class renamed apart by the bundler)', async () => {
    const mod = (await import(pathToFileURL(join(ROOT, 'dist', 'index.js')).href)) as Record<string, unknown>;
    const classes = Object.entries(mod).filter(
      ([k, v]) => typeof v === 'function' && /^[A-Z]/.test(k) && /^class\b/.test(Function.prototype.toString.call(v)),
    );
    expect(classes.length).toBeGreaterThan(20);
    expect(
      classes
        .filter(([k, v]) => (v as { name: string }).name !== k)
        .map(([k, v]) => `${k} is named ${(v as { name: string }).name}`),
    ).toEqual([]);
    // And an error made by one says its class.
    const { NonRetryableError } = mod as { NonRetryableError: new (m: string) => Error };
    expect(new NonRetryableError('x').name).toBe('NonRetryableError');
  });
});
