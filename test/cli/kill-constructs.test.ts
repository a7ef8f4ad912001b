/**
 * a run killed with SIGKILL inside a construct resumes without
 * re-running completed work (mid-loop: loop.test.ts). Here: waiting in a WAIT
 * on a duration, waiting in a WAIT on an event, and a SUB_WORKFLOW whose child
 * is in the middle of a task. A real `ledgerflow run` is killed at a point
 * detected from the log and the handlers' markers, then `ledgerflow resume`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { foldEvents } from '../../src/runtime/index.js';
import { FileEventStore } from '../../src/store/index.js';
import { cli, expectEveryRunReplays, ROOT, spawnCli, tempDir } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

const DIR = join(ROOT, 'test', 'fixtures', 'kill9');

afterAll(async () => {
  expect(await expectEveryRunReplays()).toBeGreaterThanOrEqual(4);
});

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

interface Seen {
  types: string[];
  status: string | undefined;
  marks: string[][];
}

/**
 * Starts `ledgerflow run` and SIGKILLs it as soon as `when` holds for the
 * top-level run's events (`type:task`), its last recorded status and the
 * handlers' markers. Returns the run id.
 */
async function runAndKill(
  store: string,
  file: string,
  env: Record<string, string>,
  when: (seen: Seen, runId: string) => boolean,
  args: string[] = [],
): Promise<string> {
  const child = spawnCli(['--store', store, 'run', file, ...args], { env });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise((r) => child.on('close', r));
  const fs = new FileEventStore(store);
  // The top-level run is the one without a parent (a child run may be listed too).
  const runId = await waitFor(
    'the run to be started',
    async () => {
      for (const r of await fs.listRuns()) {
        const first = (await fs.read(r.runId))[0];
        if (first?.type === 'run.started' && !first.data.source?.parent) return r.runId;
      }
      return undefined;
    },
    { timeout: 15_000, detail: () => output },
  );
  let seen: Seen = { types: [], status: undefined, marks: [] };
  await waitFor(
    'the point at which the run is to be killed',
    async () => {
      const events = await fs.read(runId);
      seen = {
        types: events.map((e) => `${e.type}:${'task' in e.data ? e.data.task : ''}`),
        status: events.at(-1)?.state.status,
        marks: markers(env.LF_MARKERS!),
      };
      return when(seen, runId);
    },
    { timeout: 15_000, detail: () => `events: ${seen.types.join(', ')}\n${output}` },
  );
  child.kill('SIGKILL');
  await exited;
  return runId;
}

const starts = (log: string, task: string) => markers(log).filter((m) => m[0] === task && m[3] === 'start');

describe('a run killed with SIGKILL inside a WAIT or a child run resumes without re-running completed work', () => {
  it('killed while waiting on a duration: resume fires the WAIT at the due time recorded before the kill, not one re-armed from the resume', async () => {
    const store = tempDir();
    const log = join(store, 'markers');
    const env = { LF_MARKERS: log };
    const runId = await runAndKill(
      store,
      join(DIR, 'wait-duration.yaml'),
      env,
      (s) => s.status === 'WAITING' && s.types.includes('task.completed:first'),
    );
    const fs = new FileEventStore(store);
    const before = await fs.read(runId);
    expect(before.map((e) => e.type)).not.toContain('timer.fired');
    const dueAt = foldEvents(before).snapshot.context.timers['pause/wait/1']?.dueAt;
    expect(dueAt).toBe(
      new Date(Date.parse(before.find((e) => e.type === 'task.completed')!.time) + 6000).toISOString(),
    );
    // Here the passing of time is the subject: resume 4 s before the recorded due time (2 s into the 6 s wait,
    // or later if the kill took longer), so a wait re-armed from the resume would fire 6 s after it, 4 s late.
    await waitFor('2 s of the wait to pass', () => Date.now() >= Date.parse(dueAt!) - 4000);

    const resumedAt = Date.now();
    const r = await cli(['--store', store, 'resume', runId, '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    const view = JSON.parse(r.stdout);
    expect(view.status).toBe('COMPLETED');
    expect(view.tasks.pause.output).toEqual({ waitedUntil: dueAt });
    expect(view.tasks.last.output.got).toEqual({ waited: dueAt });
    const fired = (await fs.read(runId)).filter((e) => e.type === 'timer.fired');
    expect(fired).toHaveLength(1);
    expect(Date.parse(fired[0]!.time)).toBeGreaterThanOrEqual(Date.parse(dueAt!));
    // A wait re-armed from the resume could not fire before resumedAt + 6 s; the recorded one is due 4 s after it.
    expect(Date.parse(fired[0]!.time)).toBeLessThan(resumedAt + 6000);
    expect(starts(log, 'first')).toHaveLength(1);
    expect(starts(log, 'last')).toHaveLength(1);
  }, 60_000);

  it("killed while waiting on an event: `signal` then `resume` completes it with the signal's data; the task before the WAIT ran once", async () => {
    const store = tempDir();
    const log = join(store, 'markers');
    const env = { LF_MARKERS: log };
    // The WAIT's 2 min timeout keeps `run` up (waiting for its timer in-process), so the kill lands while it waits.
    const runId = await runAndKill(
      store,
      join(DIR, 'wait-event.yaml'),
      env,
      (s) => s.status === 'WAITING' && s.types.includes('task.completed:first'),
    );

    const sent = await cli(['--store', store, 'signal', runId, 'go_ahead', '--data', '{"ticket": 7}', '--as', 'ops'], {
      env,
    });
    expect(sent.code, sent.stderr).toBe(0);
    const r = await cli(['--store', store, 'resume', runId, '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    const view = JSON.parse(r.stdout);
    expect(view.status).toBe('COMPLETED');
    expect(view.tasks.go_ahead).toMatchObject({ status: 'COMPLETED', output: { ticket: 7 } });
    expect(view.tasks.last.output.got).toEqual({ got: 7 });
    expect(starts(log, 'first')).toHaveLength(1);
    expect(starts(log, 'last')).toHaveLength(1);
    const types = (await new FileEventStore(store).read(runId)).map(
      (e) => `${e.type}${'task' in e.data ? `:${e.data.task}` : ''}`,
    );
    // No timer fired (the WAIT's timeout went with it) and nothing ran twice.
    expect(types).toEqual([
      'run.started',
      'task.started:first',
      'task.completed:first',
      'signal.received',
      'task.started:last',
      'task.completed:last',
    ]);
  }, 60_000);

  it("killed while a SUB_WORKFLOW's child is in the middle of a task: resume finishes the same child (its completed task not re-run) and the parent completes with its output", async () => {
    const store = tempDir();
    const log = join(store, 'markers');
    const env = { LF_MARKERS: log };
    const runId = await runAndKill(
      store,
      join(DIR, 'sub-parent.yaml'),
      env,
      (s, id) =>
        s.types.includes('task.started:call') &&
        s.marks.some((m) => m[0] === 'slow' && m[2] === `${id}-call-1/slow/1` && m[3] === 'start'),
      ['--ms', '3000'],
    );
    const childId = `${runId}-call-1`;
    const fs = new FileEventStore(store);
    expect((await fs.read(childId)).map((e) => e.type)).not.toContain('run.completed');

    const r = await cli(['--store', store, 'resume', runId, '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    const view = JSON.parse(r.stdout);
    expect(view).toMatchObject({ status: 'COMPLETED', output: { slept: 3000 } });
    expect(view.tasks.call).toMatchObject({
      status: 'COMPLETED',
      attempts: 1,
      child: childId,
      output: { slept: 3000 },
    });
    expect(view.tasks.last.output.got).toEqual({ slept: 3000 });

    // One child run, started once; its first task ran once, its slow task again under the same key.
    expect((await fs.listRuns()).map((x) => x.runId).sort()).toEqual([runId, childId].sort());
    const childEvents = await fs.read(childId);
    expect(childEvents.filter((e) => e.type === 'run.started')).toHaveLength(1);
    expect(childEvents.filter((e) => e.type === 'task.started' && e.data.task === 'first')).toHaveLength(1);
    const child = JSON.parse((await cli(['--store', store, 'status', childId, '--json'])).stdout);
    expect(child).toMatchObject({
      status: 'COMPLETED',
      parent: { runId, task: 'call', attempt: 1 },
      tasks: { slow: { attempts: 1 } },
    });
    expect(starts(log, 'first').map((m) => m[2])).toEqual([`${runId}/first/1`, `${childId}/first/1`]);
    const slow = starts(log, 'slow');
    expect(slow.map((m) => m[2])).toEqual([`${childId}/slow/1`, `${childId}/slow/1`]);
    expect(slow[0]![4]).not.toBe(slow[1]![4]);
    expect(starts(log, 'last')).toHaveLength(1);
    for (const id of [runId, childId]) {
      const replay = await cli(['--store', store, 'replay', id]);
      expect(replay.code).toBe(0);
      expect(replay.stdout).toMatch(/every event leads to the state it recorded/);
    }
  }, 90_000);

  it("killed while a failed run's failure workflow runs a task: resume of the failed run names that run; resuming it finishes it without starting another", async () => {
    const store = tempDir();
    const log = join(store, 'markers');
    const env = { LF_MARKERS: log };
    const runId = await runAndKill(
      store,
      join(DIR, 'fails.yaml'),
      env,
      (s, id) => s.status === 'FAILED' && s.marks.some((m) => m[2] === `${id}-failure/slow/1` && m[3] === 'start'),
    );
    const failureId = `${runId}-failure`;

    const r = await cli(['--store', store, 'resume', runId], { env });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`run ${runId} is already FAILED; nothing to resume`);
    expect(r.stdout).toContain(
      `its failure workflow run ${failureId} is RUNNING: continue it with \`ledgerflow resume ${failureId}\``,
    );
    const f = await cli(['--store', store, 'resume', failureId, '--json'], { env });
    expect(f.code, f.stderr).toBe(0);
    expect(JSON.parse(f.stdout)).toMatchObject({ status: 'COMPLETED', output: { slept: 3000 } });
    expect(JSON.parse((await cli(['--store', store, 'status', failureId, '--json'])).stdout).parent).toMatchObject({
      runId,
      relation: 'failure',
    });
    expect((await new FileEventStore(store).listRuns()).map((x) => x.runId).sort()).toEqual([runId, failureId].sort());
    expect(starts(log, 'first').map((m) => m[2])).toEqual([`${failureId}/first/1`]);
    expect(starts(log, 'slow').map((m) => m[2])).toEqual([`${failureId}/slow/1`, `${failureId}/slow/1`]);
    // Settled, it is not named again.
    const again = await cli(['--store', store, 'resume', runId], { env });
    expect(again.stdout).not.toContain('its failure workflow run');
  }, 90_000);
});
