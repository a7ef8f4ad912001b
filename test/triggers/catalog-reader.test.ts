/**
 * The definitions folder as `serve` and `ui` read it on every tick: parsed
 * once, then again only when a file of it changed (an idle dashboard burned
 * half a core re-parsing every file twice a second), and the schedules of the
 * bundled definitions never fire from a folder of the user's.
 */
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { catalogReader, scheduledDir } from '../../src/triggers/index.js';
import { tempDir } from '../helpers/cli.js';

const flow = (id: string) =>
  `workflow:\n  id: ${id}\n  triggers:\n    - schedule: "0 9 * * *"\n  tasks:\n    - { id: a, type: SET, values: { x: 1 } }\n`;

describe('catalogReader', () => {
  it('parses the folder once while nothing changes (the same list each tick), and again when a file is edited or added', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.yaml'), flow('a'));
    const read = catalogReader(dir, () => {});
    const first = read();
    expect(first.map((l) => l.definition.id)).toEqual(['a']);
    for (let i = 0; i < 5; i++) expect(read()).toBe(first);
    writeFileSync(join(dir, 'a.yaml'), flow('a2'));
    utimesSync(join(dir, 'a.yaml'), new Date(), new Date(Date.now() + 5000));
    expect(read().map((l) => l.definition.id)).toEqual(['a2']);
    writeFileSync(join(dir, 'b.yaml'), flow('b'));
    expect(
      read()
        .map((l) => l.definition.id)
        .sort(),
    ).toEqual(['a2', 'b']);
  });
});

describe('scheduledDir', () => {
  it('is --definitions when given, else ./definitions when the folder has one, else none (not the bundled definitions)', () => {
    const empty = tempDir();
    expect(scheduledDir(undefined, empty)).toBeNull();
    expect(scheduledDir('flows', empty)).toBe(join(empty, 'flows'));
    mkdirSync(join(empty, 'definitions'));
    expect(scheduledDir(undefined, empty)).toBe(join(empty, 'definitions'));
  });
});
