/**
 * docs/language.md#large-payloads on the embedded store, as a user runs it: `ledgerflow run <wf> --input-file big.json`
 * with a 24 MB input and the data key set. The large field is kept apart in the store's blobs (sealed), the run's log
 * stays small, and a task reads a field of it.
 */
import { randomBytes } from 'node:crypto';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';
import { everyByte } from '../encryption/docs-page.js';

const CANARY = 'CLEAR-ROW-CANARY-';
const BIG = `workflow:
  id: big-start
  input:
    required: [doc]
  tasks:
    - { id: pick, type: SET, values: { title: "\${workflow.input.doc.title}" } }
`;

describe('a 24 MB input on the embedded store, through the CLI', () => {
  it('is kept apart, sealed; the log stays small; a task reads a field of it', async () => {
    const dir = tempDir('lf-big-input-');
    writeFileSync(join(dir, 'big-start.yaml'), BIG);
    const rows = Array.from({ length: 24 * 1024 }, (_, i) => `${CANARY}${i}`.padEnd(1000, 'x'));
    writeFileSync(join(dir, 'big.json'), JSON.stringify({ doc: { title: 'Quarterly', rows } }));
    const env = { LEDGERFLOW_SECRET_LF_DATA_KEY: randomBytes(32).toString('base64') };
    const r = await cli(['run', 'big-start.yaml', '--input-file', 'big.json', '--id', 'big1', '--store', 'store'], {
      cwd: dir,
      env,
    });
    expect(r.stdout, r.stderr).toContain('COMPLETED');
    const status = await cli(['status', 'big1', '--json', '--store', 'store'], { cwd: dir, env });
    expect(JSON.parse(status.stdout).tasks.pick.output).toEqual({ title: 'Quarterly' });
    expect(statSync(join(dir, 'store', 'runs', 'big1.jsonl')).size).toBeLessThan(64 * 1024);
    const blobs = everyByte(join(dir, 'store', 'blobs'));
    expect(blobs.reduce((n, f) => n + f.text.length, 0)).toBeGreaterThan(24_000_000);
    for (const f of everyByte(join(dir, 'store'))) expect(f.text.includes(CANARY), f.file).toBe(false);
  }, 120_000);
});
