/**
 * Every relative link in the docs reaches something: a file that exists, and
 * for `file#anchor` (or `#anchor`) a heading of that page. Pages move and
 * headings get renamed; a newcomer following a link must not land nowhere.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';
import { anchors, docPages, relativeLinks } from './markdown.js';

describe('links in README.md, ARCHITECTURE.md, CONTRIBUTING.md, docs/*.md and bench/RESULTS.md', () => {
  for (const page of docPages()) {
    it(`${page}: every relative link reaches a file, and its #anchor a heading there`, () => {
      const text = readFileSync(join(ROOT, page), 'utf8');
      const broken: string[] = [];
      for (const { line, target } of relativeLinks(text)) {
        const [path, anchor] = target.split('#', 2) as [string, string | undefined];
        const file = path === '' ? join(ROOT, page) : join(ROOT, dirname(page), decodeURIComponent(path));
        const where = `${page}:${line}: ${target}`;
        if (!existsSync(file)) {
          broken.push(`${where}: no file ${relative(ROOT, file)}`);
          continue;
        }
        if (anchor === undefined || anchor === '') continue;
        if (statSync(file).isDirectory() || !file.endsWith('.md')) {
          broken.push(`${where}: an #anchor on something that is not a Markdown page`);
          continue;
        }
        if (!anchors(readFileSync(file, 'utf8')).has(anchor))
          broken.push(`${where}: ${relative(ROOT, file)} has no heading #${anchor}`);
      }
      expect(broken, broken.join('\n')).toEqual([]);
    });
  }

  it('anchors are made as GitHub makes them', () => {
    const a = anchors(
      '# The dashboard: `ledgerflow ui`\n## Loops (DO_WHILE)\n```\n# not a heading\n```\n## Loops (DO_WHILE)\n### `ledgerflow serve [--grace 10s]`\n',
    );
    expect([...a]).toEqual([
      'the-dashboard-ledgerflow-ui',
      'loops-do_while',
      'loops-do_while-1',
      'ledgerflow-serve---grace-10s',
    ]);
  });
});
