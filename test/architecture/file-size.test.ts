/**
 * The charter's "no file in src/ over 400 lines" (ARCHITECTURE.md): a file that long has
 * more than one job, and is split along its seams into files that each say what they are. Lines are
 * counted as an editor numbers them (`wc -l` for a file that ends in a newline).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SRC, sourceFiles } from './import-graph.js';

const MAX_LINES = 400;

/**
 * Files still over the limit while someone splits them. Remove a file from here when its split
 * lands (the last test below fails until then, so the list cannot go stale).
 */
const BEING_SPLIT: readonly string[] = [];

const lineCount = (text: string): number => text.split('\n').length - (text.endsWith('\n') ? 1 : 0);

const sizes = [...sourceFiles(SRC, join(SRC, '..'))].map(([file, text]) => ({ file, lines: lineCount(text) }));
const tooLong = sizes.filter((s) => s.lines > MAX_LINES);

describe(`no file in src/ over ${MAX_LINES} lines`, () => {
  it('reads the files of src/', () => {
    expect(sizes.length).toBeGreaterThan(200);
  });

  it(`every file of src/ is at most ${MAX_LINES} lines (but those in BEING_SPLIT)`, () => {
    const over = tooLong.filter((s) => !BEING_SPLIT.includes(s.file)).map((s) => `${s.file}: ${s.lines} lines`);
    expect(
      over,
      'split each along its seams: one job per file, a name that says what it is, a top comment that says why it exists',
    ).toEqual([]);
  });

  for (const file of BEING_SPLIT) it.todo(`split ${file}`);

  it('BEING_SPLIT names only files that are still over the limit', () => {
    const done = BEING_SPLIT.filter((file) => !tooLong.some((s) => s.file === file));
    expect(
      done,
      `remove these from BEING_SPLIT in ${import.meta.url.split('/').pop()}: they are split (or gone)`,
    ).toEqual([]);
  });
});
