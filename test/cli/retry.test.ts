/** `ledgerflow retry <runId>` on the embedded store: a new run that reuses what completed and runs the rest. */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, expectEveryRunReplays, tempDir } from '../helpers/cli.js';

afterAll(async () => {
  expect(await expectEveryRunReplays()).toBeGreaterThan(0);
});

/** Four tasks in a row; `three` fails while the file `broken` exists beside the definition. Every call is a line in `calls`. */
function fourSteps(dir: string): string {
  writeFileSync(
    join(dir, 'handlers.mjs'),
    `import { appendFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
const here = ${JSON.stringify(dir)};
const step = (id) => async (input) => {
  appendFileSync(join(here, 'calls'), id + '\\n');
  if (id === 'three' && existsSync(join(here, 'broken'))) throw new Error('the disk was full');
  return { id, n: (input.n ?? 0) + 1 };
};
export default { one: step('one'), two: step('two'), three: step('three'), four: step('four') };
`,
  );
  const file = join(dir, 'four.yaml');
  writeFileSync(
    file,
    `workflow:
  id: four-steps
  name: Four steps
  version: 1
  handlers: ./handlers.mjs
  tasks:
    - { id: one, type: SIMPLE }
    - { id: two, type: SIMPLE, depends_on: [one], input: { n: "\${one.output.n}" } }
    - { id: three, type: SIMPLE, depends_on: [two], input: { n: "\${two.output.n}" } }
    - { id: four, type: SIMPLE, depends_on: [three], input: { n: "\${three.output.n}" } }
`,
  );
  return file;
}

const calls = (dir: string) =>
  existsSync(join(dir, 'calls')) ? readFileSync(join(dir, 'calls'), 'utf8').split('\n').filter(Boolean) : [];

describe('ledgerflow retry (embedded store)', () => {
  it('retries a run that failed at task 3 of 4: only tasks 3 and 4 run; status and history say which run it retries', async () => {
    const dir = tempDir();
    const store = join(dir, 'store');
    const file = fourSteps(dir);
    writeFileSync(join(dir, 'broken'), '');
    const failed = await cli(['--store', store, 'run', file, '--json']);
    expect(failed.code).toBe(1);
    const old = JSON.parse(failed.stdout) as { runId: string; status: string };
    expect(old.status).toBe('FAILED');
    expect(calls(dir)).toEqual(['one', 'two', 'three']);

    // The definition on disk changes meanwhile: the retry runs the one the failed run recorded.
    writeFileSync(file, readFileSync(file, 'utf8').replace('name: Four steps', 'name: Four steps, edited'));
    rmSync(join(dir, 'broken'));
    const retried = await cli(['--store', store, 'retry', old.runId, '--json']);
    expect(retried.stderr).toMatch(new RegExp(`run \\S+ started: retry of run ${old.runId}`));
    expect(retried.code).toBe(0);
    const view = JSON.parse(retried.stdout) as {
      runId: string;
      status: string;
      tasks: Record<string, { output: unknown }>;
    };
    expect(view.status).toBe('COMPLETED');
    expect(view.runId).not.toBe(old.runId);
    expect(calls(dir)).toEqual(['one', 'two', 'three', 'three', 'four']);
    // three's input came from two's reused output.
    expect(view.tasks.four!.output).toEqual({ id: 'four', n: 4 });

    const status = await cli(['--store', store, 'status', view.runId]);
    expect(status.stdout).toContain(`retry of run ${old.runId} (reused the outputs of one, two)`);
    const statusJson = JSON.parse((await cli(['--store', store, 'status', view.runId, '--json'])).stdout);
    expect(statusJson.retryOf).toEqual({ runId: old.runId, reused: ['one', 'two'] });
    const history = await cli(['--store', store, 'history', view.runId]);
    expect(history.stdout).toContain(`(retry of run ${old.runId}, reusing one, two)`);
    expect(history.stdout).toMatch(new RegExp(`task\\.completed\\s+one reused from run ${old.runId} \\(no attempt\\)`));
    const events = JSON.parse((await cli(['--store', store, 'history', view.runId, '--json'])).stdout) as {
      type: string;
      data: Record<string, unknown>;
    }[];
    expect(events[0]!.data).toMatchObject({
      source: { retryOf: { runId: old.runId, outputs: { one: { id: 'one', n: 1 }, two: { id: 'two', n: 2 } } } },
    });
    expect((events[0]!.data.definition as { name: string }).name).toBe('Four steps');
    expect(events.filter((e) => e.type === 'task.started' && !e.data.reused).map((e) => e.data.task)).toEqual([
      'three',
      'four',
    ]);
    const replay = await cli(['--store', store, 'replay', view.runId]);
    expect(replay.code).toBe(0);

    // A COMPLETED run is refused: exit 2, the code in --json, nothing started.
    const refused = await cli(['--store', store, 'retry', view.runId, '--json']);
    expect(refused.code).toBe(2);
    expect(JSON.parse(refused.stdout).error).toMatchObject({ code: 'LF_RETRY_REFUSED', meta: { status: 'COMPLETED' } });
    expect(refused.stderr).toMatch(/it is COMPLETED and only a FAILED or CANCELLED run can be retried/);
    expect(JSON.parse((await cli(['--store', store, 'list', '--json'])).stdout)).toHaveLength(2);
  }, 60_000);
});
