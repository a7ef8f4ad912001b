/**
 * Squatting a child's run id (issue 60, Medium), as it was found: with a
 * users file, alice (L1) starts a run P of `inv`, which waits on its HUMAN
 * task and then starts its SUB_WORKFLOW `credit` as child run P-credit-1.
 * bob (L2 of domain inventory, who may start `inv` but not cancel) ran
 * `start inv --id P-credit-1`, and when alice approved, P ended FAILED
 * ("taken by a run … that no parent started"). Now bob's start is an ordinary
 * start (his id is his), and P's child starts under its spare id
 * P-credit-1--0, which no start can take: P completes with its real child,
 * status and history name the child where it is, bob's run is left as it was.
 * The same for an id a future run's child will have, for a child found again
 * after its parent's driver was lost (not a second child), and for the end
 * of the parent's attempt (a timeout; on NATS a cancel, which cancels the
 * child, never bob's run). On both stores: the
 * embedded one, and NATS with a real nats-server whose users come from the
 * users file and an engine judging them.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { noNats } from '../helpers/cluster.js';
import { cli, spawnCli, tempDir } from '../helpers/cli.js';
import { useUsersNats } from '../helpers/authority.js';
import { waitFor } from '../helpers/wait.js';
import { runReads } from '../../src/runs/index.js';

const FILES: Record<string, string> = {
  inv: `workflow:
  id: inv
  domain: inventory
  output: { noted: "\${credit.output.noted}" }
  tasks:
    - { id: count, type: SET, values: { counted: 42 } }
    - { id: check, type: HUMAN, depends_on: [count], agent_level: "L1" }
    - { id: credit, type: SUB_WORKFLOW, workflow: credit-note, depends_on: [check] }
`,
  'credit-note': `workflow:
  id: credit-note
  domain: inventory
  output: { noted: "\${note.output.noted}" }
  tasks:
    - { id: note, type: SET, values: { noted: "by the real child" } }
`,
  // A parent whose child waits on a person: its attempt is in flight while the child waits.
  hold: `workflow:
  id: hold
  domain: inventory
  output: { signed: "\${credit.output.signed}" }
  tasks:
    - { id: credit, type: SUB_WORKFLOW, workflow: credit-check }
`,
  // The same with a deadline: the attempt that times out cancels its child.
  'hold-briefly': `workflow:
  id: hold-briefly
  domain: inventory
  tasks:
    - { id: credit, type: SUB_WORKFLOW, workflow: credit-check, timeout: 1s }
`,
  'credit-check': `workflow:
  id: credit-check
  domain: inventory
  output: { signed: "\${done.output.signed}" }
  tasks:
    - { id: sign, type: HUMAN, agent_level: "L1" }
    - { id: done, type: SET, depends_on: [sign], values: { signed: "by the real child" } }
`,
};

function project(prefix: string): string {
  const dir = tempDir(prefix);
  mkdirSync(join(dir, 'definitions'));
  for (const [name, text] of Object.entries(FILES)) writeFileSync(join(dir, 'definitions', `${name}.yaml`), text);
  return dir;
}

const json = (r: { stdout: string }) => JSON.parse(r.stdout) as Record<string, unknown>;

describe("a run under a child's id taken first by someone else (embedded store, users file)", () => {
  it("bob's runs under alice's P-credit-1 and a future run's child id are his; her runs complete with their children under <child>--0", async () => {
    const dir = project('lf-child-squat-');
    for (const [name, level] of [
      ['alice', 'L1'],
      ['bob', 'L2'],
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
        { cwd: dir, stdin: `pw-${name}\n` },
      );
      expect(r.code, r.stderr).toBe(0);
    }
    const as = (user: string, args: string[]) =>
      cli(['--store', 'store', ...args], {
        cwd: dir,
        env: { LEDGERFLOW_USER: user, LEDGERFLOW_PASSWORD: `pw-${user}` },
      });
    const history = async (id: string) => (await as('alice', ['history', id, '--json'])).stdout;

    const started = await as('alice', ['run', 'definitions/inv.yaml', '--json']);
    expect(started.code, started.stderr).toBe(3); // waiting for check
    const p = json(started).runId as string;
    // bob may run inv (his domain), and may not cancel alice's run.
    expect((await as('bob', ['cancel', p])).code).toBe(2);
    const squat = await as('bob', ['run', 'definitions/inv.yaml', '--id', `${p}-credit-1`, '--json']);
    expect(squat.code, squat.stderr).toBe(3);
    const future = await as('bob', ['run', 'definitions/credit-note.yaml', '--id', 'order-7-credit-1', '--json']);
    expect(future.code, future.stderr).toBe(0);
    const bobs = { squat: await history(`${p}-credit-1`), future: await history('order-7-credit-1') };

    expect((await as('alice', ['approve', p, 'check'])).code).toBe(0);
    const done = await as('alice', ['status', p, '--json']);
    expect(json(done)).toMatchObject({
      status: 'COMPLETED',
      output: { noted: 'by the real child' },
      tasks: { credit: { status: 'COMPLETED', child: `${p}-credit-1--0` } },
    });
    expect(json(await as('alice', ['status', `${p}-credit-1--0`, '--json']))).toMatchObject({
      workflowId: 'credit-note',
      status: 'COMPLETED',
      parent: { runId: p, task: 'credit' },
    });
    expect((await as('alice', ['history', p])).stdout).toContain(`→ child run ${p}-credit-1--0`);
    // bob's run is his, as it was: inv, waiting on its own check, not a line added.
    expect(json(await as('bob', ['status', `${p}-credit-1`, '--json']))).toMatchObject({
      workflowId: 'inv',
      status: 'WAITING',
    });
    expect(await history(`${p}-credit-1`)).toBe(bobs.squat);

    // alice's later run under the id whose child bob took ahead: the same.
    expect((await as('alice', ['run', 'definitions/inv.yaml', '--id', 'order-7', '--json'])).code).toBe(3);
    expect((await as('alice', ['approve', 'order-7', 'check'])).code).toBe(0);
    expect(json(await as('alice', ['status', 'order-7', '--json']))).toMatchObject({
      status: 'COMPLETED',
      output: { noted: 'by the real child' },
      tasks: { credit: { child: 'order-7-credit-1--0' } },
    });
    expect(await history('order-7-credit-1')).toBe(bobs.future);
  }, 90_000);

  it("a parent driven again after its driver was gone finds its child under <child>--0 (no second child); an attempt that times out leaves bob's run alone", async () => {
    const dir = project('lf-child-squat-again-');
    for (const [name, level] of [
      ['alice', 'L1'],
      ['bob', 'L2'],
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
        { cwd: dir, stdin: `pw-${name}\n` },
      );
      expect(r.code, r.stderr).toBe(0);
    }
    const as = (user: string, args: string[]) =>
      cli(['--store', 'store', ...args], {
        cwd: dir,
        env: { LEDGERFLOW_USER: user, LEDGERFLOW_PASSWORD: `pw-${user}` },
      });
    for (const id of ['h1', 'h2'])
      expect((await as('bob', ['run', 'definitions/credit-check.yaml', '--id', `${id}-credit-1`])).code).toBe(3);

    // h1's driver ends with the attempt in flight (its child waits for sign); approving the child and resuming h1 re-attaches.
    expect((await as('alice', ['run', 'definitions/hold.yaml', '--id', 'h1', '--json'])).code).toBe(3);
    expect(json(await as('alice', ['status', 'h1-credit-1--0', '--json']))).toMatchObject({
      status: 'WAITING',
      parent: { runId: 'h1' },
    });
    expect((await as('alice', ['approve', 'h1-credit-1--0', 'sign'])).code).toBe(0);
    const resumed = await as('alice', ['resume', 'h1', '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(json(await as('alice', ['status', 'h1', '--json']))).toMatchObject({
      status: 'COMPLETED',
      output: { signed: 'by the real child' },
      tasks: { credit: { attempts: 1, child: 'h1-credit-1--0' } },
    });
    const list = JSON.parse((await as('alice', ['list', '--json'])).stdout) as {
      runId: string;
      parent?: { runId: string };
    }[];
    expect(list.filter((r) => r.parent?.runId === 'h1').map((r) => r.runId)).toEqual(['h1-credit-1--0']);

    // h2's attempt times out while its child waits under its spare id; bob's run under h2-credit-1 is not touched.
    const timedOut = await as('alice', ['run', 'definitions/hold-briefly.yaml', '--id', 'h2', '--json']);
    expect(timedOut.code, timedOut.stderr).toBe(1);
    expect(json(timedOut)).toMatchObject({
      status: 'FAILED',
      tasks: { credit: { status: 'TIMED_OUT', child: 'h2-credit-1--0' } },
    });
    for (const id of ['h1', 'h2'])
      expect(json(await as('bob', ['status', `${id}-credit-1`, '--json']))).toMatchObject({
        workflowId: 'credit-check',
        status: 'WAITING',
      });
  }, 90_000);
});

describe.skipIf(noNats)("the same on NATS: a nats-server with the users file's users, an engine judging them", () => {
  const nats = useUsersNats();
  const { procs, url, as } = nats;

  it("bob's start under P-credit-1 is his; alice's approval completes P with its child under P-credit-1--0; an engine killed and started again finds that child; a cancel spares bob's run", async () => {
    const dir = project('lf-child-squat-nats-');
    await nats.start(dir, [
      ['engine', 'L1'],
      ['alice', 'L1'],
      ['bob', 'L2'],
    ]);
    const deployed = await as('engine', ['deploy', ...Object.keys(FILES).map((n) => `definitions/${n}.yaml`)]);
    expect(deployed.code, deployed.stderr).toBe(0);
    let engineLog = '';
    const startEngine = () => {
      const engine = spawnCli(['--nats', url('engine'), 'engine', '--users', join(dir, 'users.yaml')], { cwd: dir });
      procs.push(engine);
      engine.stderr!.on('data', (d) => (engineLog += d));
      return engine;
    };
    const first = startEngine();
    const admin = nats.admin();
    const waiting = async (id: string) =>
      expect((await runReads(admin.store).wait(id, { orWaiting: true, timeoutMs: 30_000 })).status, engineLog).toBe(
        'WAITING',
      );

    const started = await as('alice', ['start', 'inv', '--json']);
    expect(started.code, started.stderr + engineLog).toBe(0);
    const p = json(started).runId as string;
    await waiting(p);
    for (const [workflow, id] of [
      ['inv', `${p}-credit-1`],
      ['credit-note', 'order-7-credit-1'],
      ['credit-check', 'h1-credit-1'],
      ['credit-check', 'h2-credit-1'],
    ] as const) {
      const squat = await as('bob', ['start', workflow, '--id', id]);
      expect(squat.code, `${workflow} ${id}: ${squat.stderr}${engineLog}`).toBe(0);
    }
    await waiting(`${p}-credit-1`);
    const squatSeq = await admin.store.lastSeq(`${p}-credit-1`);

    expect((await as('alice', ['approve', p, 'check'])).code).toBe(0);
    expect(await runReads(admin.store).wait(p, { timeoutMs: 30_000 }), engineLog).toMatchObject({
      status: 'COMPLETED',
      output: { noted: 'by the real child' },
    });
    expect(await runReads(admin.store).status(p)).toMatchObject({
      tasks: { credit: { status: 'COMPLETED', child: `${p}-credit-1--0` } },
    });
    expect(await runReads(admin.store).status(`${p}-credit-1--0`)).toMatchObject({
      workflowId: 'credit-note',
      status: 'COMPLETED',
      parent: { runId: p, task: 'credit' },
    });
    expect(await runReads(admin.store).status(`${p}-credit-1`)).toMatchObject({ workflowId: 'inv', status: 'WAITING' });
    expect(await admin.store.lastSeq(`${p}-credit-1`)).toBe(squatSeq);

    // h1: its child waits under h1-credit-1--0 when the engine is killed; another engine finds that child, not a second one.
    expect((await as('alice', ['start', 'hold', '--id', 'h1'])).code).toBe(0);
    await waitFor(
      "h1's child waiting under h1-credit-1--0",
      async () => (await runReads(admin.store).status('h1-credit-1--0'))?.status === 'WAITING',
      { timeout: 30_000 },
    );
    first.kill('SIGKILL');
    await waitFor('the first engine gone', () => first.exitCode !== null || first.signalCode !== null);
    startEngine();
    expect((await as('alice', ['approve', 'h1-credit-1--0', 'sign'])).code).toBe(0);
    expect(await runReads(admin.store).wait('h1', { timeoutMs: 30_000 }), engineLog).toMatchObject({
      status: 'COMPLETED',
      output: { signed: 'by the real child' },
    });
    expect(await admin.store.lastSeq('h1-credit-1--0--0')).toBe(0);
    expect(await admin.store.lastSeq('h1-credit-2')).toBe(0);

    // h2 cancelled while its child waits: that child is cancelled with it; bob's runs wait on.
    expect((await as('alice', ['start', 'hold', '--id', 'h2'])).code).toBe(0);
    await waitFor(
      "h2's child waiting under h2-credit-1--0",
      async () => (await runReads(admin.store).status('h2-credit-1--0'))?.status === 'WAITING',
      { timeout: 30_000 },
    );
    expect((await as('alice', ['cancel', 'h2'])).code).toBe(0);
    await waitFor(
      "h2's child cancelled",
      async () => (await runReads(admin.store).status('h2-credit-1--0'))?.status === 'CANCELLED',
      {
        timeout: 30_000,
      },
    );
    for (const id of ['h1-credit-1', 'h2-credit-1'])
      expect(await runReads(admin.store).status(id)).toMatchObject({ workflowId: 'credit-check', status: 'WAITING' });
  }, 150_000);
});
