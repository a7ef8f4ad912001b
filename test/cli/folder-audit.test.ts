/**
 * The bundled depot audit (definitions/folder-audit.yaml) for real, on the
 * file store, with its own handlers and sample folders: the DO_WHILE waits
 * until two snapshots agree, the MAP runs the folder-report sub-workflow once
 * per folder (child runs of their own, linked both ways), the WAIT holds the
 * run until a person's signal, and the summary is written where output_to
 * says.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, expectEveryRunReplays, ROOT, tempDir } from '../helpers/cli.js';

const AUDIT = join(ROOT, 'definitions', 'folder-audit.yaml');
const SAMPLES = join(ROOT, 'definitions', 'samples', 'audit');

afterAll(async () => {
  expect(await expectEveryRunReplays()).toBeGreaterThanOrEqual(4);
});

describe('the bundled folder audit', () => {
  it('settles, reports each folder as a sub-workflow, waits for the sign-off signal, then writes the summary', async () => {
    const cwd = tempDir();
    const store = tempDir();
    const lf = (args: string[]) => cli(['--store', store, ...args], { cwd });
    const first = await lf(['run', AUDIT, '--root', SAMPLES, '--label', 'q4', '--json']);
    expect(first.code, first.stderr).toBe(3); // waiting for a person
    const waiting = JSON.parse(first.stdout);
    expect(waiting.status).toBe('WAITING');
    // The loop ran until two snapshots in a row agreed: twice, on folders nobody writes to.
    expect(waiting.tasks.settle).toMatchObject({ status: 'COMPLETED', iteration: 2 });
    expect(waiting.tasks.snapshot.output.changed).toBe(false);
    // One child run per folder, each linked to its item.
    const items = waiting.tasks.report_each.items as {
      instance: string;
      status: string;
      output: { folder: string; files: number; stock_rows: number };
    }[];
    expect(items.map((i) => [i.instance, i.status])).toEqual([
      ['report_each[0]', 'COMPLETED'],
      ['report_each[1]', 'COMPLETED'],
      ['report_each[2]', 'COMPLETED'],
    ]);
    expect(items.map((i) => [i.output.folder.split('/').at(-1), i.output.files, i.output.stock_rows])).toEqual([
      ['north', 2, 2],
      ['south', 1, 1],
      ['west', 2, 3],
    ]);
    const list = JSON.parse((await lf(['list', '--json'])).stdout) as {
      runId: string;
      workflowId: string;
      parent?: { runId: string };
    }[];
    const children = list.filter((r) => r.workflowId === 'folder-report');
    expect(children).toHaveLength(3);
    expect(children.every((c) => c.parent?.runId === waiting.runId)).toBe(true);
    expect(waiting.tasks.sign_off.status).toBe('WAITING');

    // A signal nobody waits for is refused and recorded nowhere; the right one is taken.
    const wrong = await lf(['signal', waiting.runId, 'audit_approved']);
    expect(wrong.code).toBe(2);
    const ok = await lf([
      'signal',
      waiting.runId,
      'audit_signed_off',
      '--data',
      '{"by":"alice","note":"counts match"}',
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    const done = await lf(['resume', waiting.runId, '--json']);
    expect(done.code, done.stderr).toBe(0);
    const view = JSON.parse(done.stdout);
    expect(view.status).toBe('COMPLETED');
    expect(view.output).toEqual({ folders: 3, files: 5, stock_rows: 6, signed_off_by: 'alice' });
    const summary = join(cwd, 'audit-reports', 'q4.yaml');
    expect(existsSync(summary)).toBe(true);
    expect(parse(readFileSync(summary, 'utf8'))).toMatchObject({ folders: 3, note: 'counts match', empty_folders: [] });
  }, 120_000);
});
