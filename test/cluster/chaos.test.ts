/**
 * The cluster under failure, with real processes: each test has its own
 * nats-server (from nats.conf, killed and restarted at will) and runs
 * `ledgerflow engine` / `ledgerflow worker` as OS processes of the built CLI
 * (`npm run build` first), killed with SIGKILL mid-run. What the issue asks
 * of the distributed runtime is checked from the log itself and from the
 * markers the fixture handlers write (task, attempt, idempotency key,
 * start|end, pid, time), never from an engine's own counters.
 */
import { join } from 'node:path';
import { nanos } from '@nats-io/nats-core';
import { describe, expect, it } from 'vitest';
import { STREAMS } from '../../src/cluster/index.js';
import { encode } from '../../src/cluster/transport/messages.js';
import { ensureWorkerConsumer } from '../../src/cluster/transport/setup.js';
import { ENGINE_CONSUMERS } from '../../src/cluster/transport/subjects.js';
import type { EventEnvelope } from '../../src/events/index.js';
import { replayRun, type RunView } from '../../src/runtime/index.js';
import { runIdForEvent } from '../../src/triggers/index.js';
import { cli, ROOT } from '../helpers/cli.js';
import { noNats, skipNote } from '../helpers/cluster.js';
import { deadLetters } from '../helpers/dead-letters.js';
import { CHAOS_TASKS, CHAOS_WORKFLOW as CHAOS, HANDLERS, readMarkers, type Marker } from '../helpers/cluster-run.js';
import { waitFor } from '../helpers/wait.js';
import { deploy, startChaosCluster } from '../helpers/chaos-cluster.js';
import { jetstream } from '@nats-io/jetstream';
import { runReads } from '../../src/runs/index.js';

const FIXTURES = join(ROOT, 'test', 'fixtures');
const APPROVAL = join(FIXTURES, 'cluster-approval.yaml');
/** Tasks of cluster.yaml that run the `slow` handler. */
const SLOW_TASKS = new Set(['slow_a', 'slow_b', 'slow_c']);

/**
 * What must hold for every settled run's log, whoever wrote it: seqs 1..n with
 * no gap or fork, replay equal to the recorded states, each task completed
 * exactly once, and exactly one event that takes the run to COMPLETED.
 */
function expectSoundCompletedHistory(events: EventEnvelope[], tasks: string[]): void {
  const runId = events[0]?.runId;
  expect(
    events.map((e) => e.seq),
    `seqs of ${runId}`,
  ).toEqual(events.map((_, i) => i + 1));
  expect(new Set(events.map((e) => e.runId)), `one run in ${runId}'s log`).toEqual(new Set([runId]));
  expect(
    events.filter((e) => e.type === 'run.started'),
    `run.started of ${runId}`,
  ).toHaveLength(1);
  expect(replayRun(events).divergence, `replay of ${runId}`).toBeNull();
  for (const task of tasks) {
    expect(
      events.filter((e) => e.type === 'task.completed' && e.data.task === task),
      `task.completed of ${runId}/${task}`,
    ).toHaveLength(1);
  }
  const settles = events.filter(
    (e, i) => e.state.status === 'COMPLETED' && (i === 0 || events[i - 1]!.state.status !== 'COMPLETED'),
  );
  expect(settles, `events completing ${runId}`).toHaveLength(1);
  expect(events.at(-1)!.state.status).toBe('COMPLETED');
}

function groupBy<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) out.set(key(item), [...(out.get(key(item)) ?? []), item]);
  return out;
}

const withoutSeq = ({ seq: _seq, ...rest }: RunView) => rest;

describe.skipIf(noNats)(`a cluster under failure: engines, workers and nats-server killed mid-run${skipNote}`, () => {
  it('two engines racing on the same runs: no forked history, no duplicate completion, no attempt run twice, replay equal to live state', async () => {
    const c = await startChaosCluster();
    await deploy(c, CHAOS);
    // Both engines also run tasks (--handlers): two engines and two in-process workers share every run.
    const engines = await Promise.all(
      ['engine-1', 'engine-2'].map((n) => c.launch(n, ['--nats', c.url, 'engine', '--handlers', HANDLERS])),
    );
    const started = await Promise.all(
      Array.from({ length: 30 }, (_, i) => c.client.start('cluster-chaos', { ms: 100 + (i % 3) * 50 })),
    );
    const runIds = started.map((s) => s.runId);
    const views = await Promise.all(runIds.map((id) => c.runs.wait(id, { timeoutMs: 30_000 })));
    expect(
      views.map((v) => v.status),
      c.logs(),
    ).toEqual(runIds.map(() => 'COMPLETED'));

    for (const runId of runIds) expectSoundCompletedHistory(await c.client.store.read(runId), CHAOS_TASKS);

    const markers = readMarkers(c.markers);
    const starts = markers.filter((m) => m.what === 'start');
    // Each attempt ran once, in one process: no two engines executed the same (run, task, attempt).
    const byKey = groupBy(starts, (m) => m.key);
    expect(
      [...byKey]
        .filter(([, ms]) => ms.length > 1)
        .map(([key, ms]) => `${key} started by ${ms.map((m) => m.pid).join(', ')}`),
    ).toEqual([]);
    expect(byKey.size).toBe(runIds.length * CHAOS_TASKS.length); // nothing failed, so every task ran one attempt
    expect([...byKey.keys()].every((k) => k.endsWith('/1'))).toBe(true);
    // And the work really was shared: both processes ran tasks.
    expect(new Set(starts.map((m) => m.pid))).toEqual(new Set(engines.map((e) => e.pid)));
  }, 60_000);

  it('an engine killed with SIGKILL and nats-server killed and restarted mid-run: every run completes, nothing acknowledged is lost, no completed task runs again', async () => {
    const c = await startChaosCluster();
    await deploy(c, CHAOS);
    // What a killed process held (an input an engine was folding, an attempt its worker was running)
    // comes back after its consumer's ack wait, 30 s by default: make it 2 s, as an operator may
    // (`nats consumer edit`; for workers, --ack-wait), so that the survivor takes over within the test.
    const jsm = await c.jsm();
    for (const [kind, durable] of Object.entries(ENGINE_CONSUMERS)) {
      await jsm.consumers.update(STREAMS[kind as keyof typeof ENGINE_CONSUMERS].name, durable, {
        ack_wait: nanos(2000),
      });
    }
    for (const handler of ['first', 'slow', 'last'])
      await ensureWorkerConsumer(jsm, 'default', handler, { taskAckWaitMs: 2000 });
    const [victim, survivor] = await Promise.all(
      ['engine-1', 'engine-2'].map((n) => c.launch(n, ['--nats', c.url, 'engine', '--handlers', HANDLERS])),
    );

    const runIds = (
      await Promise.all(Array.from({ length: 12 }, () => c.client.start('cluster-chaos', { ms: 700 })))
    ).map((s) => s.runId);

    // SIGKILL an engine while its in-process worker is inside a slow handler.
    const inFlight = (ms: Marker[], pid: number) => {
      const ended = new Set(ms.filter((m) => m.what !== 'start').map((m) => m.key));
      return ms
        .filter((m) => m.what === 'start' && m.pid === pid && SLOW_TASKS.has(m.task) && !ended.has(m.key))
        .map((m) => m.key);
    };
    await waitFor('a slow task in flight in engine-1', () => inFlight(readMarkers(c.markers), victim!.pid).length > 0, {
      timeout: 20_000,
      detail: c.logs,
    });
    await victim!.kill('SIGKILL');
    const cutOff = inFlight(readMarkers(c.markers), victim!.pid);
    expect(cutOff.length).toBeGreaterThan(0);

    // Let the survivor move on (the log grows after the kill), then take a snapshot of what the log has acknowledged.
    const readLogs = async () =>
      new Map(await Promise.all(runIds.map(async (id) => [id, await c.client.store.read(id)] as const)));
    const total = (m: Map<string, EventEnvelope[]>) => [...m.values()].reduce((n, events) => n + events.length, 0);
    const atKill = total(await readLogs());
    const before = await waitFor(
      'the survivor to append after the kill',
      async () => {
        const now = await readLogs();
        return total(now) > atKill && now;
      },
      { timeout: 20_000, detail: c.logs },
    );
    expect([...before.values()].some((events) => events.at(-1)!.state.status !== 'COMPLETED')).toBe(true); // still mid-run

    // The server stays down until connections to it have dropped (ours as the engines'), not for a set time.
    let dropped = false;
    const nc = await c.client.store.connection();
    void (async () => {
      for await (const s of nc.status())
        if (s.type === 'disconnect') {
          dropped = true;
          return;
        }
    })();
    await c.server.stop(); // SIGKILL
    await waitFor('the connection to the killed server to drop', () => dropped);
    await c.server.restart();

    const client = c.newClient();
    const views = await Promise.all(runIds.map((id) => runReads(client.store).wait(id, { timeoutMs: 60_000 })));
    expect(
      views.map((v) => `${v.runId} ${v.status}`),
      c.logs(),
    ).toEqual(runIds.map((id) => `${id} COMPLETED`));

    const markers = readMarkers(c.markers);
    for (const runId of runIds) {
      const events = await client.store.read(runId);
      // Nothing acknowledged is lost: every event read before the server was killed is still there, unchanged.
      expect(events.slice(0, before.get(runId)!.length), `log of ${runId} before the crash`).toEqual(before.get(runId));
      expectSoundCompletedHistory(events, CHAOS_TASKS);
      for (const done of events.filter((e) => e.type === 'task.completed')) {
        const { task, attempt } = done.data;
        const mine = markers.filter((m) => m.runId === runId && m.task === task);
        // No completed task runs again: no later attempt, and no start of any attempt after the completion was recorded,
        // except the one known race (README): a worker that could not heartbeat within the 2 s ack wait is taken
        // for lost, the attempt is restarted, and its restarted run may be claimed just before the first run's outcome
        // settles it. Such a start is only allowed where the log records the restart (the count is bounded below).
        const restarted = events.some(
          (e) => e.type === 'task.restarted' && e.data.task === task && e.data.attempt === attempt,
        );
        expect(
          mine.filter((m) => m.attempt > attempt),
          `${runId}/${task} after attempt ${attempt} completed`,
        ).toEqual([]);
        if (!restarted)
          expect(
            mine.filter((m) => m.what === 'start' && m.at > Date.parse(done.time)),
            `${runId}/${task} started after ${done.time}`,
          ).toEqual([]);
      }
    }
    // No run of an attempt twice: an attempt runs once, plus at most once more for each restart the log records
    // (its worker was lost: reported by a survivor's worker, restarted by an engine, claimed afresh). At most:
    // the lost run's own outcome may still arrive first (it was in the inputs queue), and then it counts.
    const logs = new Map(await Promise.all(runIds.map(async (id) => [id, await client.store.read(id)] as const)));
    const restartsOf = (key: string) => {
      const [runId, task, attempt] = key.split('/') as [string, string, string];
      return logs
        .get(runId)!
        .filter((e) => e.type === 'task.restarted' && e.data.task === task && e.data.attempt === Number(attempt))
        .length;
    };
    const starts = groupBy(
      markers.filter((m) => m.what === 'start'),
      (m) => m.key,
    );
    expect(
      [...starts]
        .filter(([k, ms]) => ms.length > 1 + restartsOf(k))
        .map(([k, ms]) => `${k} started by ${ms.map((m) => m.pid).join(', ')}, restarted ${restartsOf(k)} times`),
    ).toEqual([]);
    // Nothing failed: the handlers never fail here, and a lost worker is not a failure of the task.
    const failures = [...logs.values()].flat().filter((e) => e.type === 'task.failed');
    expect(failures.map((e) => `${e.runId}/${e.data.task}/${e.data.attempt}: ${e.data.error.message}`)).toEqual([]);
    // The attempts the dead engine was running were reported lost by a survivor's worker and run again as the same attempt.
    for (const key of cutOff) {
      const [runId, task, attempt] = key.split('/') as [string, string, string];
      expect(
        logs
          .get(runId)!
          .find((e) => e.type === 'task.restarted' && e.data.task === task && e.data.attempt === Number(attempt))?.data,
        `${key} restarted`,
      ).toMatchObject({ reason: 'worker_lost', restart: 1, by: 'engine' }); // engines connect without a user here (nats-dev.conf's no_auth_user): their in-process workers report as engine
      expect(views.find((v) => v.runId === runId)!.tasks[task]!.attempts, `${key}: no retry used`).toBe(
        Number(attempt),
      );
    }
    expect(survivor!.output()).not.toMatch(/gave up/);
  }, 90_000);

  it('a worker killed mid-task: after the ack wait the attempt is redelivered, reported lost and run again by another worker as the same attempt, no retry used', async () => {
    const c = await startChaosCluster();
    await deploy(c, CHAOS);
    // An engine without handlers: every task goes to the remote workers, which connect as nats.conf's `worker` user.
    // The engine creates their consumers (the `worker` user may not), with the ack wait of its environment.
    await c.launch('engine', ['--nats', c.url, 'engine'], { LEDGERFLOW_NATS_TASK_ACK_WAIT: '2s' });
    const workerArgs = ['--nats', c.as('worker'), 'worker', '--handlers', HANDLERS, '--ack-wait', '2s'];
    const a = await c.launch('worker-a', workerArgs);
    const { runId } = await c.client.start('cluster-chaos', { ms: 1000 });

    await waitFor(
      'slow_a and slow_b running in worker A',
      () => {
        const ms = readMarkers(c.markers);
        return ['slow_a', 'slow_b'].every((t) => ms.some((m) => m.task === t && m.what === 'start' && m.pid === a.pid));
      },
      { timeout: 20_000, detail: c.logs },
    );
    await a.kill('SIGKILL');
    const killedAt = Date.now();
    const b = await c.launch('worker-b', workerArgs);

    const view = await c.runs.wait(runId, { timeoutMs: 30_000 });
    expect(view.status, c.logs()).toBe('COMPLETED');
    expect(view.tasks.slow_a).toMatchObject({ status: 'COMPLETED', attempts: 1 });
    expect(view.tasks.slow_b).toMatchObject({ status: 'COMPLETED', attempts: 1 });
    expect(view.tasks.slow_c).toMatchObject({ status: 'COMPLETED', attempts: 1 });

    const events = await c.client.store.read(runId);
    expectSoundCompletedHistory(events, CHAOS_TASKS);
    expect(events.filter((e) => e.type === 'task.failed')).toEqual([]);
    for (const task of ['slow_a', 'slow_b']) {
      const restarted = events.filter((e) => e.type === 'task.restarted' && e.data.task === task);
      // Reported by worker B (the NATS user `worker`). An offered attempt is claimed only once it outlives its worker's
      // first heartbeat (docs/nats.md, claims written when needed): when A had claimed it, the record names A's ledger
      // name as the one lost; when A died before, nobody answered B's asks and there is no claim to name.
      expect(restarted.map((e) => e.data)).toEqual([
        expect.objectContaining({ attempt: 1, restart: 1, reason: 'worker_lost', by: 'worker' }),
      ]);
      const lost = (restarted[0]!.data as { lost?: string }).lost;
      if (lost !== undefined) expect(lost).toContain(`/${a.pid}/`);
      // Lost only once the ack wait ran out (2 s after the last heartbeat, which came at most ~0.7 s before the kill).
      expect(Date.parse(restarted[0]!.time) - killedAt).toBeGreaterThan(1000);
      const mine = readMarkers(c.markers).filter((m) => m.runId === runId && m.task === task);
      // The same attempt under the same idempotency key, run again by B.
      expect(
        mine.map(
          (m) =>
            `${m.key.split('/').slice(1).join('/')} ${m.what} ${m.pid === a.pid ? 'A' : m.pid === b.pid ? 'B' : m.pid}`,
        ),
      ).toEqual([`${task}/1 start A`, `${task}/1 start B`, `${task}/1 end B`]);
    }
    expect(b.output()).toMatch(/reporting it lost/);
  }, 60_000);

  it('nats-server killed and restarted while a worker runs a task: the attempt it finished is reported once the server is back, not lost', async () => {
    const c = await startChaosCluster();
    await deploy(c, join(FIXTURES, 'slow.yaml')); // no retry policy: a lost result would fail the run
    await c.launch('engine', ['--nats', c.url, 'engine']);
    await c.launch('worker', ['--nats', c.as('worker'), 'worker', '--handlers', HANDLERS]); // default ack wait (30 s)
    const { runId } = await c.client.start('slow-middle', { ms: 1200 });
    await waitFor('slow to start', () => readMarkers(c.markers).some((m) => m.task === 'slow' && m.what === 'start'), {
      timeout: 20_000,
      detail: c.logs,
    });
    await c.server.stop();
    await waitFor(
      'slow to finish while the server is down',
      () => readMarkers(c.markers).some((m) => m.task === 'slow' && m.what === 'end'),
      { detail: c.logs },
    );
    await c.server.restart();

    const view = await runReads(c.newClient().store).wait(runId, { timeoutMs: 30_000 });
    expect(view.status, c.logs()).toBe('COMPLETED');
    expect(view.tasks.slow).toMatchObject({ status: 'COMPLETED', attempts: 1, output: { slept: 1200 } });
    const events = await c.client.store.read(runId);
    expectSoundCompletedHistory(events, ['first', 'slow', 'last']);
    expect(events.filter((e) => e.type === 'task.failed')).toEqual([]);
    expect(
      readMarkers(c.markers)
        .filter((m) => m.task === 'slow')
        .map((m) => `${m.attempt} ${m.what}`),
    ).toEqual(['1 start', '1 end']);
  }, 60_000);

  it('a trigger delivered twice (and once more through emit) starts exactly one run; an event that fails its schema lands in lf.dlq.triggers with the reason', async () => {
    const c = await startChaosCluster();
    await deploy(c, join(ROOT, 'definitions', 'lead_qualification.yaml'));
    const engineArgs = [
      '--nats',
      c.url,
      'engine',
      '--handlers',
      join(ROOT, 'definitions', 'handlers', 'leads.ts'),
      '--events',
      join(ROOT, 'events'),
    ];
    // Two engines, so the deliveries may well be taken by different engines at once.
    await Promise.all(['engine-1', 'engine-2'].map((n) => c.launch(n, engineArgs)));

    const id = `lead-${Date.now()}`;
    const data = {
      lead_id: 'L-2026-0042',
      company: 'Nordwind Logistics GmbH',
      employees: 850,
      industry: 'logistics',
      source: 'referral',
      budget: 120000,
      currency: 'EUR',
      engagement: { website_visits: 14, email_opens: 6, content_downloads: 3, demo_requested: true },
    };
    const event = { id, type: 'lead_qualification', time: new Date().toISOString(), source: 'crm', data };
    // Raw publishes without a message id: JetStream's dedup cannot hide the second delivery.
    const js = jetstream(await c.connect());
    await js.publish('lf.triggers.lead_qualification', encode(event));
    await js.publish('lf.triggers.lead_qualification', encode(event));
    const emitted = await cli(
      [
        '--nats',
        c.url,
        'emit',
        'lead_qualification',
        '--id',
        id,
        '--time',
        event.time,
        '--source',
        'crm',
        '--data',
        JSON.stringify(data),
      ],
      { cwd: c.dir },
    );
    expect(emitted.stderr).toBe('');
    expect(emitted.code).toBe(0);
    // One that does not fit events/lead_qualification.yaml: no company, employees not an integer.
    const bad = await cli(
      [
        '--nats',
        c.url,
        'emit',
        'lead_qualification',
        '--id',
        `${id}-bad`,
        '--data',
        JSON.stringify({ ...data, company: undefined, employees: 'many' }),
      ],
      { cwd: c.dir },
    );
    // Published, and the engines' verdict comes back: refused by the schema, exit 2 with the reason.
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /the engines refused event \S+-bad \(schema\): event \S+-bad does not fit the schema of lead_qualification/,
    );

    // All four deliveries taken and acknowledged.
    const jsm = await c.jsm();
    await waitFor(
      'the engines to take every trigger delivery',
      async () => {
        const { state } = await jsm.streams.info(STREAMS.triggers.name);
        return state.last_seq === 4 && state.messages === 0;
      },
      { timeout: 20_000, detail: c.logs },
    );

    const runId = runIdForEvent(id, 'lead_qualification');
    const view = await c.runs.wait(runId, { timeoutMs: 30_000 });
    expect(view.status, c.logs()).toBe('COMPLETED');
    expect(view.output).toMatchObject({ route: expect.anything(), expected_value: expect.any(Number) });
    expect((await c.client.store.listRuns({ workflowId: 'lead_qualification' })).map((r) => r.runId)).toEqual([runId]);
    const events = await c.client.store.read(runId);
    expectSoundCompletedHistory(events, ['score_lead', 'compute_value', 'register_opportunity']);
    expect(events[0]).toMatchObject({
      type: 'run.started',
      data: { source: { event: id }, input: { received_at: event.time, event_id: id } },
    });

    const letters = await waitFor(
      'the refused event in lf.dlq.triggers',
      async () => {
        const l = await deadLetters(jsm, 'triggers');
        return l.length > 0 ? l : undefined;
      },
      { detail: c.logs },
    );
    expect(letters).toEqual([
      expect.objectContaining({
        stage: 'schema',
        reason: expect.stringMatching(/does not fit the schema of lead_qualification.*company/s),
        raw: expect.stringContaining(`${id}-bad`),
      }),
    ]);
    expect(String(letters[0]!.reason)).toMatch(/employees/);
    expect(await c.client.store.lastSeq(runIdForEvent(`${id}-bad`, 'lead_qualification'))).toBe(0);
  }, 60_000);

  it('every bad approval is refused, recorded in the audit trail where the run and task exist, and changes no state', async () => {
    const c = await startChaosCluster();
    await deploy(c, APPROVAL);
    await c.launch('engine', ['--nats', c.url, 'engine', '--handlers', HANDLERS]);
    const { runId } = await c.client.start('cluster-approval', {});
    const waiting = await c.runs.wait(runId, { orWaiting: true, timeoutMs: 20_000 });
    expect(waiting.status).toBe('WAITING');
    expect(waiting.tasks.sign!.status).toBe('PENDING_APPROVAL');

    const approve = (user: string, run: string, task: string, extra: string[] = []) =>
      cli(['--nats', c.as(user), 'approve', run, task, ...extra], { cwd: c.dir });
    const events = () => c.client.store.read(runId);
    /** Runs a bad approval and checks that the engine recorded its refusal and nothing else changed. */
    const expectRefused = async (
      publish: () => Promise<unknown>,
      refusal: { by: string; task: string; reason: RegExp },
    ) => {
      const beforeEvents = await events();
      const beforeView = (await c.runs.status(runId))!;
      await publish();
      const after = await waitFor(
        `the refusal of ${refusal.by}'s approval of ${refusal.task}`,
        async () => {
          const e = await events();
          return e.length > beforeEvents.length ? e : undefined;
        },
        { detail: c.logs },
      );
      expect(after.slice(0, beforeEvents.length)).toEqual(beforeEvents);
      expect(after.slice(beforeEvents.length)).toEqual([
        expect.objectContaining({
          type: 'approval.refused',
          state: beforeEvents.at(-1)!.state,
          data: expect.objectContaining({
            task: refusal.task,
            by: refusal.by,
            decision: 'approved',
            reason: expect.stringMatching(refusal.reason),
          }),
        }),
      ]);
      const afterView = (await c.runs.status(runId))!;
      expect(afterView.seq).toBe(beforeView.seq + 1);
      expect(withoutSeq(afterView)).toEqual(withoutSeq(beforeView));
    };

    // 1. An unknown run: dead-lettered with the reason; no run appears.
    const unknown = 'no-such-run-0001';
    const r1 = await approve('alice', unknown, 'sign');
    // Published; the engine's verdict comes back: refused (exit 2), with the reason.
    expect(r1.code).toBe(2);
    expect(r1.stderr).toMatch(/approval of sign by alice for run no-such-run-0001, which does not exist/);
    const jsm = await c.jsm();
    const letters = await waitFor(
      'the approval of an unknown run in lf.dlq.approvals',
      async () => {
        const l = await deadLetters(jsm, 'approvals');
        return l.length > 0 ? l : undefined;
      },
      { detail: c.logs },
    );
    expect(letters).toEqual([
      expect.objectContaining({
        runId: unknown,
        taskId: 'sign',
        by: 'alice',
        reason: expect.stringMatching(/does not exist/),
      }),
    ]);
    expect(await c.client.store.lastSeq(unknown)).toBe(0);

    // 2. A task the run does not have: refused with nothing appended to the run, dead-lettered with the reason.
    const beforeTypo = await events();
    const typo = await approve('alice', runId, 'no_such_task');
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/no task "no_such_task"/);
    const typoLetter = await waitFor(
      'the approval of a task the run does not have in lf.dlq.approvals',
      async () => (await deadLetters(jsm, 'approvals')).find((l) => l.taskId === 'no_such_task'),
      { detail: c.logs },
    );
    // The reason names what was refused: "approval of no_such_task by alice", not the message's verb.
    expect(typoLetter.reason).toMatch(/^approval of no_such_task by alice for run \S+: /);
    expect(await events()).toEqual(beforeTypo);

    // 3. alice posing as cfo: the server refuses the subject (nats.conf), so nothing reaches an engine.
    const logBefore = await events();
    await expect(c.clientAs('alice').decide(runId, 'countersign', 'approved', 'cfo')).rejects.toThrow(
      /may not publish approvals under that name.*[Pp]ermission/s,
    );
    const posing = await approve('alice', runId, 'sign', ['--as', 'cfo']); // the CLI refuses before publishing
    expect(posing.code).toBe(2);
    expect(posing.stderr).toMatch(/does not match the NATS user alice/);

    // 4. bob is a NATS user, but not an approver of sign. (Approvals of one run are taken in order:
    //    once bob's refusal is recorded, anything alice managed to publish as cfo would be too.)
    await expectRefused(() => approve('bob', runId, 'sign'), {
      by: 'bob',
      task: 'sign',
      reason: /bob may not decide task sign; its approvers are/,
    });
    expect((await events()).slice(0, logBefore.length)).toEqual(logBefore);
    expect((await events()).filter((e) => 'by' in e.data && e.data.by === 'cfo')).toEqual([]);

    // 5. alice signs (accepted), then signs again: the task was already decided.
    const ok = await approve('alice', runId, 'sign', ['--comment', 'fine']);
    expect(ok.code).toBe(0);
    const next = await waitFor(
      'the run to wait for the cfo',
      async () => {
        const v = await c.runs.status(runId);
        return v?.tasks.countersign?.status === 'PENDING_APPROVAL' ? v : undefined;
      },
      { detail: c.logs },
    );
    expect(next.tasks.sign).toMatchObject({ status: 'COMPLETED', output: expect.objectContaining({ by: 'alice' }) });
    await expectRefused(() => approve('alice', runId, 'sign'), {
      by: 'alice',
      task: 'sign',
      reason: /sign is COMPLETED, not waiting for approval/,
    });

    // The cfo countersigns; an approval after the run completed is refused as well, and a settled run's log takes nothing more.
    expect((await approve('cfo', runId, 'countersign')).code).toBe(0);
    expect((await c.runs.wait(runId, { timeoutMs: 10_000 })).status).toBe('COMPLETED');
    const settledLog = await events();
    const late = await approve('alice', runId, 'sign');
    expect(late.code).toBe(2);
    expect(late.stderr).toMatch(/the run is already settled; nothing was recorded/);
    expect(await events()).toEqual(settledLog);

    const all = await events();
    expect(replayRun(all).divergence).toBeNull();
    expect(all.filter((e) => e.type === 'approval.recorded').map((e) => e.data.by)).toEqual(['alice', 'cfo']);
    // alice's approval of a task the run does not have is not among them: it wrote nothing.
    expect(all.filter((e) => e.type === 'approval.refused').map((e) => e.data.by)).toEqual(['bob', 'alice']);
  }, 60_000);
});
