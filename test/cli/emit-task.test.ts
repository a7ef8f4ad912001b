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
  writeFileSync(join(defs, 'emitter.yaml'), `workflow:
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
`);
  writeFileSync(join(defs, 'listener.yaml'), `workflow:
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
`);
  return { dir, store: join(dir, 'store') };
}

describe('EMIT on the embedded store', () => {
  it('starts the runs its event triggers (as `ledgerflow emit` would) under the event id <runId>/<task>/<attempt>; an event nothing triggers on completes with runs: [] and a note', async () => {
    const { dir, store } = folder();
    const r = await cli(['--store', store, 'run', join(dir, 'definitions/emitter.yaml'), '--who', 'Ada', '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const view = JSON.parse(r.stdout);
    expect(view.status).toBe('COMPLETED');
    const out = view.tasks.announce.output;
    expect(out).toMatchObject({ event: 'person.arrived', eventId: `${view.runId}/announce/1` });
    expect(out.runs).toEqual([{ runId: expect.stringMatching(/^ev-/), workflowId: 'listener', version: 1, status: 'COMPLETED', duplicate: false }]);
    const started = JSON.parse((await cli(['--store', store, 'status', out.runs[0].runId, '--json'])).stdout);
    expect(started).toMatchObject({ workflowId: 'listener', status: 'COMPLETED', output: { text: 'hello Ada' } });
    expect(view.tasks.shout.output).toEqual({ event: 'nobody.listens', eventId: `${view.runId}/shout/1`, runs: [], note: 'no workflow triggers on nobody.listens: no run started' });
    const history = (await cli(['--store', store, 'history', view.runId])).stdout;
    expect(history).toContain('no workflow triggers on nobody.listens: no run started');
    expect(history).toContain(`started ${out.runs[0].runId}`);
    // No dead letter for an event nothing listens to: it was emitted, and said so.
    const runs = JSON.parse((await cli(['--store', store, 'list', '--json'])).stdout);
    expect(runs).toHaveLength(2);
    expect(await expectEveryRunReplays()).toBeGreaterThan(0);
  });
});

describe('EMIT re-run', () => {
  it('emitting the same attempt again starts nothing twice (the runs come back as duplicates)', async () => {
    const { taskEmitter, fileDeadLetters } = await import('../../src/triggers/index.js');
    const { MemoryEventStore } = await import('../../src/store/index.js');
    const { dir } = folder();
    const store = new MemoryEventStore();
    const emit = taskEmitter({ store, deadLetters: fileDeadLetters(join(dir, 'dl')) });
    const effect = { type: 'event.emit', runId: 'r1', taskId: 'announce', instance: 'announce', attempt: 1, restart: 0, event: 'person.arrived', data: { who: 'Bo' }, eventId: 'r1/announce/1' } as const;
    const ctx = { parentFile: join(dir, 'definitions/emitter.yaml'), handlers: {}, depth: 1, signal: new AbortController().signal };
    const first = await emit(effect, ctx) as { runs: { runId: string; duplicate: boolean; status: string }[] };
    const again = await emit(effect, ctx) as typeof first;
    expect(first.runs).toEqual([expect.objectContaining({ duplicate: false, status: 'COMPLETED' })]);
    expect(again.runs).toEqual([expect.objectContaining({ runId: first.runs[0]!.runId, duplicate: true })]);
    expect(await store.listRuns()).toHaveLength(1);
  });
});
