import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileEventStore } from '../../src/store/index.js';
import { cli, ROOT, spawnCli, tempDir } from '../helpers/cli.js';
import { expectEveryRunReplays } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

const FIXTURES = join(ROOT, 'test', 'fixtures');
const tampered: string[] = [];

/** Overwrites the state hash recorded by event `seq` of a run's log file, whichever commit (line) holds it. */
async function tamperHash(file: string, seq: number): Promise<void> {
  const fs = await import('node:fs');
  const lines = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => {
      if (!line) return line;
      const commit = JSON.parse(line) as { events: { seq: number; state: { hash: string } }[] };
      const ev = commit.events.find((e) => e.seq === seq);
      if (!ev) return line;
      ev.state.hash = '0000000000000000';
      return JSON.stringify(commit);
    });
  fs.writeFileSync(file, lines.join('\n'));
}

afterAll(async () => {
  // Replay equals the live state for every run these tests made (but the one whose log was tampered with on purpose):
  // among them each run killed with SIGKILL and resumed (`ledgerflow replay` of one is in the tests below).
  expect(await expectEveryRunReplays(tampered)).toBeGreaterThanOrEqual(4);
});

function markers(file: string): string[][] {
  return existsSync(file)
    ? readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(' '))
    : [];
}

/**
 * Starts `ledgerflow run` and SIGKILLs it as soon as `when` holds for the
 * run's events and the handlers' markers. Events become visible to a reader
 * before the writer's fsync returns, so a kill timed on events alone can land
 * before the handler that follows them has begun.
 */
async function runAndKill(
  store: string,
  file: string,
  env: Record<string, string>,
  when: (types: string[], marks: string[][]) => boolean,
  args: string[] = [],
): Promise<string> {
  const child = spawnCli(['--store', store, 'run', file, ...args], { env });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const fs = new FileEventStore(store);
  const runId = await waitFor('the run to be started', async () => (await fs.listRuns())[0]?.runId, {
    timeout: 15_000,
    detail: () => output,
  });
  let seen: string[] = [];
  await waitFor(
    'the point at which the run is to be killed',
    async () => {
      seen = (await fs.read(runId)).map((e) => `${e.type}:${'task' in e.data ? e.data.task : ''}`);
      return when(seen, markers(env.LF_MARKERS!));
    },
    { timeout: 15_000, detail: () => `events: ${seen.join(', ')}\n${output}` },
  );
  child.kill('SIGKILL');
  await new Promise((r) => child.on('close', r));
  return runId;
}

// The two describes run side by side, each test of one after another (their stores are their own): much of the
// first's time is a handler's sleep or a backoff passing, while the second's is processes doing work.
describe.concurrent('a run killed with SIGKILL loses nothing and resumes', () => {
  it.sequential('killed in the middle of a task: resume re-runs that attempt with the same key; the completed task never runs again', async () => {
    const store = tempDir();
    const log = join(store, 'markers');
    const env = { LF_MARKERS: log };
    // Killed once the slow handler is running, i.e. in the middle of its attempt.
    const runId = await runAndKill(
      store,
      join(FIXTURES, 'slow.yaml'),
      env,
      (t, m) => t.includes('task.started:slow') && m.some((x) => x[0] === 'slow' && x[3] === 'start'),
    );

    const r = await cli(['--store', store, 'resume', runId, '--json'], { env });
    expect(r.code).toBe(0);
    const view = JSON.parse(r.stdout);
    expect(view.status).toBe('COMPLETED');
    const m = markers(log);
    expect(m.filter((x) => x[0] === 'first' && x[3] === 'start')).toHaveLength(1);
    const slowStarts = m.filter((x) => x[0] === 'slow' && x[3] === 'start');
    expect(slowStarts).toHaveLength(2);
    expect(slowStarts[0]![2]).toBe(`${runId}/slow/1`);
    expect(slowStarts[1]![2]).toBe(`${runId}/slow/1`);
    expect(slowStarts[0]![4]).not.toBe(slowStarts[1]![4]);
    expect(view.tasks.slow.attempts).toBe(1);

    const replay = await cli(['--store', store, 'replay', runId]);
    expect(replay.code).toBe(0);
    expect(replay.stdout).toMatch(/every event leads to the state it recorded/);
  }, 60_000);

  it.sequential('killed in the middle of a MAP: resume re-runs the item in flight with the same key; completed items never run again', async () => {
    const store = tempDir();
    const log = join(store, 'markers');
    const env = { LF_MARKERS: log };
    // Killed once items 0 and 2 have completed (2 takes the slot 0 frees) and the slow item 1 is running;
    // item 3 may be in flight then too (it runs again, as any attempt in flight does).
    const runId = await runAndKill(
      store,
      join(FIXTURES, 'map-slow.yaml'),
      env,
      (t, m) =>
        t.filter((x) => x === 'task.completed:fan').length >= 2 &&
        m.some((x) => x[2]?.endsWith('/fan[1]/1') && x[3] === 'start'),
    );

    const r = await cli(['--store', store, 'resume', runId, '--json'], { env });
    expect(r.code).toBe(0);
    const view = JSON.parse(r.stdout);
    expect(view.status).toBe('COMPLETED');
    expect(view.tasks.fan.output).toEqual({ results: [10, 3000, 10, 10].map((slept) => ({ slept })) });
    const starts = (item: number) => markers(log).filter((x) => x[2] === `${runId}/fan[${item}]/1` && x[3] === 'start');
    expect(starts(0)).toHaveLength(1);
    expect(starts(1)).toHaveLength(2);
    expect(starts(1)[0]![4]).not.toBe(starts(1)[1]![4]);
    expect(starts(2)).toHaveLength(1);
    expect(starts(3).length).toBeGreaterThanOrEqual(1);
    // Its replay: afterAll's, with every run of this file.
  }, 60_000);

  it.sequential('one driver per run: a second resume exits 2 naming the holder; after a kill -9 of the holder a new resume takes over at once', async () => {
    const store = tempDir();
    const log = join(store, 'markers');
    const env = { LF_MARKERS: log };
    const slowStarts = () => markers(log).filter((x) => x[0] === 'slow' && x[3] === 'start');
    const runId = await runAndKill(
      store,
      join(FIXTURES, 'slow.yaml'),
      env,
      (t, m) => t.includes('task.started:slow') && m.some((x) => x[0] === 'slow' && x[3] === 'start'),
      ['--ms', '8000'],
    );

    const holder = spawnCli(['--store', store, 'resume', runId], { env });
    let holderOut = '';
    holder.stdout!.on('data', (d) => (holderOut += d));
    holder.stderr!.on('data', (d) => (holderOut += d));
    const holderExit = new Promise((r) => holder.on('close', r));
    await waitFor(
      'the first resume to run the slow handler',
      () => slowStarts().some((x) => x[4] === String(holder.pid)),
      { timeout: 20_000, detail: () => holderOut },
    );

    const second = await cli(['--store', store, 'resume', runId], { env });
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(
      new RegExp(
        `run ${runId} is being driven by another process \\(pid ${holder.pid} on host \\S+ since \\d{4}-\\d\\d-\\d\\dT`,
      ),
    );
    // Refused before it says anything: no "resuming run … at event N" from a resume that resumes nothing.
    expect(second.stdout).not.toMatch(/resuming run/);
    expect(slowStarts()).toHaveLength(2); // the killed run's and the holder's: the second resume ran nothing

    holder.kill('SIGKILL');
    await holderExit;
    const took = await cli(['--store', store, 'resume', runId, '--json'], { env });
    expect(took.code).toBe(0);
    expect(JSON.parse(took.stdout).status).toBe('COMPLETED');
    const starts = slowStarts();
    expect(starts).toHaveLength(3);
    expect(starts.map((x) => x[2])).toEqual([`${runId}/slow/1`, `${runId}/slow/1`, `${runId}/slow/1`]);
    expect(new Set(starts.map((x) => x[4])).size).toBe(3);
  }, 90_000);

  it.sequential('killed during a backoff: resume waits only the remaining delay', async () => {
    const store = tempDir();
    const log = join(store, 'markers');
    const env = { LF_MARKERS: log };
    const runId = await runAndKill(store, join(FIXTURES, 'backoff.yaml'), env, (t) => t.includes('task.failed:flaky'));
    const fs = new FileEventStore(store);
    const failedAt = Date.parse((await fs.read(runId)).find((e) => e.type === 'task.failed')!.time);
    // Here the passing of time is the subject (a real process, a real backoff): resume once 7 of the
    // 10 s the log says to wait have passed since the recorded failure, however long the kill took.
    await waitFor('most of the backoff to pass', () => Date.now() >= failedAt + 7000, { timeout: 20_000 });

    const resumedAt = Date.now();
    const r = await cli(['--store', store, 'resume', runId, '--json'], { env });
    expect(r.code).toBe(0);
    const events = await fs.read(runId);
    const fired = events.find((e) => e.type === 'timer.fired')!;
    // The retry happens 10 s after the failure, not 10 s after the resume: a resume that waited the whole
    // delay again would fire at least 10 s after it started; the margin (about 7 s) is the process's start-up.
    expect(Date.parse(fired.time) - failedAt).toBeGreaterThanOrEqual(10_000);
    expect(Date.parse(fired.time) - resumedAt).toBeLessThan(9_900);
    expect(JSON.parse(r.stdout).tasks.flaky).toMatchObject({ status: 'COMPLETED', attempts: 2 });
    expect(markers(log).filter((x) => x[0] === 'first')).toHaveLength(2); // start + end, once
  }, 60_000);
});

describe.concurrent('approve, reject, cancel and the audit trail from the CLI', () => {
  it.sequential('waits (exit 3), refuses a stranger, takes an approver, and the history shows every step', async () => {
    const store = tempDir();
    const run = await cli(['--store', store, 'run', join(FIXTURES, 'approval.yaml'), '--json']);
    expect(run.code).toBe(3);
    const { runId } = JSON.parse(run.stdout);

    const stranger = await cli(['--store', store, 'approve', runId, 'sign_off', '--as', 'mallory']);
    expect(stranger.code).toBe(2);
    expect(stranger.stderr).toMatch(/mallory may not decide task sign_off; its approvers are alice, bob/);

    expect((await cli(['--store', store, 'approve', runId, 'sign_off', '--as', 'alice'])).code).toBe(0);
    const twice = await cli(['--store', store, 'reject', runId, 'sign_off', '--as', 'bob']);
    expect(twice.code).toBe(2);
    // approve moved the run on at once (nothing else held it): it has settled, so the late rejection writes nothing.
    expect(twice.stderr).toMatch(
      /cannot record rejection of sign_off: the run is already settled; nothing was recorded/,
    );

    expect((await cli(['--store', store, 'resume', runId])).code).toBe(0);
    const history = JSON.parse((await cli(['--store', store, 'history', runId, '--json'])).stdout);
    // The stranger's refusal is in the audit trail too.
    expect(history.map((e: { type: string }) => e.type)).toEqual([
      'run.started',
      'task.started',
      'task.completed',
      'approval.refused',
      'approval.recorded',
      'task.started',
      'task.completed',
    ]);
    expect(history[3]).toMatchObject({
      seq: 4,
      data: {
        task: 'sign_off',
        decision: 'approved',
        by: 'mallory',
        reason: expect.stringMatching(/mallory may not decide/),
      },
    });
    expect(history[4]).toMatchObject({ seq: 5, data: { task: 'sign_off', decision: 'approved', by: 'alice' } });

    const list = JSON.parse((await cli(['--store', store, 'list', '--json'])).stdout);
    expect(list).toEqual([expect.objectContaining({ runId, workflowId: 'approval', version: 1, status: 'COMPLETED' })]);
    expect(list[0].completedAt).toEqual(expect.any(String));
    const yaml = await cli(['--store', store, 'status', runId, '--yaml']);
    expect(yaml.stdout).toMatch(new RegExp(`^${runId}:\\n  id: ${runId}\\n  definition_id: approval`));
  }, 60_000);

  it.sequential('a rejection fails the run (exit 1 on resume) and cancel of a settled run changes nothing', async () => {
    const store = tempDir();
    const { runId } = JSON.parse(
      (await cli(['--store', store, 'run', join(FIXTURES, 'approval.yaml'), '--json'])).stdout,
    );
    expect(
      (await cli(['--store', store, 'reject', runId, 'sign_off', '--as', 'bob', '--comment', 'too risky'])).code,
    ).toBe(0);
    const r = await cli(['--store', store, 'resume', runId, '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'REJECTED', message: 'rejected by bob: too risky' });
    const c = await cli(['--store', store, 'cancel', runId]);
    expect(c.code).toBe(0);
    expect(c.stdout).toMatch(/already FAILED; nothing to cancel/);
    const failed = JSON.parse((await cli(['--store', store, 'list', '--status', 'failed', '--json'])).stdout);
    expect(failed.map((x: { runId: string }) => x.runId)).toEqual([runId]);
  }, 60_000);

  it.sequential('a torn last line is kept in a .torn file beside the log when the next append cuts it, said once by the process that cut it, and replay says so', async () => {
    const store = tempDir();
    const fs = await import('node:fs');
    const { runId } = JSON.parse(
      (await cli(['--store', store, 'run', join(FIXTURES, 'approval.yaml'), '--json'])).stdout,
    );
    const log = join(store, 'runs', `${runId}.jsonl`);
    const torn = '{"dedupId":"lost-commit","events":[{"runId":"' + runId + '","seq":';
    fs.appendFileSync(log, torn);
    const approve = await cli(['--store', store, 'approve', runId, 'sign_off', '--as', 'alice']);
    expect(approve.code).toBe(0);
    const kept = `${log}.torn`;
    expect(approve.stderr).toContain(
      `warning: run ${runId}: a torn last line (a write cut short by a crash) of ${torn.length} bytes was cut from ${log}; ${torn.length + 1} bytes of torn lines are kept in ${kept}`,
    );
    expect(fs.readFileSync(kept, 'utf8')).toBe(`${torn}\n`);

    const resumed = await cli(['--store', store, 'resume', runId, '--json']);
    expect(resumed.code).toBe(0);
    // Said once, by the process that cut it (approve): not again by every command that reads the log after it.
    expect(resumed.stderr).not.toContain('torn last line');
    expect((await cli(['--store', store, 'status', runId])).stderr).not.toContain('torn last line');
    const replay = await cli(['--store', store, 'replay', runId]);
    expect(replay.code).toBe(0);
    expect(replay.stdout).toContain(
      `⚠ a torn last line was cut from the log of run ${runId} (a write cut short by a crash); ${torn.length + 1} bytes of torn lines are kept in ${kept}`,
    );
    expect(JSON.parse((await cli(['--store', store, 'replay', runId, '--json'])).stdout).torn).toEqual({
      runId,
      file: kept,
      bytes: torn.length + 1,
    });
    const all = JSON.parse((await cli(['--store', store, 'replay', '--all', '--json'])).stdout);
    expect(all).toMatchObject({ runs: 1, diverged: 0, torn: [{ runId, file: kept, bytes: torn.length + 1 }] });
  }, 60_000);

  it.sequential('replay --to shows the state at that event; a tampered log diverges with exit 1', async () => {
    const store = tempDir();
    const { runId } = JSON.parse(
      (await cli(['--store', store, 'run', join(FIXTURES, 'slow.yaml'), '--ms', '10', '--json'])).stdout,
    );
    // A run started now records state hash format 2 (docs/architecture-notes.md, "Long runs and the state hash").
    expect(
      JSON.parse(readFileSync(join(store, 'runs', `${runId}.jsonl`), 'utf8').split('\n')[0]!).events[0],
    ).toMatchObject({ type: 'run.started', data: { stateHashVersion: 2 } });
    const at = JSON.parse((await cli(['--store', store, 'replay', runId, '--to', '4', '--json'])).stdout);
    expect(at.toSeq).toBe(4);
    expect(at.view.tasks.first.status).toBe('COMPLETED');
    expect(at.view.tasks.slow.status).toBe('IN_PROGRESS');

    tampered.push(store);
    await tamperHash(join(store, 'runs', `${runId}.jsonl`), 2);
    const r = await cli(['--store', store, 'replay', runId]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/diverges at event 2 \(task\.started\)/);
  }, 60_000);

  it.sequential('list and replay --all report a corrupt run file and go on with the other runs', async () => {
    const store = tempDir();
    const fs = await import('node:fs');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push(
        JSON.parse((await cli(['--store', store, 'run', join(FIXTURES, 'slow.yaml'), '--ms', '1', '--json'])).stdout)
          .runId,
      );
    tampered.push(store);
    const bad = join(store, 'runs', `${ids[1]}.jsonl`);
    fs.appendFileSync(bad, 'not json at all\n');

    const list = await cli(['--store', store, 'list', '--json']);
    expect(list.code).toBe(0);
    const rows = JSON.parse(list.stdout) as { runId: string; status: string; file?: string; reason?: string }[];
    expect(
      rows
        .filter((r) => r.status === 'COMPLETED')
        .map((r) => r.runId)
        .sort(),
    ).toEqual([ids[0], ids[2]].sort());
    expect(rows.filter((r) => r.status === 'CORRUPT')).toEqual([
      { runId: ids[1], status: 'CORRUPT', file: bad, reason: expect.stringMatching(/not JSON/) },
    ]);
    expect(list.stderr).toContain(`warning: run ${ids[1]} is corrupt and was left out: ${bad}`);
    const text = await cli(['--store', store, 'list']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(ids[0]);
    expect(text.stderr).toContain(`run ${ids[1]} is corrupt`);

    const all = await cli(['--store', store, 'replay', '--all', '--json']);
    expect(all.code).toBe(1);
    expect(JSON.parse(all.stdout)).toMatchObject({
      runs: 2,
      diverged: 0,
      corrupt: [{ runId: ids[1], file: bad, reason: expect.stringMatching(/^line \d+: not JSON/) }],
    });
    const plain = await cli(['--store', store, 'replay', '--all']);
    expect(plain.code).toBe(1);
    expect(plain.stdout).toMatch(new RegExp(`^✗ ${ids[1]}: corrupt log, not replayed: `, 'm'));
    expect(plain.stdout).toMatch(/^replayed 2 runs .*✓ every event leads to the state it recorded$/m);
    expect(plain.stdout).toMatch(/^✗ 1 run could not be read \(corrupt log\) and was not replayed$/m);
  }, 60_000);

  it.sequential('replay --all checks every recorded run, and with --definition whether that version could take over each run of its workflow', async () => {
    const store = tempDir();
    const fs = await import('node:fs');
    const v1 = `workflow:\n  id: evolve\n  name: E\n  version: 1\n  handlers: ${join(FIXTURES, 'handlers.mjs')}\n  tasks:\n    - { id: first, type: SIMPLE }\n    - { id: last, type: SIMPLE, depends_on: [first] }\n`;
    fs.writeFileSync(join(store, 'v1.yaml'), v1);
    fs.writeFileSync(join(store, 'other.yaml'), v1.replace('id: evolve', 'id: other'));
    fs.writeFileSync(
      join(store, 'v2.yaml'),
      v1.replace('version: 1', 'version: 2') + '    - { id: extra, type: SIMPLE, depends_on: [last] }\n',
    );
    fs.writeFileSync(
      join(store, 'v3.yaml'),
      v1
        .replace('version: 1', 'version: 3')
        .replace('{ id: first, type: SIMPLE }', '{ id: first, type: SIMPLE, depends_on: [last] }')
        .replace('{ id: last, type: SIMPLE, depends_on: [first] }', '{ id: last, type: SIMPLE }'),
    );
    const ids: string[] = [];
    for (const f of ['v1.yaml', 'v1.yaml', 'other.yaml'])
      ids.push(JSON.parse((await cli(['--store', store, 'run', join(store, f), '--json'])).stdout).runId);

    const all = await cli(['--store', store, 'replay', '--all']);
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/^replayed 3 runs \(15 events\): ✓ every event leads to the state it recorded$/m);
    const evolve = JSON.parse(
      (await cli(['--store', store, 'replay', '--all', '--workflow', 'evolve', '--json'])).stdout,
    );
    expect(evolve).toEqual({
      runs: 2,
      events: 10,
      diverged: 0,
      incompatible: 0,
      workflowId: 'evolve',
      problems: [],
      corrupt: [],
    });

    // A version checks the runs of its own workflow only.
    const v2 = await cli(['--store', store, 'replay', '--all', '--definition', join(store, 'v2.yaml')]);
    expect(v2.code).toBe(0);
    expect(v2.stdout).toMatch(/replayed 2 runs of evolve \(10 events\)/);
    expect(v2.stdout).toMatch(/✓ evolve v2 could take over all 2 of them/);
    const v3 = await cli(['--store', store, 'replay', '--all', '--definition', join(store, 'v3.yaml'), '--json']);
    expect(v3.code).toBe(1);
    const report = JSON.parse(v3.stdout);
    expect(report).toMatchObject({
      runs: 2,
      diverged: 0,
      incompatible: 2,
      candidate: { workflowId: 'evolve', version: 3 },
    });
    expect(report.problems.map((p: { runId: string }) => p.runId).sort()).toEqual(ids.slice(0, 2).sort());

    tampered.push(store);
    await tamperHash(join(store, 'runs', `${ids[1]}.jsonl`), 3);
    const diverged = await cli(['--store', store, 'replay', '--all']);
    expect(diverged.code).toBe(1);
    expect(diverged.stdout).toMatch(
      new RegExp(`^✗ ${ids[1]} \\(evolve v1\\): diverges at event 3 \\(task\\.completed\\)`, 'm'),
    );
    expect(diverged.stdout).toMatch(/replayed 3 runs \(15 events\): ✗ 1 diverge/);

    for (const [args, message] of [
      [['replay'], /replay needs a run id, or --all for every recorded run/],
      [['replay', ids[0]!, '--all'], /replay takes a run id or --all, not both/],
      [['replay', '--all', '--to', '3'], /--to goes with one run id, not with --all/],
      [['replay', ids[0]!, '--workflow', 'evolve'], /--workflow goes with --all/],
      [
        ['replay', '--all', '--workflow', 'other', '--definition', join(store, 'v2.yaml')],
        /is workflow evolve, not --workflow other/,
      ],
    ] as const) {
      const r = await cli(['--store', store, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  }, 60_000);
});
