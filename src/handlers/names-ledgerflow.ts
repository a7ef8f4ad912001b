/**
 * Whether a handler module may import `ledgerflow` through Node's ES module resolver: the module, or a module it
 * reaches by relative imports, names it in a string (a `.cjs`, or a `.ts`/`.cts` tsx loads as CommonJS: in an
 * `import(…)`; its `require`s, and the `import`s tsx turns into them, go through the CommonJS resolver, which
 * self-resolve.ts patches without a thread. Not a `.js` outside a `"type": "module"` package: Node 20.19+ loads one
 * written with `import` as an ES module). self-resolve.ts asks this before it starts the resolve hook's thread (about
 * 70 ms of CPU), which only a module importing `ledgerflow` needs. A read of the source text, no parser: it may answer
 * yes for a module that does not import `ledgerflow` (a comment or a string that names it), which costs only the
 * thread; it answers yes whenever it cannot tell (an `import(…)` or `require(…)` of a computed name, a `#` import, a
 * file it cannot read, more files than it reads), never no for a module that imports it by name.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadsAsCommonJs } from './module-format.js';

const MAX_FILES = 200;
const NAMED = /(['"`])ledgerflow(?:\/[^'"`]*)?\1/;
const IMPORTED = /\bimport\s*\(\s*(['"`])ledgerflow(?:\/[^'"`]*)?\1/;
// import('…' + x), require(name), import(`./${x}`): a name this scan cannot read.
const COMPUTED = /\b(?:import|require)\s*\(\s*(?:[^'"`\s)]|(['"`])[^'"`]*\1\s*[^\s)]|`[^`]*\$\{)/;
const PACKAGE_IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)(['"])#[^'"]*\1/;
const RELATIVE = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)(['"])((?:\.{1,2}|file:)?\/[^'"]*|\.{1,2})\1/g;
const EXTENSIONS = ['', '.js', '.mjs', '.cjs', '.ts', '.mts', '.cts', '.jsx', '.tsx'];

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The file a relative specifier names, as Node or tsx would find it (a `.js` that is a `.ts` on disk included). */
function target(from: string, specifier: string): string | null {
  const base = specifier.startsWith('file:') ? fileURLToPath(specifier) : resolve(dirname(from), specifier);
  const swapped = base.replace(/\.(m|c)?js(x?)$/, '.$1ts$2');
  for (const candidate of [
    ...EXTENSIONS.map((e) => base + e),
    swapped,
    ...EXTENSIONS.slice(1).map((e) => resolve(base, `index${e}`)),
  ]) {
    if (isFile(candidate)) return candidate;
  }
  return null;
}

export function mayImportLedgerflow(entry: string): boolean {
  const queue = [entry];
  const seen = new Set(queue);
  while (queue.length > 0) {
    if (seen.size > MAX_FILES) return true;
    const file = queue.shift()!;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return true;
    }
    const commonJs = /\.c[jt]s$/.test(file) || (file.endsWith('.ts') && loadsAsCommonJs(file));
    if ((commonJs ? IMPORTED : NAMED).test(text) || COMPUTED.test(text) || PACKAGE_IMPORT.test(text)) return true;
    for (const m of text.matchAll(RELATIVE)) {
      const next = target(file, m[2]!);
      if (next && !seen.has(next) && existsSync(next)) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  return false;
}
