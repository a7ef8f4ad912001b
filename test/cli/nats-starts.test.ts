/**
 * docs/users.md, "Starting and deploying as yourself": on a nats-server whose
 * users come from the users file (`users nats-conf`), a person starts, retries,
 * deploys and sets limits as their own NATS user. The request waits in LF_REQUESTS when no
 * engine runs (the command says it is queued) and an engine given the users
 * file judges the level (an L2 the workflow's domain) and does it as the
 * engine user; the server refuses what a level may not publish at all. Then
 * every level × every action that exists over NATS, through the CLI, as
 * docs/users.md's tables say. One server and one engine for the file.
 */
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { freshRunId } from '../../src/cluster/index.js';
import { credentials } from '../../src/cluster/transport/index.js';
import { connect, jetstream } from '../../src/store/index.js';
import { noNats } from '../helpers/cluster.js';
import { spawnCli, tempDir } from '../helpers/cli.js';
import { useUsersNats } from '../helpers/authority.js';
import { waitFor } from '../helpers/wait.js';
import { natsBackend } from '../../src/server/nats.js';
import { readLimits } from '../../src/limits/index.js';
import { runReads } from '../../src/runs/index.js';

const STOCK_COUNT = `workflow:
  id: stock-count
  domain: inventory
  tasks:
    - { id: count, type: SET, values: { counted: 42 } }
    - { id: commander_review, type: HUMAN, depends_on: [count], agent_level: "L0" }
    - { id: bridge_review, type: HUMAN, depends_on: [count], agent_level: "L1" }
    - { id: go, type: WAIT, depends_on: [count], event: go }
`;
const PAYROLL = STOCK_COUNT.replace('stock-count', 'payroll').replace('domain: inventory', 'domain: finance');
const USERS = [
  ['engine', 'L1'],
  ['alice', 'L0'],
  ['bob', 'L1'],
  ['ops-east', 'L2'],
  ['scanner', 'L3'],
] as const;
type Person = 'alice' | 'bob' | 'ops-east' | 'scanner';
const PEOPLE: readonly Person[] = ['alice', 'bob', 'ops-east', 'scanner'];

const nats = useUsersNats();
const { procs, url, as } = nats;
let dir = '';
let engine: ChildProcess | undefined;
let engineLog = '';
const startEngine = () => {
  engine = spawnCli(['--nats', url('engine'), 'engine', '--users', join(dir, 'users.yaml')], { cwd: dir });
  procs.push(engine);
  engine.stderr!.on('data', (d) => (engineLog += d));
};
/** A run of `workflow` started by the engine user (in this process), waiting for its reviews and its signal. */
const waitingRun = async (workflow = 'stock-count'): Promise<string> => {
  const { runId } = await nats.admin().start(workflow, {});
  expect(
    (await runReads(nats.admin().store).wait(runId, { orWaiting: true, timeoutMs: 30_000 })).status,
    engineLog,
  ).toBe('WAITING');
  return runId;
};
const history = async (runId: string) =>
  (await nats.admin().store.read(runId)).map((e) => ({
    type: e.type,
    data: e.data as { by?: string; reason?: string; source?: { by?: string } },
  }));

describe.skipIf(noNats)('starts, retries and deploys as a person on NATS (docs/users.md)', () => {
  beforeAll(async () => {
    dir = tempDir('lf-nats-starts-');
    writeFileSync(join(dir, 'stock-count.yaml'), STOCK_COUNT);
    writeFileSync(join(dir, 'payroll.yaml'), PAYROLL);
    await nats.start(dir, USERS);
    // The engine user deploys directly, as before (and so makes the streams).
    const deployed = await as('engine', ['deploy', 'payroll.yaml']);
    expect(deployed.code, deployed.stderr).toBe(0);
  }, 60_000);

  it('a start while no engine runs is queued, and runs once an engine starts, recording who asked; an L1 deploys', async () => {
    // No engine yet: bob's deploy and start wait in LF_REQUESTS, and the start names the run it will be.
    const deploy = await as('bob', ['deploy', 'stock-count.yaml', '--wait', '1s']);
    expect(deploy.code, deploy.stderr).toBe(3);
    expect(deploy.stdout).toContain('queued: no engine answered within 1000 ms');
    // The start of the workflow that deploy deploys: the engine takes both at once, and the start waits for the deploy.
    const queued = await as('bob', ['start', 'stock-count', '--wait', '1s', '--json']);
    expect(queued.code, queued.stderr).toBe(3);
    const { queued: isQueued, runId } = JSON.parse(queued.stdout) as { queued: boolean; runId: string };
    expect(isQueued).toBe(true);
    startEngine();
    await waitFor('the queued start to be taken', async () => (await nats.admin().store.lastSeq(runId)) > 0, {
      timeout: 30_000,
      detail: () => engineLog,
    });
    expect(
      (await runReads(nats.admin().store).wait(runId, { orWaiting: true, timeoutMs: 30_000 })).status,
      engineLog,
    ).toBe('WAITING');
    expect((await history(runId))[0]!.data.source?.by).toBe('bob');
    // With an engine running: answered at once.
    const again = await as('bob', ['deploy', 'stock-count.yaml']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^unchanged stock-count@1 /);
  }, 60_000);

  it('every level × every action over NATS, as docs/users.md says (refusals record nothing but a refused approval)', async () => {
    const [a, b, c, p1, p2] = await Promise.all([
      waitingRun(),
      waitingRun(),
      waitingRun(),
      waitingRun('payroll'),
      waitingRun('payroll'),
    ]);
    const counts = async () => Promise.all([a, b, c, p1, p2].map(async (r) => await nats.admin().store.lastSeq(r!)));
    const refusedByServer = /NATS user \S+ may not|permission/i;
    type Case = { who: Person; args: string[]; ok: boolean; why?: RegExp };
    const run = async (cases: Case[]) => {
      // Three commands at a time: more starve one another of the machine's cores (and a request's 5 s runs out).
      const results: { k: Case; r: Awaited<ReturnType<typeof as>> }[] = [];
      for (let i = 0; i < cases.length; i += 3)
        results.push(
          ...(await Promise.all(cases.slice(i, i + 3).map(async (k) => ({ k, r: await as(k.who, k.args) })))),
        );
      for (const { k, r } of results) {
        expect([k.who, ...k.args, r.code], r.stderr + r.stdout).toEqual([k.who, ...k.args, k.ok ? 0 : 2]);
        if (k.why) expect(r.stderr, `${k.who} ${k.args.join(' ')}`).toMatch(k.why);
      }
      return results;
    };
    writeFileSync(join(dir, 'limits.yaml'), 'queues:\n  payments:\n    concurrency: { limit: 5 }\n');
    for (const who of PEOPLE)
      writeFileSync(
        join(dir, `deploy-${who}.yaml`),
        `workflow:\n  id: deployed-by-${who}\n  tasks:\n    - { id: one, type: SET, values: { x: 1 } }\n`,
      );

    // The refusals first, all at once: each exits 2 with its reason, and the runs' logs stay as they were.
    const before = await counts();
    await run([
      {
        who: 'ops-east',
        args: ['start', 'payroll'],
        ok: false,
        why: /ops-east is L2 \(Station OPS\); starting payroll needs L1 \(CMD\.BRIDGE\) or higher \(an L2 starts the workflows of its domains: inventory; payroll is in domain finance\)/,
      },
      {
        who: 'scanner',
        args: ['start', 'stock-count'],
        ok: false,
        why: /NATS user scanner may not start runs \(nats\.conf permissions/,
      },
      { who: 'ops-east', args: ['deploy', 'deploy-ops-east.yaml'], ok: false, why: refusedByServer },
      { who: 'scanner', args: ['deploy', 'deploy-scanner.yaml'], ok: false, why: refusedByServer },
      {
        who: 'ops-east',
        args: ['limits', 'set', 'limits.yaml'],
        ok: false,
        why: /NATS user ops-east may not set limits/,
      },
      { who: 'scanner', args: ['limits', 'set', 'limits.yaml'], ok: false, why: refusedByServer },
      { who: 'scanner', args: ['approve', a!, 'bridge_review'], ok: false, why: refusedByServer },
      { who: 'scanner', args: ['signal', a!, 'go'], ok: false, why: refusedByServer },
      // A WAIT without from: takes its signal from the run's starter and L1 or higher: c was started by the engine user.
      {
        who: 'ops-east',
        args: ['signal', c!, 'go'],
        ok: false,
        why: /ops-east may not send signal "go": WAIT go takes it only from the person who started the run and L1 \(CMD\.BRIDGE\) or higher/,
      },
      ...(['pause', 'cancel'] as const).flatMap((cmd) => [
        { who: 'ops-east' as const, args: [cmd, p1!], ok: false, why: refusedByServer },
        { who: 'scanner' as const, args: [cmd, p1!], ok: false, why: refusedByServer },
      ]),
      // The engine refuses an L2's retry (it may publish starts, for its domain's workflows): a retry is the bridge's.
      {
        who: 'ops-east',
        args: ['retry', p1!],
        ok: false,
        why: /ops-east is L2 \(Station OPS\); controlling runs needs L1 \(CMD\.BRIDGE\) or higher/,
      },
      { who: 'scanner', args: ['retry', p1!], ok: false, why: refusedByServer },
    ]);
    expect(await counts()).toEqual(before);
    expect(await readLimits(nats.admin().store)).toBeUndefined();
    // Approvals below the task's level are refused by the engine and kept in the run's history, once each.
    await run([
      {
        who: 'bob',
        args: ['approve', a!, 'commander_review'],
        ok: false,
        why: /bob is L1 \(CMD\.BRIDGE\); approving commander_review needs L0 \(Commander\) or higher/,
      },
      {
        who: 'ops-east',
        args: ['approve', b!, 'bridge_review'],
        ok: false,
        why: /ops-east is L2 \(Station OPS\); approving bridge_review needs L1 \(CMD\.BRIDGE\) or higher/,
      },
    ]);
    expect((await history(a!)).filter((e) => e.type === 'approval.refused').map((e) => e.data.by)).toEqual(['bob']);
    expect((await history(b!)).filter((e) => e.type === 'approval.refused').map((e) => e.data.by)).toEqual([
      'ops-east',
    ]);

    // What each level may do: starts (an L2 in its domain), deploys, approvals at or above the task's level, signals, control.
    const allowed = await run([
      ...(['alice', 'bob'] as const).flatMap((who) => [
        { who, args: ['start', 'payroll'], ok: true },
        { who, args: ['deploy', `deploy-${who}.yaml`], ok: true },
        { who, args: ['limits', 'set', 'limits.yaml'], ok: true },
      ]),
      { who: 'alice', args: ['start', 'stock-count'], ok: true },
      { who: 'ops-east', args: ['start', 'stock-count', '--json'], ok: true },
      { who: 'alice', args: ['approve', a!, 'commander_review'], ok: true },
      { who: 'bob', args: ['approve', b!, 'bridge_review'], ok: true },
      { who: 'alice', args: ['signal', a!, 'go'], ok: true },
      { who: 'bob', args: ['signal', b!, 'go'], ok: true },
      { who: 'alice', args: ['signal', c!, 'go'], ok: true },
      { who: 'alice', args: ['pause', p1!], ok: true },
      { who: 'bob', args: ['pause', p2!], ok: true },
    ]);
    // run.started records who asked for each run.
    const byOps = allowed.find(({ k }) => k.who === 'ops-east' && k.args[0] === 'start')!;
    expect((await history(JSON.parse(byOps.r.stdout).runId))[0]!.data.source?.by).toBe('ops-east');
    // …and its starter may signal it, though an L2.
    const own = await as('ops-east', ['signal', JSON.parse(byOps.r.stdout).runId, 'go']);
    expect(own.code, own.stderr).toBe(0);
    // A paused run: resumed by L0 and L1 only.
    await run([
      { who: 'ops-east', args: ['resume', p1!], ok: false, why: refusedByServer },
      { who: 'scanner', args: ['resume', p1!], ok: false, why: refusedByServer },
    ]);
    await run([
      { who: 'alice', args: ['resume', p2!], ok: true },
      { who: 'bob', args: ['resume', p1!], ok: true },
    ]);
    await run([
      { who: 'alice', args: ['cancel', p1!], ok: true },
      { who: 'bob', args: ['cancel', p2!], ok: true },
    ]);
    // A cancelled run: retried by L0 and L1.
    const retried = await run([
      { who: 'alice', args: ['retry', p1!], ok: true },
      { who: 'bob', args: ['retry', p2!], ok: true },
    ]);
    for (const { k, r } of retried)
      expect((await history(r.stdout.trim()))[0]!.data.source).toMatchObject({
        by: k.who,
        retryOf: { runId: k.args[1] },
      });
    expect(await readLimits(nats.admin().store)).toMatchObject({ queues: { payments: { concurrency: { limit: 5 } } } });
    const deployed = (await nats.admin().deployed()).map((d) => d.id).sort();
    expect(deployed).toEqual(['deployed-by-alice', 'deployed-by-bob', 'payroll', 'stock-count']);
  }, 120_000);

  it('a hostile request (not JSON, a field of its own, a name not its own, too large, an unknown workflow) is refused with a reason; the engine goes on', async () => {
    const nc = await connect({ ...credentials(url('bob')), name: 'hostile-bob' });
    const verdicts = new Map<string, unknown>();
    const sub = nc.subscribe('lf.verdicts.starts.bob.*', {
      callback: (_e, m) => {
        verdicts.set(m.subject.split('.').at(-1)!, JSON.parse(new TextDecoder().decode(m.data)));
      },
    });
    await nc.flush();
    const js = jetstream(nc);
    // On bob's subject, the request's id first in the body as the CLI writes it (answered even when the rest is unreadable).
    const send = (request: string, body: string) =>
      js.publish('lf.starts.bob', new TextEncoder().encode(`{"request":"${request}",${body.slice(1)}`));
    try {
      await send('notjson001', '{nope');
      await send('ownfield01', JSON.stringify({ workflow: 'stock-count', input: {}, by: 'alice' }));
      await send('unknownwf1', JSON.stringify({ workflow: 'no-such-workflow', input: {}, runId: freshRunId() }));
      await send('badrunid01', JSON.stringify({ workflow: 'stock-count', input: {}, runId: 'stock-count--child' }));
      await send(
        'toolarge01',
        JSON.stringify({ workflow: 'stock-count', input: { blob: 'x'.repeat(700_000) }, runId: freshRunId() }),
      );
      // Under another's name: the server refuses it before any engine sees it.
      await expect(js.publish('lf.starts.alice', new TextEncoder().encode('{}'))).rejects.toThrow(/permission/i);
      await waitFor('the engine to answer every hostile request', () => verdicts.size >= 5, {
        timeout: 30_000,
        detail: () => JSON.stringify([...verdicts]) + engineLog,
      });
      expect(
        Object.fromEntries([...verdicts].map(([k, v]) => [k, (v as { accepted: boolean; code: string }).code])),
      ).toEqual({
        notjson001: 'LF_REQUEST_REFUSED',
        ownfield01: 'LF_REQUEST_REFUSED',
        unknownwf1: 'LF_WORKFLOW_NOT_DEPLOYED',
        badrunid01: 'LF_REQUEST_REFUSED',
        toolarge01: 'LF_REQUEST_REFUSED',
      });
      expect((verdicts.get('notjson001') as { reason: string }).reason).toContain('the body is not JSON');
      expect((verdicts.get('ownfield01') as { reason: string }).reason).toMatch(/by/);
      expect((verdicts.get('toolarge01') as { reason: string }).reason).toMatch(/over the \d+ a start may carry/);
    } finally {
      sub.unsubscribe();
      await nc.close();
    }
    // Each is kept as a dead letter with its reason, and the engine still starts runs.
    const dlq = await as('engine', ['dlq', 'list', '--json']);
    expect(dlq.stdout).toContain('the body is not JSON');
    const after = await as('bob', ['start', 'stock-count']);
    expect(after.code, after.stderr + engineLog).toBe(0);
    expect(engine!.exitCode).toBeNull();
  }, 60_000);

  it('the dashboard on NATS starts and retries as the signed-in person through the same requests, judged alike', async () => {
    const backend = await natsBackend({ url: url('engine') });
    const session = await backend.signIn('ops-east', 'pw-ops-east');
    try {
      const actions = backend.actions({ user: 'ops-east', session });
      const started = await actions.start('stock-count', {});
      expect((await history(started.runId))[0]!.data.source?.by).toBe('ops-east');
      await expect(actions.start('payroll', {})).rejects.toMatchObject({
        code: 'LF_AUTHORITY_REFUSED',
        meta: { need: 'L1', have: 'L2' },
      });
      await expect(actions.retry(started.runId)).rejects.toMatchObject({ code: 'LF_AUTHORITY_REFUSED' });
    } finally {
      await session.close();
      await backend.close();
    }
  }, 60_000);
});
