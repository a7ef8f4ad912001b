/**
 * `ledgerflow serve` as a user runs it: real processes on one embedded store.
 * Each case is something that does not happen without serve (a timer beyond
 * --max-wait, an approval nobody resumes, a run whose process died), and
 * every log is checked for an attempt started twice (two drivers at once).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../src/events/index.js';
import { FileEventStore } from '../../src/store/index.js';
import { cli, expectEveryRunReplays, ROOT, spawnCli, tempDir } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

const FIX = join(ROOT, 'test', 'fixtures', 'serve');
const T = 30_000;

interface Notice {
  kind: string;
  runId?: string;
  status?: string;
  pid?: number | null;
  message: string;
}
interface Proc {
  child: ChildProcess;
  notices: Notice[];
  stderr: () => string;
  exited: Promise<number | null>;
}

const procs: ChildProcess[] = [];
const sharedProcs: ChildProcess[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
});
afterAll(async () => {
  for (const p of sharedProcs.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  expect(await expectEveryRunReplays()).toBeGreaterThanOrEqual(6);
});

/** `shared`: a process that outlives one test (its describe stops it), so not killed after each test. */
function start(args: string[], env: Record<string, string> = {}, opts: { shared?: boolean } = {}): Proc {
  const child = spawnCli(args, { env });
  (opts.shared ? sharedProcs : procs).push(child);
  const notices: Notice[] = [];
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    const lines = out.split('\n');
    out = lines.pop()!;
    for (const l of lines) if (l.startsWith('{')) notices.push(JSON.parse(l) as Notice);
  });
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  return { child, notices, stderr: () => err, exited };
}

const serve = (store: string, env: Record<string, string> = {}, more: string[] = []) =>
  start(['--store', store, 'serve', '--json', ...more], env);

function notice(p: Proc, what: string, pred: (n: Notice) => boolean): Promise<Notice> {
  return waitFor(what, () => p.notices.find(pred), { timeout: T, detail: () => p.stderr() });
}

async function events(store: string, runId: string): Promise<EventEnvelope[]> {
  return new FileEventStore(store).read(runId);
}

async function statusOf(store: string, runId: string): Promise<string> {
  const runs = await new FileEventStore(store).listRuns();
  return runs.find((r) => r.runId === runId)?.status ?? 'missing';
}

/** How often a wait reads the store (it lists every run): a serve moves a run on in steps of its own scan, once a second. */
const STORE_POLL = 100;

function waitStatus(store: string, runId: string, status: string, p?: Proc): Promise<unknown> {
  return waitFor(`run ${runId} ${status}`, async () => (await statusOf(store, runId)) === status, {
    timeout: T,
    interval: STORE_POLL,
    detail: () => p?.stderr() ?? '',
  });
}

/** No attempt of any task (or MAP item) has two task.started: no two drivers ran it at once. */
function expectNoDoubleStarts(evs: EventEnvelope[]): void {
  const starts = evs
    .filter((e) => e.type === 'task.started')
    .map((e) =>
      JSON.stringify([
        (e.data as { task: string }).task,
        (e.data as { iteration?: number }).iteration,
        (e.data as { item?: number }).item,
        (e.data as { attempt: number }).attempt,
      ]),
    );
  expect(starts.length).toBe(new Set(starts).size);
}

function markers(file: string): string[][] {
  return existsSync(file)
    ? readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(' '))
    : [];
}

/** `ledgerflow run` that returns once the run waits on the outside world (exit 3); its run id. */
async function runWaiting(
  store: string,
  file: string,
  env: Record<string, string>,
  args: string[] = [],
): Promise<string> {
  const r = await cli(['--store', store, 'run', file, '--max-wait', '0', '--json', ...args], { env });
  expect(r.code, r.stderr).toBe(3);
  return (JSON.parse(r.stdout) as { runId: string }).runId;
}

/**
 * Runs that wait on the outside world, all started (and left) before one serve
 * comes up on their store: a backoff, approvals, a sub-workflow's child, an
 * approval's deadline. Each test is what that serve does for one of them; the
 * serve is started once for all (stopped with SIGTERM, exit 0, at the end).
 */
describe('ledgerflow serve, on a store whose runs wait for it', () => {
  let store: string;
  let env: Record<string, string>;
  let s: Proc;
  const ids = { backoff: '', approval: '', paused: '', cancelled: '', parent: '', child: '', deadline: '' };

  beforeAll(async () => {
    store = tempDir();
    env = { LF_MARKERS: join(store, 'markers') };
    const defs = join(store, 'definitions');
    mkdirSync(defs);
    writeFileSync(
      join(defs, 'parent.yaml'),
      `workflow:
  id: serve-parent
  name: Parent
  version: 1
  handlers: ${join(FIX, 'handlers.mjs')}
  tasks:
    - id: call
      type: SUB_WORKFLOW
      workflow: serve-child
    - id: last
      type: SIMPLE
      depends_on: [call]
`,
    );
    writeFileSync(
      join(defs, 'child.yaml'),
      readFileSync(join(FIX, 'approval.yaml'), 'utf8')
        .replace('id: serve-approval', 'id: serve-child')
        .replace('./handlers.mjs', join(FIX, 'handlers.mjs')),
    );
    // Each started by a `ledgerflow run` that returns once its run waits (they do not touch one another's runs: side by side).
    [ids.backoff, ids.approval, ids.paused, ids.cancelled, ids.parent, ids.deadline] = await Promise.all([
      runWaiting(store, join(FIX, 'backoff.yaml'), env),
      runWaiting(store, join(FIX, 'approval.yaml'), env),
      runWaiting(store, join(FIX, 'approval.yaml'), env),
      runWaiting(store, join(FIX, 'approval.yaml'), env),
      runWaiting(store, join(defs, 'parent.yaml'), env),
      runWaiting(store, join(FIX, 'deadline.yaml'), env),
    ]);
    ids.child = (await new FileEventStore(store).listRuns()).find((r) => r.workflowId === 'serve-child')!.runId;
    // Without serve they stay here: the backoff timer is in the log, nobody fires it; the sign-offs and the deadline wait.
    expect(await statusOf(store, ids.backoff)).toBe('RUNNING');
    expect((await events(store, ids.backoff)).some((e) => e.type === 'timer.fired')).toBe(false);
    expect(await statusOf(store, ids.approval)).toBe('WAITING');
    expect(await statusOf(store, ids.deadline)).toBe('WAITING');
    expect((await events(store, ids.deadline)).some((e) => e.type === 'timer.fired')).toBe(false);
    s = start(['--store', store, 'serve', '--json'], env, { shared: true });
  }, 60_000);

  afterAll(async () => {
    if (!s) return;
    if (s.child.exitCode !== null || s.child.signalCode !== null)
      throw new Error(`serve exited early (${s.child.exitCode ?? s.child.signalCode}): ${s.stderr()}`);
    s.child.kill('SIGTERM');
    const code = await Promise.race([s.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), T).unref())]);
    if (code === 'hung') s.child.kill('SIGKILL');
    expect(code).toBe(0);
  });

  it('finishes a run whose retry backoff is longer than the --max-wait of the process that started it', async () => {
    const runId = ids.backoff;
    await notice(s, 'serve to pick the run up', (n) => n.kind === 'run.driving' && n.runId === runId);
    await notice(s, 'the run to settle', (n) => n.kind === 'run.settled' && n.runId === runId);
    expect(await statusOf(store, runId)).toBe('COMPLETED');
    const evs = await events(store, runId);
    expect(evs.filter((e) => e.type === 'timer.fired').map((e) => (e.data as { timer: string }).timer)).toEqual([
      'backoff',
    ]);
    expectNoDoubleStarts(evs);
    expect(
      markers(env.LF_MARKERS!)
        .filter((m) => m[0] === 'flaky' && m[3] === 'start')
        .map((m) => m[1]),
    ).toEqual(['1', '2']);
    expect(s.stderr()).toContain('backoff timer of flaky fired');
  }, 60_000);

  it('an approval given by `ledgerflow approve` in another process moves the run on, with no resume', async () => {
    const runId = ids.approval;
    await notice(s, 'serve to pick the run up', (n) => n.kind === 'run.driving' && n.runId === runId);
    const a = await cli(['--store', store, 'approve', runId, 'sign_off', '--as', 'alice'], { env });
    expect(a.code, a.stderr).toBe(0);
    // Either the serve holds the run and acts on it (approve says so), or it did not at that moment and approve moved it on
    // itself (one step): never `resume`, which it used to advise, and which is refused while the serve drives the run.
    expect(a.stdout).toMatch(
      new RegExp(
        `driven by pid \\d+ \\(a ledgerflow serve, or the run command that started it\\), which acts on it now|run ${runId} COMPLETED`,
      ),
    );
    expect(a.stdout).not.toContain('ledgerflow resume');
    await waitStatus(store, runId, 'COMPLETED', s);
    const evs = await events(store, runId);
    expect(evs.map((e) => e.type)).toContain('approval.recorded');
    expect(evs.some((e) => e.type === 'task.completed' && (e.data as { task: string }).task === 'last')).toBe(true);
    expectNoDoubleStarts(evs);
  }, 60_000);

  it('acts on pause, resume and cancel from other processes: `resume` of a paused run it drives says so and exits 0', async () => {
    const [runId, other] = [ids.paused, ids.cancelled];
    await notice(s, 'serve to pick both runs up', () =>
      [runId, other].every((id) => s.notices.some((n) => n.kind === 'run.driving' && n.runId === id)),
    );
    expect((await cli(['--store', store, 'pause', runId, '--as', 'ops'], { env })).code).toBe(0);
    // Approved while paused: taken, but nothing new starts.
    expect((await cli(['--store', store, 'approve', runId, 'sign_off', '--as', 'alice'], { env })).code).toBe(0);
    expect(await statusOf(store, runId)).toBe('PAUSED');
    const r = await cli(['--store', store, 'resume', runId, '--as', 'ops'], { env });
    expect(r.code, r.stderr).toBe(0);
    // run.resumed is recorded; serve, which drives the run, continues it (resume says so, or finds it already
    // done), or, when serve let go of the paused run a moment before, resume takes the lease and finishes it itself.
    expect(r.stdout).toContain(`run ${runId} resumed (it was paused)`);
    expect(r.stdout).toMatch(new RegExp(`is driven by pid ${s.child.pid}|is already COMPLETED|run ${runId} COMPLETED`));
    await waitStatus(store, runId, 'COMPLETED', s);
    expect((await cli(['--store', store, 'cancel', other, '--reason', 'not needed'], { env })).code).toBe(0);
    await notice(
      s,
      'serve to see the cancelled run settle',
      (n) => n.kind === 'run.settled' && n.runId === other && n.status === 'CANCELLED',
    );
    expectNoDoubleStarts(await events(store, runId));
  }, 60_000);

  it("drives a sub-workflow's child through its parent: the child's approval moves child and parent on", async () => {
    const [runId, childId] = [ids.parent, ids.child];
    await notice(
      s,
      'serve to pick the parent up',
      (n) => (n.kind === 'run.driving' || n.kind === 'run.taken_over') && n.runId === runId,
    );
    await waitFor(
      'the child to be driven here (its lease held by serve)',
      () => existsSync(join(store, 'runs', `${childId}.driver`)),
      { timeout: T, detail: s.stderr },
    );
    expect((await cli(['--store', store, 'approve', childId, 'sign_off', '--as', 'alice'], { env })).code).toBe(0);
    await waitStatus(store, runId, 'COMPLETED', s);
    expect(await statusOf(store, childId)).toBe('COMPLETED');
    // The child is its parent's to drive: serve never picked it up on its own.
    expect(s.notices.some((n) => n.runId === childId)).toBe(false);
    expectNoDoubleStarts(await events(store, runId));
    expectNoDoubleStarts(await events(store, childId));
  }, 60_000);

  it("fires an approval's deadline on time (on_timeout: approve), with no resume", async () => {
    const runId = ids.deadline;
    await waitStatus(store, runId, 'COMPLETED', s);
    const evs = await events(store, runId);
    expect(evs.filter((e) => e.type === 'timer.fired').map((e) => (e.data as { timer: string }).timer)).toEqual([
      'approval_timeout',
    ]);
    expect(evs.some((e) => e.type === 'task.completed' && (e.data as { task: string }).task === 'last')).toBe(true);
    expectNoDoubleStarts(evs);
  }, 60_000);
});

describe('ledgerflow serve', () => {
  it('a second serve stands by, and takes over when the first is SIGKILLed: the due timer then fires, once', async () => {
    const store = tempDir();
    const env = { LF_MARKERS: join(store, 'markers') };
    const first = serve(store, env);
    await notice(first, 'the first serve to serve', (n) => n.kind === 'serving');
    const second = serve(store, env);
    const standby = await notice(second, 'the second to stand by', (n) => n.kind === 'standby');
    expect(standby.pid).toBe(first.child.pid);
    expect(second.notices.some((n) => n.kind === 'serving')).toBe(false);

    const runId = await runWaiting(store, join(FIX, 'backoff.yaml'), env);
    // Picked up, or taken over: a scan that meets the `run` process's lease as that process exits sees a lease
    // whose holder is gone (either way the first serve now drives the run).
    await notice(
      first,
      'the first serve to pick the run up',
      (n) => (n.kind === 'run.driving' || n.kind === 'run.taken_over') && n.runId === runId,
    );
    first.child.kill('SIGKILL');
    await first.exited;
    // Killed before the 3 s backoff was due: the timer is the second serve's to fire.
    expect((await events(store, runId)).some((e) => e.type === 'timer.fired')).toBe(false);

    await notice(second, 'the second serve to take over', (n) => n.kind === 'serving');
    // taken over (the first had its lease) or picked up (killed between its notice and taking the lease).
    await notice(
      second,
      'the second serve to take the run over',
      (n) => (n.kind === 'run.taken_over' || n.kind === 'run.driving') && n.runId === runId,
    );
    await waitStatus(store, runId, 'COMPLETED', second);
    const evs = await events(store, runId);
    expect(evs.filter((e) => e.type === 'timer.fired')).toHaveLength(1);
    expectNoDoubleStarts(evs);
    // The second serve never drove anything while the first was alive.
    expect(second.notices.findIndex((n) => n.kind === 'serving')).toBeGreaterThan(
      second.notices.findIndex((n) => n.kind === 'standby'),
    );
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 60_000);

  it('SIGTERM: an attempt that finishes within --grace is recorded, nothing new starts, exit 0; the next serve goes on', async () => {
    const store = tempDir();
    const release = join(store, 'release');
    const env = { LF_MARKERS: join(store, 'markers') };
    const runId = await runWaiting(store, join(FIX, 'gated-hold.yaml'), env, ['--release', release]);
    const s = serve(store, env, ['--grace', '30s']);
    await notice(s, 'serve to pick the run up', (n) => n.kind === 'run.driving' && n.runId === runId);
    expect((await cli(['--store', store, 'approve', runId, 'sign_off', '--as', 'alice'], { env })).code).toBe(0);
    await waitFor('hold to start', () => markers(env.LF_MARKERS).some((m) => m[0] === 'hold' && m[3] === 'start'), {
      timeout: T,
      detail: s.stderr,
    });
    s.child.kill('SIGTERM');
    await notice(s, 'serve to stop taking work', (n) => n.kind === 'stopping');
    writeFileSync(release, ''); // the attempt ends within the grace
    expect(await s.exited).toBe(0);
    expect(s.notices.at(-1)?.message).toContain('every attempt in flight finished');
    let evs = await events(store, runId);
    expect(evs.some((e) => e.type === 'task.completed' && (e.data as { task: string }).task === 'hold')).toBe(true);
    // Nothing new started while stopping: last is scheduled, not started, and nothing was restarted.
    expect(evs.some((e) => e.type === 'task.started' && (e.data as { task: string }).task === 'last')).toBe(false);
    expect(await statusOf(store, runId)).toBe('RUNNING');

    const next = serve(store, env);
    await waitStatus(store, runId, 'COMPLETED', next);
    evs = await events(store, runId);
    expect(evs.some((e) => e.type === 'task.restarted')).toBe(false);
    expectNoDoubleStarts(evs);
    next.child.kill('SIGTERM');
    expect(await next.exited).toBe(0);
  }, 60_000);

  it('SIGTERM: an attempt still running when --grace runs out stays in flight, given back (task.released); the next serve records task.restarted (resumed)', async () => {
    const store = tempDir();
    const release = join(store, 'release');
    const env = { LF_MARKERS: join(store, 'markers') };
    const runId = await runWaiting(store, join(FIX, 'gated-hold.yaml'), env, ['--release', release]);
    const s = serve(store, env, ['--grace', '300ms']);
    await notice(s, 'serve to pick the run up', (n) => n.kind === 'run.driving' && n.runId === runId);
    expect((await cli(['--store', store, 'approve', runId, 'sign_off', '--as', 'alice'], { env })).code).toBe(0);
    await waitFor('hold to start', () => markers(env.LF_MARKERS).some((m) => m[0] === 'hold' && m[3] === 'start'), {
      timeout: T,
      detail: s.stderr,
    });
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    expect(s.notices.at(-1)?.message).toContain('stay in flight');
    let evs = await events(store, runId);
    // Given back before serve exited (a clean stop, not a loss): still in flight, its restart not counted as one.
    expect(evs.at(-2)?.type).toBe('task.started');
    expect(evs.at(-1)).toMatchObject({ type: 'task.released', data: { task: 'hold', attempt: 1, restart: 0 } });
    expect(evs.some((e) => e.type === 'task.completed' && (e.data as { task: string }).task === 'hold')).toBe(false);
    expect(existsSync(join(store, 'serve.lock'))).toBe(false);

    writeFileSync(release, '');
    const next = serve(store, env);
    await notice(next, 'the next serve to take the run over', (n) => n.kind === 'run.taken_over' && n.runId === runId);
    await waitStatus(store, runId, 'COMPLETED', next);
    evs = await events(store, runId);
    const restarts = evs.filter((e) => e.type === 'task.restarted');
    expect(restarts.map((e) => [(e.data as { task: string }).task, (e.data as { reason: string }).reason])).toEqual([
      ['hold', 'resumed'],
    ]);
    expectNoDoubleStarts(evs);
    next.child.kill('SIGTERM');
    expect(await next.exited).toBe(0);
  }, 60_000);

  it('leaves a run to the live process driving it, and takes it over once that process is SIGKILLed', async () => {
    const store = tempDir();
    const release = join(store, 'release');
    const env = { LF_MARKERS: join(store, 'markers') };
    const s = serve(store, env);
    await notice(s, 'serve to serve', (n) => n.kind === 'serving');
    const run = start(['--store', store, 'run', join(FIX, 'hold.yaml'), '--release', release], env);
    await waitFor(
      'hold to start in the run process',
      () => markers(env.LF_MARKERS).some((m) => m[0] === 'hold' && m[3] === 'start' && m[4] === String(run.child.pid)),
      { timeout: T, detail: run.stderr },
    );
    const runId = (await new FileEventStore(store).listRuns())[0]!.runId;
    const busy = await notice(
      s,
      'serve to see the run is driven by the run process',
      (n) => n.kind === 'run.busy' && n.runId === runId,
    );
    expect(busy.pid).toBe(run.child.pid);
    expect(s.notices.some((n) => n.kind === 'run.driving' || n.kind === 'run.taken_over')).toBe(false);

    run.child.kill('SIGKILL');
    await run.exited;
    await notice(s, 'serve to take the run over', (n) => n.kind === 'run.taken_over' && n.runId === runId);
    await waitFor(
      'hold to start again in serve',
      () => markers(env.LF_MARKERS).some((m) => m[0] === 'hold' && m[3] === 'start' && m[4] === String(s.child.pid)),
      { timeout: T, detail: s.stderr },
    );
    writeFileSync(release, '');
    await waitStatus(store, runId, 'COMPLETED', s);
    const evs = await events(store, runId);
    expect(evs.filter((e) => e.type === 'task.restarted').map((e) => (e.data as { reason: string }).reason)).toEqual([
      'resumed',
    ]);
    expectNoDoubleStarts(evs);
    // first and last ran once each; hold's attempt 1 ran in the killed process and again in serve, under one key.
    const m = markers(env.LF_MARKERS);
    expect(m.filter((x) => x[0] === 'first' && x[3] === 'start')).toHaveLength(1);
    expect(m.filter((x) => x[0] === 'last' && x[3] === 'start')).toHaveLength(1);
    expect(new Set(m.filter((x) => x[0] === 'hold' && x[3] === 'start').map((x) => x[2])).size).toBe(1);
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
  }, 60_000);

  it('fires the schedules of --definitions once per slot and drives the runs they start; --no-schedules fires none', async () => {
    const store = tempDir();
    const env = { LF_MARKERS: join(store, 'markers') };
    // --no-schedules (below): the same folder, a new store, runs driven but no slot fired. Both serves at once (nothing shared).
    const quiet = tempDir();
    const noSchedules = (async () => {
      const q = serve(quiet, env, ['--definitions', join(FIX, 'scheduled'), '--no-schedules']);
      await notice(q, 'serve serving', (n) => n.kind === 'serving');
      // A run with a 3 s backoff settles under this serve: it has ticked for seconds meanwhile.
      const runId = await runWaiting(quiet, join(FIX, 'backoff.yaml'), env);
      await waitStatus(quiet, runId, 'COMPLETED', q);
      q.child.kill('SIGTERM');
      return q.exited;
    })();
    const p = serve(store, env, ['--definitions', join(FIX, 'scheduled')]);
    // Three slots fired and their runs completed: the scheduler records run.started, the service drives them.
    const done = await waitFor(
      'three scheduled runs completed',
      async () => {
        const runs = (await new FileEventStore(store).listRuns()).filter(
          (r) => r.workflowId === 'serve-every-second' && r.status === 'COMPLETED',
        );
        return runs.length >= 3 ? runs : undefined;
      },
      { timeout: T, interval: STORE_POLL, detail: () => p.stderr() },
    );
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    const slots: string[] = [];
    for (const r of done) {
      const evs = await events(store, r.runId);
      const source = (evs[0]!.data as { source?: { schedule?: { slot: string; trigger: number } } }).source;
      expect(source?.schedule?.trigger).toBe(0);
      slots.push(source!.schedule!.slot);
      expect(r.runId).toMatch(/^serve-every-second-s0-\d{8}T\d{6}Z$/);
      expectNoDoubleStarts(evs);
    }
    expect(new Set(slots).size).toBe(slots.length); // one run per slot
    const all = (await new FileEventStore(store).listRuns()).filter((r) => r.workflowId === 'serve-every-second');
    const allSlots = await Promise.all(
      all.map(
        async (r) =>
          ((await events(store, r.runId))[0]!.data as { source: { schedule: { slot: string } } }).source.schedule.slot,
      ),
    );
    expect(new Set(allSlots).size).toBe(allSlots.length);

    expect(await noSchedules).toBe(0);
    expect(existsSync(join(quiet, 'schedules.json'))).toBe(false);
    expect((await new FileEventStore(quiet).listRuns()).map((r) => r.workflowId)).toEqual(['serve-backoff']);
  }, 60_000);

  it('a broken definition there when it starts is skipped, said once at its line:col; one broken while it serves is reported once too; the other schedules keep firing', async () => {
    const store = tempDir();
    const defs = join(tempDir(), 'definitions');
    mkdirSync(defs);
    const cron = (id: string, schedule: string) =>
      `workflow:\n  id: ${id}\n  triggers:\n    - schedule: "${schedule}"\n  tasks:\n    - { id: mark, type: SET, values: { ok: true } }\n`;
    writeFileSync(join(defs, 'tick.yaml'), cron('serve-tick', '* * * * * *'));
    writeFileSync(join(defs, 'broken.yaml'), cron('broken', '61 * * * *'));
    const p = serve(store, {}, ['--definitions', defs]);
    const slotsAfter = async (t: number) => {
      const runs = (await new FileEventStore(store).listRuns()).filter((r) => r.workflowId === 'serve-tick');
      return runs.filter((r) => Date.parse(r.startedAt) > t).length;
    };
    // The one broken from the start is skipped: the good schedule fires.
    await waitFor('two slots fired', async () => (await slotsAfter(0)) >= 2, {
      timeout: T,
      interval: STORE_POLL,
      detail: () => p.stderr(),
    });
    const skipped = `skipped ${join(defs, 'broken.yaml')}:4:17: error: schedule "61 * * * *" of triggers[0] is not a cron expression`;
    expect(p.stderr()).toContain(skipped);
    // Another broken while it serves.
    writeFileSync(join(defs, 'later.yaml'), cron('later', '61 * * * *'));
    const broken = Date.now();
    // Three more slots of the good schedule fire while the broken file is there (it used to stop every schedule).
    await waitFor('slots fired after the break', async () => (await slotsAfter(broken + 500)) >= 3, {
      timeout: T,
      interval: STORE_POLL,
      detail: () => p.stderr(),
    });
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(p.stderr()).toContain(
      `${join(defs, 'later.yaml')}:4:17: error: schedule "61 * * * *" of triggers[0] is not a cron expression`,
    );
    // Each said once, not every tick.
    expect(p.stderr().split(`${join(defs, 'later.yaml')}:4:17`).length - 1).toBe(1);
    expect(p.stderr().split(skipped).length - 1).toBe(1);
    expect(p.stderr().split(`${join(defs, 'broken.yaml')}:4:17`).length - 1).toBe(1);
  }, 60_000);

  it('refuses --nats and a --grace that is not a duration (exit 2)', async () => {
    const store = tempDir();
    const [bad, nats] = await Promise.all([
      cli(['--store', store, 'serve', '--grace', 'soon']),
      cli(['--nats', 'nats://127.0.0.1:1', 'serve']),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--grace soon is not a duration');
    expect(nats.code).toBe(2);
    expect(nats.stderr).toContain('ledgerflow engine');
  });
});
