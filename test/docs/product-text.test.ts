/**
 * The product speaks to a user who has only the repository: what it prints,
 * its docs, its comments and its bundled files name the conventions they
 * follow (the `.3ox/` folder, the 1N/0UT file protocol, CMD.BRIDGE lines, the
 * L0–L3 levels), never the documents the project was first written from
 * ("seed 003's 1N/0UT protocol", "as the seed writes it"), and never a file
 * of the repository that is not there (DESIGN.md). A random seed (`--seed 1`,
 * `LEDGERFLOW_FUZZ_SEED`, a chaos run's `seed 157305965`) is another sense of
 * the word and stays.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

/** What a user reads or runs: the sources (their comments, messages and help), the docs, the bundled definitions and templates, the examples. */
const PRODUCT = [
  'src',
  'docs',
  'definitions',
  'events',
  'examples',
  'schema',
  'bin',
  'README.md',
  'ARCHITECTURE.md',
  'CONTRIBUTING.md',
];

/** The repository's files under PRODUCT, as git knows them (tracked, or new and not ignored). */
function productFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '--', ...PRODUCT], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return [...new Set(out.split('\n').filter((f) => f !== '' && existsSync(join(ROOT, f))))].filter(
    (f) => !/\.(png|jpe?g|gif|ico|woff2?|wasm)$/.test(f),
  );
}

/**
 * The project's founding documents, as the text may name them: `seed 003`, `seeds 000 and 002`, `Seed 004's`,
 * `the seed's`, `the seeds'`, `the seed format`, `seed use case 2`. A flag (`--seed 1`) and a long
 * number (a random seed) are not them.
 */
const SEED_AS_DOCUMENT = [
  /(?<![-\w])seeds? ?\d{1,3}\b/i,
  /(?<![-\w])seeds?'s?(?=\s|$)/i,
  /(?<![-\w])seeds'/i,
  /\bthe seeds?\b(?! ?\d{4,})/i,
  /(?<![-\w])seed (?:user|format|files?|aliases|list|use case|example|workflow|definition)\b/i,
];

/** Documents of the project's history, as the text names them: named only while the repository holds them. */
const HISTORY_DOCUMENTS = [
  { file: 'DESIGN.md', named: /\bDESIGN\b(?:\.md)?/ },
  { file: 'TEMPLATES-ENTRIES.md', named: /\bTEMPLATES-ENTRIES\.md\b/ },
];

function offending(patterns: RegExp[], files: string[]): string[] {
  const hits: string[] = [];
  for (const file of files) {
    const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (patterns.some((p) => p.test(line))) hits.push(`${file}:${i + 1}: ${line.trim().slice(0, 160)}`);
    });
  }
  return hits;
}

describe('the product text', () => {
  const files = productFiles();

  it('covers the sources, the docs and the bundled definitions', () => {
    for (const f of [
      'README.md',
      'docs/agents.md',
      'src/cli/program.ts',
      'definitions/catalog/templates.yaml',
      'definitions/inventory-validation.yaml',
    ]) {
      expect(files).toContain(f);
    }
  });

  it('names the conventions it follows, never the founding documents ("seed 003", "the seed\'s")', () => {
    expect(
      offending(SEED_AS_DOCUMENT, files),
      'say what the convention is (the .3ox/ folder, the 1N/0UT protocol, CMD.BRIDGE lines, the L0–L3 levels) where it is used',
    ).toEqual([]);
  });

  it('catches the founding documents in the forms they were written in, and lets a random seed be', () => {
    const said = (line: string) => SEED_AS_DOCUMENT.some((p) => p.test(line));
    for (const line of [
      "(seed 003's 1N/0UT protocol)",
      'Seed 004, "Business Process Chain"',
      'seeds 000 and 002:',
      'as the seed writes it',
      "the seeds' inline form",
      'the seed format',
      '(seed use case 2)',
    ]) {
      expect(said(line), line).toBe(true);
    }
    for (const line of [
      'npm run chaos -- --minutes 3 --seed 1',
      'LEDGERFLOW_FUZZ_SEED=<n> another seed (a failure prints its seed and counterexample)',
      'a 2-minute chaos run (seed 157305965)',
      'a seeded sample (the same seeds every run)',
      'before its 32-byte seed',
    ]) {
      expect(said(line), line).toBe(false);
    }
  });

  it('refers to no document the repository does not hold (DESIGN.md)', () => {
    const absent = HISTORY_DOCUMENTS.filter((d) => !existsSync(join(ROOT, d.file))).map((d) => d.named);
    expect(offending(absent, files)).toEqual([]);
  });
});
