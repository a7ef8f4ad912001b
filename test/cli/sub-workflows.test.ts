import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, expectEveryRunReplays, tempDir } from '../helpers/cli.js';

/** A folder of definitions: a parent calling a child beside it, a handler module, a failure workflow, an EMIT. */
function folder(): { dir: string; store: string } {
  const dir = tempDir('lf-sub-');
  const defs = join(dir, 'definitions');
  mkdirSync(defs);
  writeFileSync(
    join(defs, 'handlers.mjs'),
    `export default {
  double: (i) => ({ total: Number(i.n) * 2 }),
  check: (i) => { if (Number(i.total) > 100) { const e = new Error('too big: ' + i.total); e.retryable = false; throw e; } return { ok: true }; },
  record: (i) => ({ recorded: i.failedRunId + ' ' + i.failedTask + ' ' + i.error.message + ' ' + i.team }),
};\n`,
  );
  writeFileSync(
    join(defs, 'parent.yaml'),
    `workflow:
  id: parent
  name: Parent
  version: 1
  handlers: ./handlers.mjs
  input: { required: [n] }
  output: { total: "\${call.output.total}" }
  failure_workflow:
    id: on_failure
    input: { team: ops }
  tasks:
    - id: call
      type: SUB_WORKFLOW
      workflow: child
      input: { n: "\${workflow.input.n}" }
    - id: check
      type: SIMPLE
      depends_on: [call]
      input: { total: "\${call.output.total}" }
`,
  );
  writeFileSync(
    join(defs, 'child.yaml'),
    `workflow:
  id: child
  name: Child
  version: 1
  handlers: ./handlers.mjs
  input: { required: [n] }
  output: { total: "\${double.output.total}" }
  tasks:
    - id: double
      type: SIMPLE
      input: { n: "\${workflow.input.n}" }
`,
  );
  writeFileSync(
    join(defs, 'on_failure.yaml'),
    `workflow:
  id: on_failure
  name: On failure
  version: 1
  handlers: ./handlers.mjs
  input: { required: [failedRunId, failedTask, error, team] }
  output: { recorded: "\${record.output.recorded}" }
  tasks:
    - id: record
      type: SIMPLE
      input: { failedRunId: "\${workflow.input.failedRunId}", failedTask: "\${workflow.input.failedTask}", error: "\${workflow.input.error}", team: "\${workflow.input.team}" }
`,
  );
  return { dir, store: join(dir, 'store') };
}

describe('ledgerflow run: SUB_WORKFLOW, failure_workflow beside the parent file', () => {
  it('runs the child found beside the parent, and status, history and list show the link both ways', async () => {
    const { dir, store } = folder();
    const r = await cli(['--store', store, 'run', join(dir, 'definitions/parent.yaml'), '--n', '21', '--json'], {
      cwd: dir,
    });
    expect(r.code, r.stderr).toBe(0);
    const view = JSON.parse(r.stdout);
    expect(view).toMatchObject({ status: 'COMPLETED', output: { total: 42 } });
    const childId = `${view.runId}-call-1`;
    expect(view.tasks.call.child).toBe(childId);

    const parentStatus = (await cli(['--store', store, 'status', view.runId])).stdout;
    expect(parentStatus).toContain(`child run ${childId}`);
    const childStatus = await cli(['--store', store, 'status', childId, '--json']);
    expect(JSON.parse(childStatus.stdout).parent).toEqual({
      runId: view.runId,
      workflowId: 'parent',
      task: 'call',
      attempt: 1,
      depth: 1,
    });
    expect((await cli(['--store', store, 'status', childId])).stdout).toContain(
      `child of run ${view.runId} (parent, task call attempt 1)`,
    );
    expect((await cli(['--store', store, 'history', view.runId])).stdout).toContain(`→ child run ${childId}`);
    expect((await cli(['--store', store, 'history', childId])).stdout).toContain(
      `(child of run ${view.runId}, task call attempt 1)`,
    );
    const list = JSON.parse((await cli(['--store', store, 'list', '--json'])).stdout);
    expect(list.find((x: { runId: string }) => x.runId === childId).parent).toEqual({
      runId: view.runId,
      task: 'call',
    });
    expect((await cli(['--store', store, 'list'])).stdout).toContain(`(child of ${view.runId} task call)`);
  });

  it('a run that fails starts its failure workflow once, with failedRunId, failedTask, error and the input templates', async () => {
    const { dir, store } = folder();
    const r = await cli(['--store', store, 'run', join(dir, 'definitions/parent.yaml'), '--n', '60', '--json'], {
      cwd: dir,
    });
    expect(r.code, r.stderr).toBe(1);
    const view = JSON.parse(r.stdout);
    expect(view.status).toBe('FAILED');
    const failureId = `${view.runId}-failure`;
    const failure = JSON.parse((await cli(['--store', store, 'status', failureId, '--json'])).stdout);
    expect(failure).toMatchObject({
      status: 'COMPLETED',
      workflowId: 'on_failure',
      output: { recorded: `${view.runId} check too big: 120 ops` },
      parent: { runId: view.runId, workflowId: 'parent', relation: 'failure' },
    });
    expect((await cli(['--store', store, 'status', view.runId])).stdout).toContain(`failure workflow run ${failureId}`);
    const runs = JSON.parse((await cli(['--store', store, 'list', '--json', '--workflow', 'on_failure'])).stdout);
    expect(runs).toHaveLength(1);
    expect(await expectEveryRunReplays()).toBeGreaterThan(0);
  });
});

describe('ledgerflow resume of a failed run whose failure workflow never started', () => {
  it('starts it once (by its run id <runId>-failure); a second resume has nothing to do', async () => {
    const { dir, store } = folder();
    // The state a crash between the failure and the failure workflow's start leaves: a FAILED run and no
    // <runId>-failure (here its definition was not there yet when the run failed, so it could not start).
    const onFailure = join(dir, 'definitions/on_failure.yaml');
    const text = readFileSync(onFailure, 'utf8');
    unlinkSync(onFailure);
    const r = await cli(['--store', store, 'run', join(dir, 'definitions/parent.yaml'), '--n', '60', '--json'], {
      cwd: dir,
    });
    expect(r.code, r.stderr).toBe(1);
    const { runId } = JSON.parse(r.stdout);
    const failureId = `${runId}-failure`;
    expect((await cli(['--store', store, 'status', failureId])).code).not.toBe(0);
    writeFileSync(onFailure, text);

    const resumed = await cli(['--store', store, 'resume', runId, '--json'], { cwd: dir });
    expect(resumed.code, resumed.stderr).toBe(1); // the run itself is still FAILED
    expect(resumed.stderr).toContain(
      `run ${runId} is FAILED but its failure workflow on_failure never started: starting it (run ${failureId})`,
    );
    expect(JSON.parse(resumed.stdout).status).toBe('FAILED');
    expect(JSON.parse((await cli(['--store', store, 'status', runId, '--json'])).stdout).failureRun).toBe(failureId);
    const failure = JSON.parse((await cli(['--store', store, 'status', failureId, '--json'])).stdout);
    expect(failure).toMatchObject({
      status: 'COMPLETED',
      output: { recorded: `${runId} check too big: 120 ops` },
      parent: { runId, relation: 'failure' },
    });

    const again = await cli(['--store', store, 'resume', runId]);
    expect(again.code).toBe(1);
    expect(again.stdout).toContain(`run ${runId} is already FAILED; nothing to resume`);
    const runs = JSON.parse((await cli(['--store', store, 'list', '--json', '--workflow', 'on_failure'])).stdout);
    expect(runs).toHaveLength(1);
    expect(
      JSON.parse((await cli(['--store', store, 'history', failureId, '--json'])).stdout).filter(
        (e: { type: string }) => e.type === 'run.started',
      ),
    ).toHaveLength(1);
    expect(await expectEveryRunReplays()).toBeGreaterThan(0);
  });
});

describe('validation of sub-workflows against the folder', () => {
  it("warns at file:line:col when `workflow:` names no definition beside it, and refuses a cycle among the folder's definitions", async () => {
    const { loadDefinitionFile } = await import('../../src/files/index.js');
    const { DefinitionError } = await import('../../src/errors/index.js');
    const dir = tempDir('lf-subval-');
    const file = join(dir, 'a.yaml');
    writeFileSync(
      file,
      'workflow:\n  id: a\n  name: A\n  version: 1\n  tasks:\n    - id: call\n      type: SUB_WORKFLOW\n      workflow: nowhere\n',
    );
    const loaded = loadDefinitionFile(file);
    expect(loaded.warnings).toEqual([
      expect.objectContaining({ code: 'LF_SUBWORKFLOW_NOT_FOUND', line: 8, col: 17, file }),
    ]);
    expect(loaded.warnings[0]!.message).toContain('task call names workflow "nowhere"');

    // a → b → a: an error in both files, at the `workflow:` value.
    writeFileSync(
      file,
      'workflow:\n  id: a\n  name: A\n  version: 1\n  tasks:\n    - id: call\n      type: SUB_WORKFLOW\n      workflow: b\n',
    );
    writeFileSync(
      join(dir, 'b.yaml'),
      'workflow:\n  id: b\n  name: B\n  version: 1\n  tasks:\n    - { id: back, type: SUB_WORKFLOW, workflow: a }\n',
    );
    let err: unknown;
    try {
      loadDefinitionFile(file);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DefinitionError);
    expect((err as InstanceType<typeof DefinitionError>).diagnostics).toEqual([
      expect.objectContaining({
        code: 'LF_SUBWORKFLOW_CYCLE',
        line: 8,
        col: 17,
        message: expect.stringContaining('a → b → a'),
      }),
    ]);
    const r = await cli(['validate', join(dir, 'b.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${join(dir, 'b.yaml')}:6:`);
    expect(r.stderr).toContain('b → a → b');
  });
});
