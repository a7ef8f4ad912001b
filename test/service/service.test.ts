/**
 * Service (src/serve) as a library: the tick hook is where a scheduler plugs
 * in, and the runs a hook starts are found and driven like any other; the
 * driver's drain and drive-until-settled, which serve is built on.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { Handlers } from '../../src/runtime/index.js';
import { Engine } from '../../src/local/index.js';
import { Service, type ServiceNotice } from '../../src/service/index.js';
import { FileEventStore, MemoryEventStore } from '../../src/store/index.js';
import { def } from '../helpers/engine.js';
import { gate, waitFor } from '../helpers/wait.js';

const twoSteps = def(`
workflow:
  id: two-steps
  name: Two steps
  version: 1
  tasks:
    - id: a
      type: SIMPLE
    - id: b
      type: SIMPLE
      depends_on: [a]
`);

const gated = def(`
workflow:
  id: gated
  name: A sign-off, then a step
  version: 1
  tasks:
    - id: sign_off
      type: HUMAN
      approvers: [alice]
    - id: b
      type: SIMPLE
      depends_on: [sign_off]
`);

function fileEngine(): { engine: Engine; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'lf-service-'));
  const store = new FileEventStore(dir);
  onTestFinished(() => store.close());
  return { engine: new Engine({ store }), dir };
}

describe('Service', () => {
  it('drives many runs at once without a MaxListenersExceededWarning on stderr', async () => {
    const { engine, dir } = fileEngine();
    const warnings: Error[] = [];
    const onWarning = (w: Error) => {
      warnings.push(w);
    };
    process.on('warning', onWarning);
    onTestFinished(() => {
      process.off('warning', onWarning);
    });
    // Twelve runs waiting for a sign-off: the service drives all twelve at once (each listens on its stop and drain signals).
    const ids = await Promise.all(
      Array.from({ length: 12 }, (_, i) => engine.start(gated, {}, { runId: `gated-${i}` })),
    );
    const service = new Service({ engine, storeDir: dir, handlers: { b: async () => ({ ok: 1 }) } });
    onTestFinished(() => service.stop().then(() => undefined));
    expect(await service.start()).toBe(true);
    await waitFor('all twelve driven', () => ids.every((id) => service.runs.includes(id)));
    await new Promise((r) => setImmediate(r)); // a warning is emitted on the next tick
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message)).toEqual([]);
  });

  it('reads a settled run once, not on every rescan (a large store costs a readdir per scan), and still drives a run started later', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lf-service-'));
    // Counts the summaries the service reads, per run.
    const reads = new Map<string, number>();
    class CountingStore extends FileEventStore {
      override async summary(runId: string) {
        reads.set(runId, (reads.get(runId) ?? 0) + 1);
        return super.summary(runId);
      }
    }
    const store = new CountingStore(dir);
    onTestFinished(() => store.close());
    const engine = new Engine({ store });
    const handlers: Handlers = { a: async () => ({ ok: 1 }), b: async () => ({ ok: 2 }) };
    const settled = await Promise.all(
      Array.from({ length: 5 }, (_, i) => engine.run(twoSteps, {}, { handlers, runId: `done-${i}` })),
    );
    expect(settled.map((v) => v.status)).toEqual(Array(5).fill('COMPLETED'));
    const notices: ServiceNotice[] = [];
    const service = new Service({ engine, storeDir: dir, handlers, rescanMs: 10, onNotice: (n) => notices.push(n) });
    onTestFinished(() => service.stop().then(() => undefined));
    expect(await service.start()).toBe(true);
    await waitFor('the first scan', () => reads.size === 5);
    // Many rescans later (every 10 ms), a run started meanwhile is found and driven...
    const late = await engine.start(twoSteps, {}, { runId: 'late-one' });
    await waitFor('the late run to settle', () => notices.find((n) => n.kind === 'run.settled' && n.runId === late));
    await waitFor('more rescans', () => (reads.get(late) ?? 0) >= 1 && notices.length > 0);
    // ...while each settled run was read exactly once.
    expect([...reads].filter(([id]) => id.startsWith('done-')).map(([, n]) => n)).toEqual([1, 1, 1, 1, 1]);
  });

  it('calls its tick hooks with the time, and drives to completion the runs a hook starts', async () => {
    const { engine, dir } = fileEngine();
    const handlers: Handlers = { a: async () => ({ ok: 1 }), b: async () => ({ ok: 2 }) };
    const ticks: Date[] = [];
    let runId: string | undefined;
    const notices: ServiceNotice[] = [];
    const service = new Service({
      engine,
      storeDir: dir,
      handlers,
      tickMs: 20,
      onNotice: (n) => notices.push(n),
      // What a scheduler's fireDue does: record the start of a run; the service finds and drives it.
      onTick: async (now) => {
        ticks.push(now);
        if (ticks.length === 2) runId = await engine.start(twoSteps, {}, { runId: 'two-steps-s0-20260101T090000Z' });
      },
    });
    onTestFinished(() => service.stop().then(() => undefined));
    expect(await service.start()).toBe(true);
    await waitFor('the run the hook started to settle', () =>
      notices.find((n) => n.kind === 'run.settled' && n.runId === runId),
    );
    expect((await engine.status(runId!)).status).toBe('COMPLETED');
    expect(ticks.every((t) => t instanceof Date)).toBe(true);
    expect((await service.stop()).interrupted).toEqual([]);
  });

  it('leaves the notifications of a run another live process drives to that process: looked at only once it takes the run up', async () => {
    const { engine, dir } = fileEngine();
    const runId = await engine.start(gated, {}, { runId: 'gated-leased' });
    // Another live process holds the run's lease (as `ledgerflow run` does while it drives and delivers).
    const holder = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    onTestFinished(() => {
      holder.kill('SIGKILL');
    });
    writeFileSync(
      join(dir, 'runs', `${runId}.driver`),
      JSON.stringify({
        pid: holder.pid,
        time: new Date().toISOString(),
        host: hostname(),
        pidns: readlinkSync('/proc/self/ns/pid'),
      }),
    );
    const caughtUp: string[] = [];
    const notices: ServiceNotice[] = [];
    const service = new Service({
      engine,
      storeDir: dir,
      handlers: { b: async () => ({ ok: 1 }) },
      notifier: {
        catchUp: (history) => {
          caughtUp.push(history[0]!.runId);
        },
      },
      onNotice: (n) => {
        notices.push(n);
      },
    });
    onTestFinished(() => service.stop().then(() => undefined));
    expect(await service.start()).toBe(true);
    await waitFor('the run seen as driven elsewhere', () =>
      notices.some((n) => n.kind === 'run.busy' && n.runId === runId),
    );
    // Delivering here too would send each notification twice while the holder delivers it.
    expect(caughtUp).toEqual([]);
    const gone = new Promise((r) => holder.once('exit', r));
    holder.kill('SIGKILL');
    await gone;
    await waitFor('the run taken over', () => service.runs.includes(runId));
    await waitFor('its owed notifications looked at by the new driver', () => caughtUp.includes(runId));
  });

  it('a second service on the same store stands by until the first stops, then takes the store', async () => {
    const { engine, dir } = fileEngine();
    const first = new Service({ engine, storeDir: dir, handlers: {} });
    expect(await first.start()).toBe(true);
    const seen: ServiceNotice[] = [];
    const second = new Service({
      engine,
      storeDir: dir,
      handlers: {},
      standbyPollMs: 10,
      onNotice: (n) => seen.push(n),
    });
    const started = second.start();
    await waitFor('the second to stand by', () => seen.some((n) => n.kind === 'standby'));
    expect(second.active).toBe(false);
    await first.stop();
    expect(await started).toBe(true);
    expect(second.active).toBe(true);
    await second.stop();
  });
});

describe('drive until settled, and drain', () => {
  it('untilSettled keeps driving a run that waits for a person, and acts on the approval recorded meanwhile', async () => {
    const store = new MemoryEventStore();
    const engine = new Engine({ store });
    const runId = await engine.start(gated, {});
    let returned = false;
    const driven = engine
      .drive(runId, { handlers: { b: async () => ({ done: true }) }, untilSettled: true })
      .then((v) => {
        returned = true;
        return v;
      });
    await waitFor(
      'the approval to be pending',
      async () => (await engine.status(runId)).tasks.sign_off?.status === 'PENDING_APPROVAL',
    );
    expect(returned).toBe(false);
    await engine.decide(runId, 'sign_off', 'approved', 'alice');
    expect((await driven).status).toBe('COMPLETED');
  });

  it('drain: the attempt in flight finishes and is recorded, the next task is not started; the next drive starts it, restarting nothing', async () => {
    const store = new MemoryEventStore();
    const engine = new Engine({ store });
    const runId = await engine.start(twoSteps, {});
    const aStarted = gate();
    const aHeld = gate();
    const handlers: Handlers = {
      a: async () => {
        aStarted.open();
        await aHeld.opened;
        return { ok: 1 };
      },
      b: async () => ({ ok: 2 }),
    };
    const drain = new AbortController();
    const drive = engine.drive(runId, { handlers, untilSettled: true, drain: drain.signal });
    await aStarted.opened;
    drain.abort();
    aHeld.open();
    const view = await drive;
    expect(view.status).toBe('RUNNING');
    let events = await store.read(runId);
    expect(events.filter((e) => e.type === 'task.completed').map((e) => (e.data as { task: string }).task)).toEqual([
      'a',
    ]);
    expect(events.some((e) => e.type === 'task.started' && (e.data as { task: string }).task === 'b')).toBe(false);
    expect((await engine.drive(runId, { handlers: { b: async () => ({ ok: 2 }) } })).status).toBe('COMPLETED');
    events = await store.read(runId);
    expect(events.some((e) => e.type === 'task.restarted')).toBe(false);
  });

  it('a run it cannot drive (a handler missing) is told taken up once, and its error at every retry, each further apart', async () => {
    const { engine, dir } = fileEngine();
    const runId = await engine.start(twoSteps, {}, { runId: 'no-handler' });
    const notices: ServiceNotice[] = [];
    const service = new Service({
      engine,
      storeDir: dir,
      handlers: {},
      rescanMs: 10,
      onNotice: (n) => notices.push(n),
    });
    onTestFinished(() => service.stop().then(() => undefined));
    await service.start();
    const failed = () => notices.filter((n) => n.kind === 'run.error' && n.runId === runId);
    await waitFor('five failed drives', () => failed().length >= 5);
    expect(
      notices.filter((n) => (n.kind === 'run.driving' || n.kind === 'run.taken_over') && n.runId === runId),
    ).toHaveLength(1);
    // The same failure again waits twice as long as the last, up to six times the first (10 rescans): a run that
    // cannot be driven is not said every 10 s for as long as serve runs.
    expect(
      failed()
        .slice(0, 5)
        .map((n) => /tried again in (\d+) ms/.exec(n.message)?.[1]),
    ).toEqual(['100', '200', '400', '600', '600']);
  });
});
