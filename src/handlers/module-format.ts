/**
 * Whether Node (and tsx, which follows Node's rule) loads a module file as CommonJS: `.cjs` and `.cts` always, `.mjs`
 * and `.mts` never, `.js` and `.ts` when the nearest package.json does not say `"type": "module"` (or there is none).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';

export function loadsAsCommonJs(file: string): boolean {
  if (/\.c[jt]s$/.test(file)) return true;
  if (!/\.[jt]s$/.test(file)) return false;
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        return (JSON.parse(readFileSync(pkg, 'utf8')) as { type?: unknown }).type !== 'module';
      } catch {
        return false; // loaded as an ES module, Node reports the bad package.json as it does
      }
    }
    if (dirname(dir) === dir || dir.endsWith(`${sep}node_modules`)) return true;
  }
}
