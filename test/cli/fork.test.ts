/**
 * `ledgerflow fork <runId> --at <taskId|seq>` as docs/runs.md ("Forking a run") tells a user to use it: on the
 * embedded store with the docs' order.yaml (reused tasks not called again, the original untouched byte for byte,
 * replay of the fork verifying, --at seq, --reset, --definition, the refusals writing nothing, L1 with a users file),
 * over NATS (a person's fork judged by the engines), and on a Conductor workflow imported as docs/conductor.md says.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { noNats, useCluster } from '../helpers/cluster.js';
import { cli, expectEveryRunReplays, ROOT, spawnCli, tempDir } from '../helpers/cli.js';
import { killLeftovers } from '../helpers/processes.js';
import { useUsersNats } from '../helpers/authority.js';
import { waitFor } from '../helpers/wait.js';
import { forkHandlers, ORDER_YAML } from '../helpers/fork-docs.js';

afterAll(async () => {
  expect(await expectEveryRunReplays()).toBeGreaterThan(0);
});

const handlers = (dir: string) =>
  forkHandlers(dir, "  print_label: async (input) => (note('print_label'), { tracking: 'T-' + input.orderId }),\n");

function project(): { dir: string; store: string; file: string } {
  const dir = tempDir('lf-fork-');
  writeFileSync(join(dir, 'handlers.mjs'), handlers(dir));
  writeFileSync(join(dir, 'order.yaml'), ORDER_YAML);
  return { dir, store: join(dir, 'store'), file: join(dir, 'order.yaml') };
}
const calls = (dir: string) =>
  existsSync(join(dir, 'calls')) ? readFileSync(join(dir, 'calls'), 'utf8').split('\n').filter(Boolean) : [];
/** Every file of the store that holds run `runId`, with its bytes: the original must stay as it was. */
const runFiles = (store: string, runId: string) =>
  Object.fromEntries(
    readdirSync(join(store, 'runs'))
      .filter((f) => f.startsWith(runId))
      .map((f) => [f, readFileSync(join(store, 'runs', f), 'utf8')]),
  );
type View = { runId: string; status: string; tasks: Record<string, { status: string; output: unknown }> };
type History = Array<{ seq: number; type: string; data: Record<string, any> }>;

describe('ledgerflow fork (embedded store), from docs/runs.md', () => {
  const alice = { LEDGERFLOW_USER: 'alice' };

  it('forks at a task with a changed input: what completed before it is reused, the rest runs; the original untouched', async () => {
    const { dir, store, file } = project();
    const ran = await cli(['--store', store, 'run', file, '--amount', '5', '--json'], { cwd: dir });
    expect(ran.code, ran.stderr).toBe(0);
    const original = JSON.parse(ran.stdout) as View;
    expect(calls(dir)).toEqual(['fetch', 'price', 'ship']);
    const before = runFiles(store, original.runId);

    const forked = await cli(['--store', store, 'fork', original.runId, '--at', 'price', '--amount', '7'], {
      cwd: dir,
      env: alice,
    });
    expect(forked.code, forked.stderr).toBe(0);
    const [, forkId] = /run (\S+) started: fork of run (\S+) at price/.exec(forked.stdout) ?? [];
    expect(forked.stdout).toContain(
      `fork of run ${original.runId} at price\nreused the outputs of fetch (not run again)\n`,
    );
    expect(forked.stdout).toMatch(/COMPLETED/);
    // fetch was reused (its handler not called again); price and ship ran again, price with the new amount.
    expect(calls(dir)).toEqual(['fetch', 'price', 'ship', 'price', 'ship']);
    const view = JSON.parse((await cli(['--store', store, 'status', forkId!, '--json'])).stdout) as View & {
      forkOf: unknown;
      input: unknown;
    };
    expect(view.tasks.price!.output).toEqual({ total: 14 });
    expect(view.tasks.fetch!.output).toEqual({ items: 3 });
    expect(view.forkOf).toEqual({
      runId: original.runId,
      at: { seq: 3, task: 'price' },
      by: 'alice',
      reused: ['fetch'],
    });
    const status = await cli(['--store', store, 'status', forkId!]);
    expect(status.stdout.split('\n')[2]).toBe(
      `fork of run ${original.runId} at task price by alice (reused the outputs of fetch)`,
    );
    // Its own log holds what replay needs: the input it ran with and source.forked; fetch completed without an attempt.
    const history = JSON.parse((await cli(['--store', store, 'history', forkId!, '--json'])).stdout) as History;
    expect(history[0]!.data.input).toEqual({ amount: 7 });
    expect(history[0]!.data.source.forked).toEqual({
      from: original.runId,
      at: { seq: 3, task: 'price' },
      outputs: { fetch: { items: 3 } },
    });
    // The fork's own record, right after run.started (docs/runs.md "How it is recorded").
    expect(history.slice(0, 2).map((e) => [e.seq, e.type])).toEqual([
      [1, 'run.started'],
      [2, 'run.forked'],
    ]);
    expect(history[1]!.data).toEqual({ from: original.runId, at: { seq: 3, task: 'price' }, by: 'alice' });
    const lines = (await cli(['--store', store, 'history', forkId!])).stdout;
    expect(lines).toContain(`from run ${original.runId} after event 3, before task price by alice`);
    expect(history.filter((e) => e.data.task === 'fetch').map((e) => e.data.reused)).toEqual([
      { runId: original.runId },
      { runId: original.runId },
    ]);
    const replay = await cli(['--store', store, 'replay', forkId!]);
    expect([replay.code, replay.stdout.includes('✓ every event leads to the state it recorded')]).toEqual([0, true]);
    // The original, byte for byte.
    expect(runFiles(store, original.runId)).toEqual(before);
  }, 60_000);

  it('--at <seq> forks after that event; --json has one shape; --at 1 reuses nothing', async () => {
    const { dir, store, file } = project();
    const original = JSON.parse(
      (await cli(['--store', store, 'run', file, '--amount', '5', '--json'], { cwd: dir })).stdout,
    ) as View;
    // Event 5 is price's task.completed: fetch and price are reused, ship runs again.
    const at5 = await cli(['--store', store, 'fork', original.runId, '--at', '5', '--json'], { cwd: dir });
    expect(at5.code, at5.stderr).toBe(0);
    const out = JSON.parse(at5.stdout) as { runId: string; from: string; status: string };
    expect(out).toEqual({ runId: expect.any(String), from: original.runId, status: 'COMPLETED' });
    expect(calls(dir)).toEqual(['fetch', 'price', 'ship', 'ship']);
    const at1 = await cli(['--store', store, 'fork', original.runId, '--at', '1', '--amount', '1', '--json'], {
      cwd: dir,
    });
    expect(at1.code, at1.stderr).toBe(0);
    expect(calls(dir).slice(4)).toEqual(['fetch', 'price', 'ship']);
    const view = JSON.parse(
      (await cli(['--store', store, 'status', JSON.parse(at1.stdout).runId, '--json'])).stdout,
    ) as View;
    expect(view.tasks.price!.output).toEqual({ total: 2 });
  }, 60_000);

  it('refuses a point that does not exist, a task never reached and an undeclared input, writing nothing', async () => {
    const { dir, store } = project();
    writeFileSync(
      join(dir, 'review.yaml'),
      ORDER_YAML.replace('id: fork-demo', 'id: fork-review').replace(
        '    - id: ship\n      type: SIMPLE\n      depends_on: [price]\n',
        '    - { id: review, type: HUMAN, depends_on: [price] }\n    - { id: ship, type: SIMPLE, depends_on: [review] }\n',
      ),
    );
    const waiting = await cli(['--store', store, 'run', 'review.yaml', '--amount', '5', '--json'], { cwd: dir });
    expect(waiting.code, waiting.stderr).toBe(3);
    const runId = (JSON.parse(waiting.stdout) as View).runId;
    const runs = () => readdirSync(join(store, 'runs')).sort();
    const before = runs();
    const refusals: Array<[string[], string, RegExp]> = [
      [['--at', '99'], 'LF_FORK_POINT_UNKNOWN', /at event 99: its history has events 1 to \d+/],
      [['--at', 'nope'], 'LF_FORK_POINT_UNKNOWN', /has no task nope; give a task id \(fetch, price, review, ship\)/],
      [['--at', 'ship'], 'LF_FORK_POINT_NOT_REACHED', /at task ship: the run never started it/],
      [
        ['--at', 'price', '--input', '{"colour":"red"}'],
        'LF_INPUT_INVALID',
        /unknown input "colour" for workflow fork-review/,
      ],
    ];
    for (const [args, code, message] of refusals) {
      const r = await cli(['--store', store, 'fork', runId, ...args, '--json'], { cwd: dir });
      expect(r.code, args.join(' ')).toBe(2);
      const { error } = JSON.parse(r.stdout) as { error: { code: string; message: string } };
      expect([error.code, error.message]).toEqual([code, expect.stringMatching(message)]);
    }
    const flag = await cli(['--store', store, 'fork', runId, '--at', 'price', '--colour', 'red'], { cwd: dir });
    expect([flag.code, flag.stderr]).toEqual([2, expect.stringContaining('unknown option --colour')]);
    expect(runs()).toEqual(before);
  }, 60_000);

  it('--reset cancels the original once the fork is recorded; --definition goes on under another file', async () => {
    const { dir, store } = project();
    writeFileSync(
      join(dir, 'review.yaml'),
      ORDER_YAML.replace('id: fork-demo', 'id: fork-review').replace(
        '    - id: ship\n      type: SIMPLE\n      depends_on: [price]\n',
        '    - { id: review, type: HUMAN, depends_on: [price] }\n    - { id: ship, type: SIMPLE, depends_on: [review] }\n',
      ),
    );
    const runId = (
      JSON.parse(
        (await cli(['--store', store, 'run', 'review.yaml', '--amount', '5', '--json'], { cwd: dir })).stdout,
      ) as View
    ).runId;
    const reset = await cli(['--store', store, 'fork', runId, '--at', 'review', '--reset', '--json'], { cwd: dir });
    expect(reset.code, reset.stderr).toBe(3); // the fork waits for review, as the original did
    const out = JSON.parse(reset.stdout) as { runId: string; from: string; status: string; cancelled: boolean };
    expect(out).toMatchObject({ from: runId, status: 'WAITING', cancelled: true });
    expect(calls(dir)).toEqual(['fetch', 'price']); // both reused
    expect((JSON.parse((await cli(['--store', store, 'status', runId, '--json'])).stdout) as View).status).toBe(
      'CANCELLED',
    );

    // Under a version 2 of the workflow without review (the docs' order.yaml under its id), forked after price
    // completed (a task v2 does not have is no point of it): ship runs at once after the reused fetch and price.
    writeFileSync(
      join(dir, 'review-v2.yaml'),
      ORDER_YAML.replace('id: fork-demo', 'id: fork-review').replace('version: 1', 'version: 2'),
    );
    const events = JSON.parse((await cli(['--store', store, 'history', out.runId, '--json'])).stdout) as History;
    const priced = events.find((e) => e.type === 'task.completed' && e.data.task === 'price')!.seq;
    const other = await cli(
      ['--store', store, 'fork', out.runId, '--at', String(priced), '--definition', 'review-v2.yaml', '--json'],
      { cwd: dir },
    );
    expect(other.code, other.stderr).toBe(0);
    expect(calls(dir)).toEqual(['fetch', 'price', 'ship']);
    const history = JSON.parse(
      (await cli(['--store', store, 'history', JSON.parse(other.stdout).runId, '--json'])).stdout,
    ) as History;
    expect([history[0]!.data.definition.version, history[0]!.data.source.file]).toEqual([
      2,
      join(dir, 'review-v2.yaml'),
    ]);
  }, 60_000);

  it('with a users file a fork asks for L1: an L2 is refused and nothing is written', async () => {
    const { dir, store, file } = project();
    const users = join(dir, 'users.yaml');
    for (const [name, level] of [
      ['bob', 'L1'],
      ['ops-east', 'L2'],
    ] as const) {
      const r = await cli(
        [
          'users',
          'add',
          name,
          '--level',
          level,
          ...(level === 'L2' ? ['--domains', 'inventory'] : []),
          '--password-stdin',
        ],
        {
          cwd: dir,
          stdin: `${name}-pw\n`,
          env: { LEDGERFLOW_USERS: users },
        },
      );
      expect(r.code, r.stderr).toBe(0);
    }
    const as = (user: string) => ({
      LEDGERFLOW_USERS: users,
      LEDGERFLOW_USER: user,
      LEDGERFLOW_PASSWORD: `${user}-pw`,
    });
    const ran = await cli(['--store', store, 'run', file, '--amount', '5', '--json'], { cwd: dir, env: as('bob') });
    expect(ran.code, ran.stderr).toBe(0);
    const runId = (JSON.parse(ran.stdout) as View).runId;
    const before = readdirSync(join(store, 'runs')).sort();
    const refused = await cli(['--store', store, 'fork', runId, '--at', 'price'], { cwd: dir, env: as('ops-east') });
    expect([refused.code, refused.stderr]).toEqual([2, expect.stringContaining('ops-east is L2 (Station OPS)')]);
    expect(readdirSync(join(store, 'runs')).sort()).toEqual(before);
    const allowed = await cli(['--store', store, 'fork', runId, '--at', 'price', '--json'], {
      cwd: dir,
      env: as('bob'),
    });
    expect(allowed.code, allowed.stderr).toBe(0);
    const history = JSON.parse(
      (await cli(['--store', store, 'history', JSON.parse(allowed.stdout).runId, '--json'])).stdout,
    ) as History;
    expect(history[0]!.data.source).toMatchObject({ by: 'bob', forked: { from: runId } });
    expect(history[1]).toMatchObject({ seq: 2, type: 'run.forked', data: { from: runId, by: 'bob' } });
  }, 60_000);

  it('a Conductor workflow imported as docs/conductor.md says: run, then forked at its WAIT with another order', async () => {
    const { dir, store } = project();
    const imported = await cli(
      ['import', 'conductor', join(ROOT, 'test/fixtures/conductor/ship_order.json'), '--out', 'definitions'],
      { cwd: dir },
    );
    expect(imported.code, imported.stderr).toBe(0);
    const yaml = join(dir, 'definitions', 'ship_order.yaml');
    const ran = await cli(
      ['--store', store, 'run', yaml, '--handlers', './handlers.mjs', '--orderId', 'A-1', '--json'],
      { cwd: dir },
    );
    expect(ran.code, ran.stderr).toBe(3); // waiting for pickup_ref's signal
    const runId = (JSON.parse(ran.stdout) as View).runId;
    const forked = await cli(['--store', store, 'fork', runId, '--at', 'pickup_ref', '--orderId', 'B-2', '--json'], {
      cwd: dir,
    });
    expect(forked.code, forked.stderr).toBe(3);
    const forkId = (JSON.parse(forked.stdout) as { runId: string }).runId;
    expect(calls(dir)).toEqual(['print_label']); // the label is reused, not printed again
    const signal = await cli(['--store', store, 'signal', forkId, 'pickup_ref', '--data', '{"at":"dock 4"}'], {
      cwd: dir,
    });
    expect(signal.code, signal.stderr).toBe(0);
    const done = await cli(['--store', store, 'resume', forkId, '--json'], { cwd: dir });
    expect(done.code, done.stderr).toBe(0);
    const view = JSON.parse(done.stdout) as View & { input: unknown; output: unknown };
    expect(view.status).toBe('COMPLETED');
    expect(view.tasks.label_ref!.output).toEqual({ tracking: 'T-A-1' });
    const replay = await cli(['--store', store, 'replay', forkId]);
    expect(replay.code, replay.stdout).toBe(0);
  }, 60_000);
});

describe.skipIf(noNats)('ledgerflow fork over NATS, from docs/runs.md', () => {
  const c = useCluster();
  const procs: ChildProcess[] = [];
  afterEach(() => killLeftovers(procs));

  it('the engines record and drive the fork: reused tasks not run again, the original untouched, replay verifies; --reset', async () => {
    const { dir } = project();
    const id = `fork-demo-${Date.now().toString(36)}`;
    writeFileSync(join(dir, 'order.yaml'), ORDER_YAML.replace('id: fork-demo', `id: ${id}`));
    writeFileSync(
      join(dir, 'review.yaml'),
      ORDER_YAML.replace('id: fork-demo', `id: ${id}-review`).replace(
        '    - id: ship\n      type: SIMPLE\n      depends_on: [price]\n',
        '    - { id: review, type: HUMAN, depends_on: [price] }\n    - { id: ship, type: SIMPLE, depends_on: [review] }\n',
      ),
    );
    const lf = (...args: string[]) => cli(['--nats', c.url, ...args], { cwd: dir, env: { LEDGERFLOW_USER: 'alice' } });
    for (const f of ['order.yaml', 'review.yaml']) expect((await lf('deploy', f)).code).toBe(0);
    procs.push(spawnCli(['--nats', c.url, 'engine', '--handlers', join(dir, 'handlers.mjs')], { cwd: dir }));
    const started = await lf('start', id, '--amount', '5', '--json');
    expect(started.code, started.stderr).toBe(0);
    const runId = (JSON.parse(started.stdout) as { runId: string }).runId;
    expect((JSON.parse((await lf('wait', runId, '--timeout', '30s', '--json')).stdout) as View).status).toBe(
      'COMPLETED',
    );
    const before = (await lf('history', runId, '--json')).stdout;

    const forked = await lf('fork', runId, '--at', 'price', '--amount', '7', '--as', 'alice', '--json');
    expect(forked.code, forked.stderr).toBe(0);
    const out = JSON.parse(forked.stdout) as { runId: string; from: string };
    expect(out).toMatchObject({ runId: expect.any(String), from: runId });
    const done = JSON.parse((await lf('wait', out.runId, '--timeout', '30s', '--json')).stdout) as View & {
      forkOf: unknown;
    };
    expect(done.status).toBe('COMPLETED');
    expect(done.tasks.price!.output).toEqual({ total: 14 });
    expect(done.forkOf).toEqual({ runId, at: { seq: 3, task: 'price' }, by: 'alice', reused: ['fetch'] });
    const history = JSON.parse((await lf('history', out.runId, '--json')).stdout) as History;
    expect(history.slice(0, 2).map((e) => [e.seq, e.type])).toEqual([
      [1, 'run.started'],
      [2, 'run.forked'],
    ]);
    expect(history[1]!.data).toEqual({ from: runId, at: { seq: 3, task: 'price' }, by: 'alice' });
    expect(calls(dir)).toEqual(['fetch', 'price', 'ship', 'price', 'ship']);
    const replay = await lf('replay', out.runId);
    expect([replay.code, replay.stdout.includes('✓ every event leads to the state it recorded')]).toEqual([0, true]);
    expect((await lf('history', runId, '--json')).stdout).toBe(before);
    // --reset of a settled original: the fork is made, the original left as it is, and the output says so.
    const settled = await lf('fork', runId, '--at', 'ship', '--reset', '--json');
    expect(settled.code, settled.stderr).toBe(0);
    expect(JSON.parse(settled.stdout)).toMatchObject({ from: runId, cancelled: false });
    expect(settled.stderr).toContain(`run ${runId} not cancelled (--reset): it had settled already`);
    await lf('wait', JSON.parse(settled.stdout).runId, '--timeout', '30s');
    const refused = await lf('fork', runId, '--at', 'nope', '--json');
    expect([refused.code, JSON.parse(refused.stdout).error.code]).toEqual([2, 'LF_FORK_POINT_UNKNOWN']);

    // --reset: a waiting original, cancelled once its fork (waiting for review too) is recorded.
    const waiting = JSON.parse((await lf('start', `${id}-review`, '--amount', '5', '--json')).stdout).runId as string;
    await waitFor(
      `run ${waiting} waiting for review`,
      async () => (JSON.parse((await lf('status', waiting, '--json')).stdout) as View).status === 'WAITING',
      { timeout: 30_000 },
    );
    const reset = await lf('fork', waiting, '--at', 'review', '--reset', '--json');
    expect(reset.code, reset.stderr).toBe(0);
    expect(JSON.parse(reset.stdout)).toMatchObject({ from: waiting, cancelled: true });
    const original = JSON.parse((await lf('wait', waiting, '--timeout', '30s', '--json')).stdout) as View;
    expect(original.status).toBe('CANCELLED');
    const fork = JSON.parse(reset.stdout).runId as string;
    const view = JSON.parse((await lf('wait', fork, '--timeout', '30s', '--or-waiting', '--json')).stdout) as View;
    expect([view.status, view.tasks.review!.status]).toEqual(['WAITING', 'PENDING_APPROVAL']);
    expect(calls(dir).slice(6)).toEqual(['fetch', 'price']);
  }, 120_000);
});

describe.skipIf(noNats)(
  "ledgerflow fork over NATS with a users file (docs/users.md): the engines judge a person's fork",
  () => {
    const nats = useUsersNats();

    it('an L2 is refused by the engine and nothing is written; an L1 forks, recorded as theirs', async () => {
      const { dir } = project();
      await nats.start(dir, [
        ['engine', 'L1'],
        ['bob', 'L1'],
        ['ops-east', 'L2'],
      ]);
      expect((await nats.as('engine', ['deploy', 'order.yaml'])).code).toBe(0);
      let engineLog = '';
      const engine = spawnCli(
        [
          '--nats',
          nats.url('engine'),
          'engine',
          '--users',
          join(dir, 'users.yaml'),
          '--handlers',
          join(dir, 'handlers.mjs'),
        ],
        { cwd: dir },
      );
      engine.stderr!.on('data', (d) => (engineLog += d));
      nats.procs.push(engine);
      const started = await nats.as('bob', ['start', 'fork-demo', '--amount', '5', '--json']);
      expect(started.code, started.stderr + engineLog).toBe(0);
      const runId = (JSON.parse(started.stdout) as { runId: string }).runId;
      const done = await nats.as('engine', ['wait', runId, '--timeout', '30s', '--json']);
      expect((JSON.parse(done.stdout) as View).status, engineLog).toBe('COMPLETED');
      const runs = async () => (await nats.admin().store.listRuns()).length;
      const before = await runs();

      const refused = await nats.as('ops-east', ['fork', runId, '--at', 'price', '--amount', '7']);
      expect([refused.code, refused.stderr]).toEqual([
        2,
        expect.stringMatching(/ops-east is L2 \(Station OPS\); controlling runs needs L1 \(CMD\.BRIDGE\) or higher/),
      ]);
      expect(await runs()).toBe(before);

      const forked = await nats.as('bob', ['fork', runId, '--at', 'price', '--amount', '7', '--json']);
      expect(forked.code, forked.stderr + engineLog).toBe(0);
      const forkId = (JSON.parse(forked.stdout) as { runId: string }).runId;
      const view = JSON.parse((await nats.as('engine', ['wait', forkId, '--timeout', '30s', '--json'])).stdout) as View;
      expect([view.status, view.tasks.price!.output]).toEqual(['COMPLETED', { total: 14 }]);
      const [first, second] = await nats.admin().store.read(forkId, { toSeq: 2 });
      expect(first!.data).toMatchObject({ source: { by: 'bob', forked: { from: runId, at: { task: 'price' } } } });
      expect(second).toMatchObject({ type: 'run.forked', data: { from: runId, by: 'bob', at: { task: 'price' } } });
      expect(calls(dir)).toEqual(['fetch', 'price', 'ship', 'price', 'ship']);
    }, 120_000);
  },
);
