import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, expectEveryRunReplays, tempDir } from '../helpers/cli.js';

/** An emitter and a listener beside it, and a workflow that emits an event nothing listens to. */
function folder(): { dir: string; store: string } {
  const dir = tempDir('lf-emit-task-');
  const defs = join(dir, 'definitions');
  mkdirSync(defs);
  writeFileSync(join(defs, 'handlers.mjs'), `export default { greet: (i) => ({ text: 'hello ' + i.who }) };\n`);
  writeFileSync(
    join(defs, 'emitter.yaml'),
    `workflow:
  id: emitter
  name: Emitter
  version: 1
  input: { required: [who] }
  tasks:
    - id: announce
      type: EMIT
      event: person.arrived
      data: { who: "\${workflow.input.who}" }
    - id: shout
      type: EMIT
      depends_on: [announce]
      event: nobody.listens
      data: { x: 1 }
`,
  );
  writeFileSync(
    join(defs, 'listener.yaml'),
    `workflow:
  id: listener
  name: Listener
  version: 1
  handlers: ./handlers.mjs
  input: { required: [who] }
  output: { text: "\${greet.output.text}" }
  triggers:
    - event: person.arrived
      input: { who: "\${event.data.who}" }
  tasks:
    - id: greet
      type: SIMPLE
      input: { who: "\${workflow.input.who}" }
`,
  );
  return { dir, store: join(dir, 'store') };
}

describe('EMIT on the embedded store', () => {
  it('starts the runs its event triggers (as `ledgerflow emit` would) under the event id <runId>/<task>/<attempt>; an event nothing triggers on completes with runs: [] and a note', async () => {
    const { dir, store } = folder();
    const r = await cli(['--store', store, 'run', join(dir, 'definitions/emitter.yaml'), '--who', 'Ada', '--json'], {
      cwd: dir,
    });
    expect(r.code, r.stderr).toBe(0);
    const view = JSON.parse(r.stdout);
    expect(view.status).toBe('COMPLETED');
    const out = view.tasks.announce.output;
    expect(out).toMatchObject({ event: 'person.arrived', eventId: `${view.runId}/announce/1` });
    expect(out.runs).toEqual([
      {
        runId: expect.stringMatching(/^ev-/),
        workflowId: 'listener',
        version: 1,
        status: 'COMPLETED',
        duplicate: false,
      },
    ]);
    const started = JSON.parse((await cli(['--store', store, 'status', out.runs[0].runId, '--json'])).stdout);
    expect(started).toMatchObject({ workflowId: 'listener', status: 'COMPLETED', output: { text: 'hello Ada' } });
    expect(view.tasks.shout.output).toEqual({
      event: 'nobody.listens',
      eventId: `${view.runId}/shout/1`,
      runs: [],
      note: 'no workflow triggers on nobody.listens: no run started',
    });
    const history = (await cli(['--store', store, 'history', view.runId])).stdout;
    expect(history).toContain('no workflow triggers on nobody.listens: no run started');
    expect(history).toContain(`started ${out.runs[0].runId}`);
    // No dead letter for an event nothing listens to: it was emitted, and said so.
    const runs = JSON.parse((await cli(['--store', store, 'list', '--json'])).stdout);
    expect(runs).toHaveLength(2);
    expect(await expectEveryRunReplays()).toBeGreaterThan(0);
  });
});

describe('EMIT beside a broken definition', () => {
  it('the listener still starts; the broken file and a repeated workflow id are named (file:line:col) in the output, the progress and history', async () => {
    const { dir, store } = folder();
    writeFileSync(
      join(dir, 'definitions/broken.yaml'),
      'workflow:\n  id: broken\n  tasks:\n    - id: a\n      type: NOPE\n',
    );
    writeFileSync(
      join(dir, 'definitions/emitter-copy.yaml'),
      'workflow:\n  id: emitter\n  tasks:\n    - { id: a, type: SET, values: { x: 1 } }\n',
    );
    const r = await cli(['--store', store, 'run', join(dir, 'definitions/emitter.yaml'), '--who', 'Ada', '--json'], {
      cwd: dir,
    });
    expect(r.code, r.stderr).toBe(0);
    const view = JSON.parse(r.stdout);
    const out = view.tasks.announce.output;
    expect(out.runs).toEqual([expect.objectContaining({ workflowId: 'listener', status: 'COMPLETED' })]);
    const brokenAt = `${join(dir, 'definitions/broken.yaml')}:5:13: error: workflow.tasks[0].type: expected one of`;
    expect(out.skipped).toEqual([
      expect.stringContaining(brokenAt),
      expect.stringContaining(
        `${join(dir, 'definitions/emitter-copy.yaml')}:2:7: warning: workflow emitter v1 is also defined by`,
      ),
      expect.stringContaining(
        `${join(dir, 'definitions/emitter.yaml')}:2:7: warning: workflow emitter v1 is also defined by`,
      ),
    ]);
    // Said under each EMIT's completion (two here), once each.
    expect(r.stderr.split(`skipped ${brokenAt}`).length - 1).toBe(2);
    const history = (await cli(['--store', store, 'history', view.runId])).stdout;
    expect(history).toContain(`skipped ${brokenAt}`);
  }, 60_000);
});

describe('EMIT re-run', () => {
  it('emitting the same attempt again starts nothing twice (the runs come back as duplicates)', async () => {
    const { taskEmitter, fileDeadLetters } = await import('../../src/triggers/index.js');
    const { MemoryEventStore } = await import('../../src/store/index.js');
    const { dir } = folder();
    const store = new MemoryEventStore();
    const emit = taskEmitter({ store, deadLetters: fileDeadLetters(join(dir, 'dl')) });
    const effect = {
      type: 'event.emit',
      runId: 'r1',
      taskId: 'announce',
      instance: 'announce',
      attempt: 1,
      restart: 0,
      event: 'person.arrived',
      data: { who: 'Bo' },
      eventId: 'r1/announce/1',
    } as const;
    const ctx = {
      parentFile: join(dir, 'definitions/emitter.yaml'),
      handlers: {},
      depth: 1,
      signal: new AbortController().signal,
    };
    const first = (await emit(effect, ctx)) as { runs: { runId: string; duplicate: boolean; status: string }[] };
    const again = (await emit(effect, ctx)) as typeof first;
    expect(first.runs).toEqual([expect.objectContaining({ duplicate: false, status: 'COMPLETED' })]);
    expect(again.runs).toEqual([expect.objectContaining({ runId: first.runs[0]!.runId, duplicate: true })]);
    expect(await store.listRuns()).toHaveLength(1);
  });
});

/**
 * A parent run with --handlers, and three runs it starts whose definitions
 * name no `handlers:` module: a SUB_WORKFLOW's child, a run its EMIT
 * triggers, its failure workflow. All three get the process's handlers.
 */
function noModules(): { dir: string; store: string } {
  const dir = tempDir('lf-emit-handlers-');
  const defs = join(dir, 'definitions');
  mkdirSync(defs);
  writeFileSync(
    join(dir, 'handlers.mjs'),
    `export default {
  kid: () => ({ kid: true }),
  react: (i) => ({ reacted: i.who }),
  boom: () => { const e = new Error('boom'); e.retryable = false; throw e; },
  tidy: (i) => ({ tidied: i.failedTask }),
};\n`,
  );
  writeFileSync(
    join(defs, 'parent.yaml'),
    `workflow:
  id: parent
  name: Parent
  version: 1
  failure_workflow: { id: cleanup }
  tasks:
    - id: call
      type: SUB_WORKFLOW
      workflow: child
    - id: announce
      type: EMIT
      depends_on: [call]
      event: person.arrived
      data: { who: Ada }
    - id: boom
      type: SIMPLE
      depends_on: [announce]
`,
  );
  writeFileSync(
    join(defs, 'child.yaml'),
    `workflow:
  id: child
  name: Child
  version: 1
  tasks:
    - { id: kid, type: SIMPLE }
`,
  );
  writeFileSync(
    join(defs, 'listener.yaml'),
    `workflow:
  id: listener
  name: Listener
  version: 1
  input: { required: [who] }
  triggers:
    - event: person.arrived
      input: { who: "\${event.data.who}" }
  tasks:
    - id: react
      type: SIMPLE
      input: { who: "\${workflow.input.who}" }
`,
  );
  writeFileSync(
    join(defs, 'cleanup.yaml'),
    `workflow:
  id: cleanup
  name: Cleanup
  version: 1
  input: { required: [failedRunId, failedTask, error] }
  tasks:
    - id: tidy
      type: SIMPLE
      input: { failedTask: "\${workflow.input.failedTask}" }
`,
  );
  return { dir, store: join(dir, 'store') };
}

describe('runs a CLI process starts get its --handlers', () => {
  it('ledgerflow run --handlers: the SUB_WORKFLOW child, the run its EMIT starts and its failure workflow all run with that module', async () => {
    const { dir, store } = noModules();
    const r = await cli(
      [
        '--store',
        store,
        'run',
        join(dir, 'definitions/parent.yaml'),
        '--handlers',
        join(dir, 'handlers.mjs'),
        '--json',
      ],
      { cwd: dir },
    );
    expect(r.code, r.stderr).toBe(1);
    const view = JSON.parse(r.stdout);
    expect(view.error).toMatchObject({ task: 'boom', message: 'boom' });
    expect(view.tasks.call.output).toEqual({});
    const [emitted] = view.tasks.announce.output.runs;
    expect(emitted).toMatchObject({ workflowId: 'listener', status: 'COMPLETED' });
    const status = async (runId: string) =>
      JSON.parse((await cli(['--store', store, 'status', runId, '--json'])).stdout);
    expect((await status(emitted.runId)).tasks.react).toMatchObject({
      status: 'COMPLETED',
      output: { reacted: 'Ada' },
    });
    expect((await status(`${view.runId}-call-1`)).tasks.kid).toMatchObject({
      status: 'COMPLETED',
      output: { kid: true },
    });
    expect((await status(`${view.runId}-failure`)).tasks.tidy).toMatchObject({
      status: 'COMPLETED',
      output: { tidied: 'boom' },
    });
    expect(await expectEveryRunReplays()).toBeGreaterThan(0);
  }, 60_000);
});
