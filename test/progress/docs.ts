/** docs/handlers.md "Progress": its workflow, handler module and COMMAND script, read from the page (tests follow the docs). */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/cli.js';

const page = readFileSync(join(ROOT, 'docs', 'handlers.md'), 'utf8');
const section = page.slice(page.indexOf('## Progress'), page.indexOf('## COMMAND: run a program'));
const blocks = (lang: string) =>
  [...section.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);

/** The page's workflow (archive-scan), word for word. */
export const SCAN_YAML = blocks('yaml')[0]!;
/** The page's handler module (scan-handlers.mjs). */
export const SCAN_HANDLERS = blocks('js')[0]!;
/** The page's COMMAND script (scripts/count.sh) and its task. */
export const COUNT_SH = blocks('sh')[0]!;
export const COUNT_TASK = blocks('yaml')[1]!;

/** A workflow holding the page's COMMAND task. */
export const countYaml = (id = 'count-files') => `workflow:
  id: ${id}
  version: 1
  tasks:
${COUNT_TASK}`;

/**
 * The page's handler with its loop held at 40% of its files until `release` exists (and, for each of `later`, at its
 * `at` until its `release` exists): the handler reports as the page does, and the test sees it while it runs (the test
 * releases it; no sleeps in the test).
 */
export const heldHandlers = (release: string, later: { at: number; release: string }[] = []) =>
  SCAN_HANDLERS.replace(
    '      ctx.progress((i + 1) / files.length, `scanned ${i + 1} of ${files.length} files`);\n',
    '      ctx.progress((i + 1) / files.length, `scanned ${i + 1} of ${files.length} files`);\n' +
      [{ at: 0.4, release }, ...later]
        .map(
          (h) => `      if (i + 1 === Math.round(files.length * ${h.at})) await held(${JSON.stringify(h.release)});\n`,
        )
        .join(''),
  ).replace(
    "import { join } from 'node:path';\n",
    "import { join } from 'node:path';\nimport { existsSync } from 'node:fs';\n" +
      'const held = (file) => new Promise((r) => { const t = setInterval(() => { if (existsSync(file)) { clearInterval(t); r(); } }, 20); });\n',
  );

/** The folder the page's handler scans: `<dir>/data` with ten one-byte files (its path). */
export function scanFolder(dir: string): string {
  const folder = join(dir, 'data');
  mkdirSync(folder);
  for (let i = 0; i < 10; i++) writeFileSync(join(folder, `f${i}.txt`), 'x');
  return folder;
}
