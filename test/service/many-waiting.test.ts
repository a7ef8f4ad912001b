/**
 * serve holding many runs waiting for a person (bench scale: 10,000 and more waiting runs stalled it): every run is
 * taken up and drained on stop, and what each waiting run costs serve over time stays bounded (its log's fallback poll
 * is spread over more periods as followers grow, from one timer, instead of a stat of every log every 200 ms).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { Engine } from '../../src/local/index.js';
import { Service, type ServiceNotice } from '../../src/service/index.js';
import { FileEventStore } from '../../src/store/index.js';
import { RunsWatcher } from '../../src/store/file-follow.js';
import { VirtualClock } from '../../src/coverage/clock.js';
import { def } from '../helpers/engine.js';
import { waitFor } from '../helpers/wait.js';

const approval = def(`
workflow:
  id: many-waiting
  version: 1
  tasks:
    - { id: breath, type: WAIT, duration: 10ms }
    - { id: sign_off, type: HUMAN, approvers: [alice], depends_on: [breath] }
`);

describe('serve with many waiting runs', () => {
  it('takes up 1,500 runs waiting on an approval written by another process, and drains them all on stop', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lf-many-waiting-'));
    const store = new FileEventStore(dir);
    const engine = new Engine({ store });
    onTestFinished(() => store.close());
    const made = await engine.run(approval, {}, { handlers: {}, follow: false });
    expect(made.status).toBe('WAITING');
    const template = readFileSync(join(dir, 'runs', `${made.runId}.jsonl`), 'utf8');
    const ids = Array.from({ length: 1500 }, (_, i) => `m${String(i).padStart(5, '0')}`);
    for (const id of ids) writeFileSync(join(dir, 'runs', `${id}.jsonl`), template.split(made.runId).join(id));
    const driving = new Set<string>();
    const service = new Service({
      engine,
      storeDir: dir,
      handlers: {},
      onNotice: (n: ServiceNotice) => {
        if (n.kind === 'run.driving' && n.runId) driving.add(n.runId);
      },
    });
    onTestFinished(() => service.stop().then(() => undefined));
    expect(await service.start()).toBe(true);
    // The first run too: taken up 256 at a time, it may come last (stopped before, it is not drained: nothing held it).
    await waitFor('every waiting run taken up', () => [made.runId, ...ids].every((id) => driving.has(id)), {
      timeout: 60_000,
    });
    const report = await service.stop();
    expect(report.interrupted).toEqual([]);
    expect(report.drained).toBe(ids.length + 1);
  }, 90_000);

  it('a run waiting on a timer an hour off is held without a driver, woken just before it is due, and fires on time', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lf-parked-timer-'));
    const store = new FileEventStore(dir);
    // Time moves only when the test says: the first timer to fire tells whether the run was parked (woken early).
    const clock = new VirtualClock(Date.UTC(2026, 0, 1, 9), { auto: false });
    onTestFinished(() => clock.stop());
    const engine = new Engine({ store, clock });
    onTestFinished(() => store.close());
    const hour = def(`
workflow:
  id: an-hour-later
  version: 1
  tasks:
    - { id: pause, type: WAIT, duration: 1h }
    - { id: done, type: SET, value: { late: true }, depends_on: [pause] }
`);
    const made = await engine.run(hour, {}, { handlers: {}, follow: false });
    expect(made.status).toBe('WAITING');
    const due = Date.parse(made.timers[0]!.dueAt);
    const notices: ServiceNotice[] = [];
    const service = new Service({ engine, storeDir: dir, handlers: {}, onNotice: (n) => notices.push(n) });
    onTestFinished(() => service.stop().then(() => undefined));
    expect(await service.start()).toBe(true);
    // Parked: the one timer armed is its wake-up, a second before the WAIT's (a driver holding it arms `due`).
    await waitFor('the run parked', () => service.runs.includes(made.runId) && clock.nextDue === due - 1000);
    expect(clock.pending).toBe(1);
    expect(clock.fireNext()).toBe(true);
    expect(clock.now()).toBe(due - 1000);
    // Woken, driven again: its driver arms the timer, which fires at its due time, not before.
    await waitFor('the timer armed again', () => clock.nextDue === due);
    expect(clock.fireNext()).toBe(true);
    await waitFor('the run settled', () => notices.some((n) => n.kind === 'run.settled' && n.runId === made.runId));
    const events = await store.read(made.runId);
    const fired = events.find((e) => e.type === 'timer.fired')!;
    expect(Date.parse(fired.time)).toBeGreaterThanOrEqual(due);
    expect(events.filter((e) => e.type === 'timer.fired')).toHaveLength(1);
    expect(notices.find((n) => n.runId === made.runId && n.kind === 'run.settled')?.status).toBe('COMPLETED');
  });

  it('polls a bounded number of logs per period however many runs are followed, each in turn', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lf-poll-budget-'));
    // A period of an hour: the test runs the periods itself.
    const watcher = new RunsWatcher(dir, 3_600_000);
    const woken = new Map<number, number>();
    const removers = Array.from({ length: 1200 }, (_, i) =>
      watcher.add(`r${i}.jsonl`, () => woken.set(i, (woken.get(i) ?? 0) + 1)),
    );
    const period = () => {
      const before = [...woken.values()].reduce((a, b) => a + b, 0);
      watcher.poll();
      return [...woken.values()].reduce((a, b) => a + b, 0) - before;
    };
    // 1,200 followers while watched: 500 polls a period, each follower in turn.
    expect(period()).toBe(500);
    expect(woken.size).toBe(500);
    expect(period()).toBe(500);
    expect(period()).toBe(500);
    expect(woken.size).toBe(1200);
    expect(Math.max(...woken.values())).toBe(2);
    for (const remove of removers.slice(0, 800)) {
      remove();
      remove(); // twice is once
    }
    woken.clear();
    expect(period()).toBe(400);
    expect([...woken.keys()].every((i) => i >= 800)).toBe(true);
    watcher.close();
    // Unwatched, polling is all there is: every follower every period.
    woken.clear();
    expect(period()).toBe(400);
    expect(woken.size).toBe(400);
  });
});
