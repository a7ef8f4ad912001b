/**
 * DO_WHILE through the CLI on the file store: a loop run to completion with
 * a handler that counts, status and history naming each iteration's attempt
 * (`probe#2`), a kill -9 in the middle of the loop that resumes without
 * running completed iterations again, and the compiled machine run by XState.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { noNats, useCluster } from '../helpers/cluster.js';
import { createActor } from 'xstate';
import type { MachineEvent } from '../../src/compiler/index.js';
import { buildMachine } from '../../src/compiler/machine.js';
import { parseDefinition } from '../../src/definition/index.js';
import { FileEventStore, openStore } from '../../src/store/index.js';
import { replayRun } from '../../src/runtime/index.js';
import { cli, expectEveryRunReplays, ROOT, spawnCli, tempDir } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

const LOOP = join(ROOT, 'test', 'fixtures', 'loop.yaml');
/** README's loop example: tasks that wait for the loop itself (`depends_on: [wait_ready]`) read its body's last iteration. */
const LOOP_THEN = join(ROOT, 'test', 'fixtures', 'loop-then.yaml');
// The test run's nats-server.
const nats = useCluster({ server: 'shared' });

/** `task attempt key what pid ms` lines the fixture handlers write. */
function markers(file: string): string[][] {
  return existsSync(file)
    ? readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(' '))
    : [];
}

afterAll(async () => {
  expect(await expectEveryRunReplays()).toBeGreaterThanOrEqual(2);
});

describe('DO_WHILE from the CLI', () => {
  it('runs the body once per iteration until the condition is false; status and history name each iteration', async () => {
    const store = tempDir();
    const log = join(store, 'markers');
    const r = await cli(['--store', store, 'run', LOOP, '--ready_at', '3', '--json'], { env: { LF_MARKERS: log } });
    expect(r.code, r.stderr).toBe(0);
    const view = JSON.parse(r.stdout);
    expect(view.status).toBe('COMPLETED');
    const probes = markers(log).filter((m) => m[0] === 'probe' && m[3] === 'start');
    expect(probes.map((m) => m[2])).toEqual([1, 2, 3].map((i) => `${view.runId}/probe#${i}/1`));
    expect(view.tasks.wait_ready).toMatchObject({
      status: 'COMPLETED',
      iteration: 3,
      output: { iteration: 3, iterations: [{ probe: { round: 1 } }, { probe: { round: 2 } }, { probe: { round: 3 } }] },
    });
    expect(view.tasks.probe).toMatchObject({
      status: 'COMPLETED',
      iteration: 3,
      instance: 'probe#3',
      output: { round: 3 },
    });
    expect(view.tasks.last.output).toEqual({ done: true, got: { rounds: 3, ready: 3 } });

    const status = await cli(['--store', store, 'status', view.runId]);
    expect(status.stdout).toMatch(/✓ probe#3\s+COMPLETED\s+attempts 1/);
    const history = await cli(['--store', store, 'history', view.runId]);
    for (const i of [1, 2, 3]) expect(history.stdout).toContain(`probe#${i} attempt 1`);
  }, 60_000);

  it('killed with SIGKILL in the middle of the second iteration: resume runs that attempt again, never the first iteration', async () => {
    const store = tempDir();
    const log = join(store, 'markers');
    const env = { LF_MARKERS: log };
    const child = spawnCli(['--store', store, 'run', LOOP, '--ready_at', '3', '--slow_round', '2', '--ms', '4000'], {
      env,
    });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const fs = new FileEventStore(store);
    const runId = await waitFor('the run to be started', async () => (await fs.listRuns())[0]?.runId, {
      timeout: 15_000,
      detail: () => output,
    });
    await waitFor(
      "the second iteration's probe to be running",
      () => markers(log).some((m) => m[2] === `${runId}/probe#2/1` && m[3] === 'start'),
      { timeout: 15_000, detail: () => output },
    );
    child.kill('SIGKILL');
    await new Promise((r) => child.on('close', r));

    // The attempt in flight (probe#2, attempt 1) runs again under the same key; iteration 1 is not re-run.
    const resumed = await cli(['--store', store, 'resume', runId, '--json'], { env });
    expect(resumed.code, resumed.stderr).toBe(0);
    const view = JSON.parse(resumed.stdout);
    expect(view.status).toBe('COMPLETED');
    const starts = markers(log)
      .filter((m) => m[0] === 'probe' && m[3] === 'start')
      .map((m) => m[2]);
    expect(starts).toEqual([`${runId}/probe#1/1`, `${runId}/probe#2/1`, `${runId}/probe#2/1`, `${runId}/probe#3/1`]);
    expect(markers(log).filter((m) => m[0] === 'first' && m[3] === 'start')).toHaveLength(1);
    const replay = await cli(['--store', store, 'replay', runId]);
    expect(replay.code).toBe(0);
    expect(replay.stdout).toMatch(/every event leads to the state it recorded/);
  }, 120_000);

  it('compile writes a machine XState runs: an actor from the JSON loops and completes', async () => {
    const out = tempDir();
    const r = await cli(['compile', LOOP, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const config = JSON.parse(readFileSync(join(out, 'poll-loop.json'), 'utf8'));
    expect(config.states.running.states.wait_ready.states.looping).toBeDefined();
    expect(Object.keys(config.states.running.states.probe.states)).toEqual(
      expect.arrayContaining(['iteration_done', 'iteration_failed', 'iteration_timed_out', 'iteration_skipped']),
    );
    const def = parseDefinition(readFileSync(LOOP, 'utf8'), LOOP).definition!;
    const actor = createActor(buildMachine(def, config), {
      input: { runId: 'r', workflowId: def.id, version: 1, input: { ready_at: 2, slow_round: 0, ms: 0 }, time: 0 },
    });
    actor.start();
    const send = (e: MachineEvent) => actor.send(e);
    send({ type: 'task.started.first', time: 1, attempt: 1 });
    send({ type: 'task.completed.first', time: 2, attempt: 1, output: {} });
    for (const i of [1, 2]) {
      expect(actor.getSnapshot().value).toEqual({
        running: { first: 'done', wait_ready: 'looping', probe: 'scheduled', last: 'pending' },
      });
      send({ type: 'task.started.probe', time: 3, attempt: 1, iteration: i });
      send({ type: 'task.completed.probe', time: 4, attempt: 1, iteration: i, output: { round: i } });
    }
    expect(actor.getSnapshot().value).toEqual({
      running: { first: 'done', wait_ready: 'done', probe: 'done', last: 'scheduled' },
    });
    send({ type: 'task.started.last', time: 5, attempt: 1 });
    send({ type: 'task.completed.last', time: 6, attempt: 1, output: {} });
    expect(actor.getSnapshot().value).toBe('completed');
    expect(actor.getSnapshot().context.tasks.wait_ready.output).toEqual({
      iteration: 2,
      iterations: [{ probe: { round: 1 } }, { probe: { round: 2 } }],
    });
  }, 60_000);
});

/** What a task after the loop, a DECISION after it and the run's output read of the loop's body: its last iteration. */
function expectLastIteration(view: {
  status: string;
  output: unknown;
  tasks: Record<string, { status: string; output: unknown }>;
}): void {
  expect(view.status).toBe('COMPLETED');
  expect(view.tasks.publish!.output).toEqual({ published: { result: 'job-1 ready in round 3', rounds: 3 } });
  expect(view.tasks.route!.output).toMatchObject({ case: 'ready', next: ['announce'] });
  expect(view.tasks.announce!.output).toEqual({ published: { result: 'job-1 ready in round 3' } });
  expect(view.output).toEqual({ result: 'job-1 ready in round 3', rounds: 3 });
}

describe('a task that depends on a DO_WHILE reads its body tasks', () => {
  it('validate accepts ${check.output…} in a task, a DECISION and the run output after depends_on: [wait_ready]', async () => {
    const r = await cli(['validate', LOOP_THEN]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  }, 30_000);

  it("run on the file store: publish, the decision and the output see the last iteration's check", async () => {
    const store = tempDir();
    const r = await cli(['--store', store, 'run', LOOP_THEN, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expectLastIteration(JSON.parse(r.stdout));
  }, 60_000);

  it.skipIf(noNats)(
    'run with --nats: the same, with the log in JetStream',
    async () => {
      const r = await cli(['--nats', nats.url, 'run', LOOP_THEN, '--json'], { cwd: tempDir() });
      expect(r.code, r.stderr).toBe(0);
      const view = JSON.parse(r.stdout);
      expectLastIteration(view);
      const store = openStore({ nats: nats.url });
      try {
        expect(replayRun(await store.read(view.runId)).divergence).toBeNull();
      } finally {
        await store.close();
      }
    },
    60_000,
  );
});
