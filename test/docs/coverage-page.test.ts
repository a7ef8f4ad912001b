/**
 * docs/coverage.md states figures of the bundled definitions: how many there
 * are, how many paths and expectations `ledgerflow test definitions/*.yaml`
 * runs, and a table of paths and coverage per definition. And any page that
 * says how many bundled workflows (or definitions) there are says the number
 * `definitions/` holds. They are computed here as `ledgerflow paths` and
 * `ledgerflow test` compute them (generatePaths, the expectations files), so
 * a definition added or changed fails this test until the page says so.
 * docs/library.md's table lists the catalogue's templates, no more, no fewer.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectationsFileFor, generatePaths, parseExpectations } from '../../src/coverage/index.js';
import { loadDefinitionFile } from '../../src/files/index.js';
import { loadCatalog } from '../../src/templates/index.js';
import { ROOT } from '../helpers/cli.js';
import { docPages } from './markdown.js';

const COVERAGE = readFileSync(join(ROOT, 'docs', 'coverage.md'), 'utf8');
const DEFINITIONS = join(ROOT, 'definitions');
const files = readdirSync(DEFINITIONS)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

const WORDS = [
  'zero',
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
  'ten',
  'eleven',
  'twelve',
  'thirteen',
  'fourteen',
  'fifteen',
  'sixteen',
  'seventeen',
  'eighteen',
  'nineteen',
  'twenty',
];
const count = (said: string) => (/^\d+$/.test(said) ? Number(said) : WORDS.indexOf(said.toLowerCase()));

/** Each bundled definition's path report and number of expectations, by workflow file name (without .yaml). */
const reports = new Map(
  files.map((f) => {
    const path = join(DEFINITIONS, f);
    const { definition } = loadDefinitionFile(path);
    const exp = expectationsFileFor(path);
    const expectations = existsSync(exp) ? parseExpectations(readFileSync(exp, 'utf8'), definition, exp).length : 0;
    return [f.replace(/\.yaml$/, ''), { report: generatePaths(definition), expectations }] as const;
  }),
);

describe('docs/coverage.md', () => {
  it('says how many paths and expectations `ledgerflow test definitions/*.yaml` runs, for how many bundled definitions', () => {
    const m = /\((\d+) paths and (\d+)\s+expectations for the (\w+) bundled (?:definitions|workflows)/.exec(COVERAGE);
    expect(m, 'the page says "(N paths and M expectations for the K bundled definitions"').not.toBeNull();
    const paths = [...reports.values()].reduce((n, r) => n + r.report.paths.length, 0);
    const expectations = [...reports.values()].reduce((n, r) => n + r.expectations, 0);
    expect({ paths: Number(m![1]), expectations: Number(m![2]), definitions: count(m![3]!) }).toEqual({
      paths,
      expectations,
      definitions: files.length,
    });
  });

  it('gives each definition of its table the paths and coverage `ledgerflow paths` reports', () => {
    const rows = COVERAGE.split('\n').filter((l) => /^\| [\w-]+ \| \d+ \|/.test(l));
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      const [id, paths, states, transitions, cases] = row
        .split('|')
        .slice(1, 6)
        .map((c) => c.trim());
      const r = reports.get(id!);
      expect(r, `${id} is a bundled definition`).toBeDefined();
      const { coverage } = r!.report;
      const tally = (t: { covered: number; total: number }) => (t.total === 0 ? '-' : `${t.covered}/${t.total}`);
      expect([id, Number(paths), states, transitions, cases!.replace(/\s*\(.*\)$/, '')]).toEqual([
        id,
        r!.report.paths.length,
        tally(coverage.states),
        tally(coverage.transitions),
        tally(coverage.decisionCases),
      ]);
    }
  });
});

describe('the docs', () => {
  it('say as many bundled workflows (or definitions) as definitions/ holds, wherever they count them', () => {
    const said: string[] = [];
    for (const page of docPages()) {
      const text = readFileSync(join(ROOT, page), 'utf8').replace(/\s+/g, ' ');
      for (const m of text.matchAll(/\b(\d+|[A-Za-z]+) bundled (?:workflows|definitions)\b/g)) {
        const n = count(m[1]!);
        if (n < 0) continue; // "the bundled workflows": no number said
        said.push(`${page}: ${m[0]} (definitions/ holds ${files.length})`);
        expect(n, said.at(-1)).toBe(files.length);
      }
    }
    expect(said.length, 'at least coverage.md counts them').toBeGreaterThan(0);
  });
});

describe('docs/library.md', () => {
  it('lists every template of the catalogue in its table, and nothing else', () => {
    const page = readFileSync(join(ROOT, 'docs', 'library.md'), 'utf8');
    const start = page.indexOf('| template | what it does |');
    expect(start).toBeGreaterThan(0);
    const after = page.slice(start).split('\n').slice(2); // past the header and its --- line
    const table = after.slice(
      0,
      after.findIndex((l) => !l.startsWith('|')),
    );
    const listed = table.map((l) => /^\| `([\w-]+)` \|/.exec(l)?.[1]).filter((id): id is string => id !== undefined);
    expect(listed.sort()).toEqual(
      loadCatalog(ROOT)
        .templates.map((t) => t.id)
        .sort(),
    );
  });
});
