/**
 * docs/troubleshooting.md (LF_STORE_CORRUPT): a log line that is JSON but not a commit (an event edited by hand)
 * is named in one readable line — the file and line, and what is wrong where (the commit's path and the
 * schema's message) — not the schema's issues as forty lines of JSON. Real CLI processes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';

describe('a corrupt run log, as status, list and history say it', () => {
  it('names file:line, the field and what it must be, in at most two lines', async () => {
    const dir = tempDir('lf-corrupt-');
    writeFileSync(
      join(dir, 'w.yaml'),
      'workflow:\n  id: w\n  version: 1\n  tasks:\n    - { id: a, type: COMMAND, command: [echo, hi] }\n',
    );
    const store = join(dir, 'store');
    expect((await cli(['--store', store, 'run', 'w.yaml', '--id', 'r1'], { cwd: dir })).code).toBe(0);
    const log = join(store, 'runs', 'r1.jsonl');
    writeFileSync(log, readFileSync(log, 'utf8').replace('"type":"run.started"', '"type":"run.begun"'));
    for (const args of [['status', 'r1'], ['history', 'r1'], ['list']]) {
      const r = await cli(['--store', store, ...args], { cwd: dir });
      const said = r.stderr
        .trim()
        .split('\n')
        .filter((l) => l.includes('r1'));
      expect(said.length, `${args.join(' ')}: ${r.stderr}`).toBeGreaterThan(0);
      expect(r.stderr.trim().split('\n').length, `${args.join(' ')}: ${r.stderr}`).toBeLessThanOrEqual(2);
      expect(said[0]).toMatch(
        /r1\.jsonl(:1|: line 1): .*not a valid commit: events\.0\.type: Invalid discriminator value\. Expected 'run\.started'/,
      );
      expect(r.stderr).not.toMatch(/^\s*[[{]\s*$/m);
    }
  });
});
