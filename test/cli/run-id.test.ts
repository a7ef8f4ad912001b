/** `ledgerflow run --id` (docs/runs.md#caller-chosen-run-ids): a start that names its run is idempotent. */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, expectEveryRunReplays, tempDir } from '../helpers/cli.js';

afterAll(async () => {
  expect(await expectEveryRunReplays()).toBeGreaterThan(0);
});

/**
 * One task that appends a line to `calls` and fails while the file `broken` exists;
 * `extra` goes under `workflow:` (e.g. `id_reuse: allow_after_failure`).
 */
function order(dir: string, extra = '', id = 'order'): string {
  writeFileSync(
    join(dir, 'handlers.mjs'),
    `import { appendFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
const here = ${JSON.stringify(dir)};
export default {
  charge: async (input) => {
    appendFileSync(join(here, 'calls'), input.customer + '\\n');
    if (existsSync(join(here, 'broken'))) throw new Error('card declined');
    return { charged: input.customer };
  },
};
`,
  );
  const file = join(dir, `${id}.yaml`);
  writeFileSync(
    file,
    `workflow:
  id: ${id}
  handlers: ./handlers.mjs
${extra}  input:
    required: [customer]
  tasks:
    - { id: charge, type: SIMPLE, input: { customer: "\${workflow.input.customer}" }, retry_policy: { max_attempts: 1 } }
`,
  );
  return file;
}

const calls = (dir: string) =>
  existsSync(join(dir, 'calls')) ? readFileSync(join(dir, 'calls'), 'utf8').split('\n').filter(Boolean) : [];
const runFiles = (store: string) =>
  existsSync(join(store, 'runs'))
    ? readdirSync(join(store, 'runs'))
        .filter((f) => f.endsWith('.jsonl'))
        .sort()
    : [];
type View = { runId: string; status: string; existing?: boolean };

describe('ledgerflow run --id', () => {
  it('a second run with the same id returns the existing run: exit 0, --json existing: true, the handler not called again', async () => {
    const dir = tempDir();
    const store = join(dir, 'store');
    const file = order(dir);
    const first = await cli(['--store', store, 'run', file, '--id', 'order-42', '--customer', 'acme']);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('run order-42 started (order v1)');

    // The start again, and beside it a fresh run of another id (to compare its --json with).
    const [again, fresh] = await Promise.all([
      cli(['--store', store, 'run', file, '--id', 'order-42', '--customer', 'acme', '--json']),
      cli(['--store', store, 'run', file, '--id', 'order-43', '--customer', 'acme', '--json']).then(
        (r) => JSON.parse(r.stdout) as Record<string, unknown>,
      ),
    ]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('run order-42 exists already (order v1, COMPLETED): not started again');
    const view = JSON.parse(again.stdout) as View & { tasks: Record<string, { output: unknown }> };
    expect(view).toMatchObject({ runId: 'order-42', status: 'COMPLETED', existing: true });
    expect(view.tasks.charge!.output).toEqual({ charged: 'acme' });
    // The same shape as a fresh run's --json, plus `existing`.
    expect(Object.keys(view).sort()).toEqual([...Object.keys(fresh), 'existing'].sort());
    expect(fresh.existing).toBeUndefined();

    const text = await cli(['--store', store, 'run', file, '--id', 'order-42', '--customer', 'other']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('run order-42 exists already');
    expect(calls(dir)).toEqual(['acme', 'acme']);
    expect(runFiles(store)).toEqual(['order-42.jsonl', 'order-43.jsonl']);
  });

  it('two run --id processes racing make one run: one starts it, the other returns it', async () => {
    const dir = tempDir();
    const store = join(dir, 'store');
    const file = order(dir);
    const args = ['--store', store, 'run', file, '--id', 'race-1', '--customer', 'acme', '--json'];
    const [a, b] = await Promise.all([cli(args), cli(args)]);
    const views = [a, b].map((r) => JSON.parse(r.stdout) as View);
    expect(views.map((v) => v.runId)).toEqual(['race-1', 'race-1']);
    expect(views.filter((v) => v.existing === true)).toHaveLength(1);
    const winner = [a, b][views.findIndex((v) => v.existing !== true)]!;
    expect(winner.code).toBe(0);
    // The loser returned the run as it stood then (COMPLETED, or still running in the winner): its start succeeded.
    expect([a, b][views.findIndex((v) => v.existing === true)]!.code).toBe(0);
    expect(calls(dir)).toEqual(['acme']);
    expect(runFiles(store)).toEqual(['race-1.jsonl']);
  });

  it('reject_duplicate (the default) returns a FAILED run, exit 0; allow_after_failure starts <id>--2; allow also after COMPLETED', async () => {
    const dir = tempDir();
    const store = join(dir, 'store');
    const file = order(dir);
    writeFileSync(join(dir, 'broken'), '');
    const failed = await cli(['--store', store, 'run', file, '--id', 'inv-7', '--customer', 'acme', '--json']);
    expect(failed.code).toBe(1);
    expect(JSON.parse(failed.stdout)).toMatchObject({ runId: 'inv-7', status: 'FAILED' });
    rmSync(join(dir, 'broken'));

    const rejected = await cli(['--store', store, 'run', file, '--id', 'inv-7', '--customer', 'acme', '--json']);
    expect(rejected.code).toBe(0); // the start found its run: exit 0; the run's outcome is its status
    expect(JSON.parse(rejected.stdout)).toMatchObject({ runId: 'inv-7', status: 'FAILED', existing: true });

    const reused = await cli([
      '--store',
      store,
      'run',
      file,
      '--id',
      'inv-7',
      '--id-reuse',
      'allow_after_failure',
      '--customer',
      'acme',
      '--json',
    ]);
    expect(reused.code).toBe(0);
    expect(JSON.parse(reused.stdout)).toMatchObject({ runId: 'inv-7--2', status: 'COMPLETED' });
    expect(JSON.parse(reused.stdout).existing).toBeUndefined();

    // The latest run of the id COMPLETED: allow_after_failure returns it, allow starts another.
    const kept = await cli([
      '--store',
      store,
      'run',
      file,
      '--id',
      'inv-7',
      '--id-reuse',
      'allow_after_failure',
      '--customer',
      'acme',
      '--json',
    ]);
    expect(JSON.parse(kept.stdout)).toMatchObject({ runId: 'inv-7--2', status: 'COMPLETED', existing: true });
    const allowed = await cli([
      '--store',
      store,
      'run',
      file,
      '--id',
      'inv-7',
      '--id-reuse',
      'allow',
      '--customer',
      'acme',
      '--json',
    ]);
    expect(JSON.parse(allowed.stdout)).toMatchObject({ runId: 'inv-7--3', status: 'COMPLETED' });

    expect(calls(dir)).toEqual(['acme', 'acme', 'acme']);
    expect(runFiles(store)).toEqual(['inv-7--2.jsonl', 'inv-7--3.jsonl', 'inv-7.jsonl']);
    // The old run is untouched: its history still ends FAILED.
    const status = await cli(['--store', store, 'status', 'inv-7', '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ status: 'FAILED' });
  });

  it('id_reuse on the workflow is the default of its starts; --id-reuse overrides it', async () => {
    const dir = tempDir();
    const store = join(dir, 'store');
    const file = order(dir, '  id_reuse: allow_after_failure\n');
    writeFileSync(join(dir, 'broken'), '');
    expect((await cli(['--store', store, 'run', file, '--id', 'job', '--customer', 'a'])).code).toBe(1);
    rmSync(join(dir, 'broken'));
    const held = await cli([
      '--store',
      store,
      'run',
      file,
      '--id',
      'job',
      '--id-reuse',
      'reject_duplicate',
      '--customer',
      'a',
      '--json',
    ]);
    expect(JSON.parse(held.stdout)).toMatchObject({ runId: 'job', status: 'FAILED', existing: true });
    const reused = await cli(['--store', store, 'run', file, '--id', 'job', '--customer', 'a', '--json']);
    expect(JSON.parse(reused.stdout)).toMatchObject({ runId: 'job--2', status: 'COMPLETED' });
  });

  it('refuses a bad id, a bad policy, --id-reuse alone and an unknown id_reuse in the file: exit 2, nothing written', async () => {
    const dir = tempDir();
    const store = join(dir, 'store');
    const file = order(dir);
    const refusals = [
      [
        ['--id', 'order 42'],
        'invalid --id "order 42": a run id given to a start has 1-100 characters among A-Z a-z 0-9 _ -',
      ],
      [['--id', 'x'.repeat(101)], 'has 1-100 characters'],
      [['--id', 'order-42--2'], 'does not end in --<digits>'],
      [
        ['--id', 'a', '--id-reuse', 'sometimes'],
        'invalid --id-reuse "sometimes": expected one of reject_duplicate, allow_after_failure, allow',
      ],
      [['--id-reuse', 'allow'], '--id-reuse needs --id <id>'],
    ] as const;
    const badFile = order(dir, '  id_reuse: always\n', 'order2');
    // Each refused on its own, so all at once: none writes anything (checked below).
    const [r, ...refused] = await Promise.all([
      cli(['--store', store, 'run', badFile, '--id', 'a', '--customer', 'acme']),
      ...refusals.map(([flags]) => cli(['--store', store, 'run', file, ...flags, '--customer', 'acme', '--json'])),
    ]);
    for (const [i, [flags, message]] of refusals.entries()) {
      const refusal = refused[i]!;
      expect(refusal.code, flags.join(' ')).toBe(2);
      expect(refusal.stderr).toContain(message);
      expect(JSON.parse(refusal.stdout).error.code).toBe('LF_USAGE');
    }
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `${badFile}:4:13: error: workflow.id_reuse: expected one of reject_duplicate, allow_after_failure, allow, got "always"`,
    );
    expect(calls(dir)).toEqual([]);
    expect(runFiles(store)).toEqual([]);
  });

  it('an id held by a run of another workflow is refused (LF_RUN_ID_TAKEN, exit 2), nothing written', async () => {
    const dir = tempDir();
    const store = join(dir, 'store');
    expect((await cli(['--store', store, 'run', order(dir), '--id', 'shared', '--customer', 'a'])).code).toBe(0);
    const other = order(dir, '', 'refund');
    const r = await cli(['--store', store, 'run', other, '--id', 'shared', '--customer', 'a', '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).error).toMatchObject({
      code: 'LF_RUN_ID_TAKEN',
      meta: { runId: 'shared', workflowId: 'refund', takenBy: 'order' },
    });
    expect(runFiles(store)).toEqual(['shared.jsonl']);
    expect(calls(dir)).toEqual(['a']);
  });
});
