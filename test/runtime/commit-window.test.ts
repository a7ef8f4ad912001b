/**
 * Commit windows: with `commitWindowMs`, the steps of in-process handlers
 * gather in one commit (Temporal's local activities), and what a crash can
 * lose is bounded by the window. Without one, every step is durable before
 * its effects start.
 */
import { describe, expect, it } from 'vitest';
import { replayRun, type Handlers } from '../../src/runtime/index.js';
import { Engine } from '../../src/local/index.js';
import { MemoryEventStore, type AppendRequest } from '../../src/store/index.js';
import { def, expectReplayMatches, virtualClock } from '../helpers/engine.js';
import { gate, untilAborted, waitFor } from '../helpers/wait.js';

const five = def(`
workflow:
  id: five
  name: Five steps
  version: 1
  tasks:
    - { id: s1, type: SIMPLE }
    - { id: s2, type: SIMPLE, depends_on: [s1] }
    - { id: s3, type: SIMPLE, depends_on: [s2] }
    - { id: s4, type: SIMPLE, depends_on: [s3] }
    - { id: s5, type: SIMPLE, depends_on: [s4] }
`);

/** A memory store that remembers each commit's event types. */
function recordingStore() {
  const store = new MemoryEventStore();
  const commits: string[][] = [];
  const append = store.append.bind(store);
  store.append = async (req: AppendRequest) => {
    const r = await append(req);
    commits.push(req.events.map((e) => e.type));
    return r;
  };
  return { store, commits };
}

const instant: Handlers = Object.fromEntries(['s1', 's2', 's3', 's4', 's5'].map((s) => [s, async () => ({ step: s })]));
const FIVE_STEP_TYPES = [
  'run.started',
  ...['s1', 's2', 's3', 's4', 's5'].flatMap(() => ['task.started', 'task.completed']),
];

describe('commit window', () => {
  it('without a window, each step is its own commit and the first starts go with run.started', async () => {
    const { store, commits } = recordingStore();
    const view = await new Engine({ store }).run(five, {}, { handlers: instant });
    expect(view.status).toBe('COMPLETED');
    expect(commits).toEqual([
      ['run.started', 'task.started'],
      ['task.completed', 'task.started'],
      ['task.completed', 'task.started'],
      ['task.completed', 'task.started'],
      ['task.completed', 'task.started'],
      ['task.completed'],
    ]);
  });

  it('with a window, fast in-process steps land in one commit after the start, with the same events and a replay that matches', async () => {
    const { store, commits } = recordingStore();
    const e = new Engine({ store });
    const view = await e.run(five, {}, { handlers: instant, commitWindowMs: 1_000 });
    expect(view.status).toBe('COMPLETED');
    expect(commits).toHaveLength(2);
    expect(commits[0]).toEqual(['run.started', 'task.started']);
    const events = await store.read(view.runId);
    expect(events.map((ev) => ev.type)).toEqual(FIVE_STEP_TYPES);
    expect(events.map((ev) => ev.seq)).toEqual(events.map((_, i) => i + 1));
    await expectReplayMatches(e, view);
    expect(view.output).toEqual({});
    expect(view.tasks.s5).toMatchObject({ status: 'COMPLETED', output: { step: 's5' } });
  });

  it('a handler slower than the window gets its start appended while it runs', async () => {
    const { store, commits } = recordingStore();
    // Virtual time: while s3 runs nothing else happens, so the clock jumps to the window's end.
    const e = new Engine({ store, clock: virtualClock() });
    let seenWhileRunning: string[] = [];
    const seen = async (runId: string) =>
      (await store.read(runId)).map((ev) => `${ev.type}${'task' in ev.data ? ` ${String(ev.data.task)}` : ''}`);
    const handlers: Handlers = {
      ...instant,
      s3: async (_input, ctx) => {
        // s3 outlasts the window: it finishes only once its own start is in the log.
        await waitFor("s3's start to be appended while s3 runs", async () =>
          (await seen(ctx.runId)).includes('task.started s3'),
        );
        seenWhileRunning = await seen(ctx.runId);
        return {};
      },
    };
    const view = await e.run(five, {}, { handlers, commitWindowMs: 30 });
    expect(view.status).toBe('COMPLETED');
    // The 30 ms window closed while s3 ran: s1, s2 and s3's start were durable before s3 finished.
    expect(seenWhileRunning.at(-1)).toBe('task.started s3');
    expect(commits.length).toBe(3);
    await expectReplayMatches(e, view);
  });

  it('a cancel appended by someone else while a group is open wins: the group is folded again onto it and its results are stale', async () => {
    const { store } = recordingStore();
    const e = new Engine({ store });
    const stale: string[] = [];
    const s2Held = gate();
    let s2Running = false;
    const handlers: Handlers = {
      ...instant,
      s2: async () => {
        s2Running = true;
        await s2Held.opened;
        return {};
      },
    };
    const running = e.run(
      five,
      {},
      { handlers, commitWindowMs: 60_000, onStale: (ev, reason) => stale.push(`${ev.type}: ${reason}`) },
    );
    await waitFor('s2 to be running', () => s2Running);
    const [summary] = await store.listRuns();
    // s1's completion and s2's start are folded but not appended: the log still ends at the start commit.
    expect((await store.read(summary!.runId)).map((ev) => ev.type)).toEqual(['run.started', 'task.started']);
    await e.cancel(summary!.runId, { by: 'ops', reason: 'test' });
    s2Held.open();
    const view = await running;
    expect(view.status).toBe('CANCELLED');
    const events = await store.read(view.runId);
    expect(events.map((ev) => ev.type)).toEqual(['run.started', 'task.started', 'run.cancelled']);
    expect(stale.some((s) => s.startsWith('task.completed'))).toBe(true);
    expect(replayRun(events).divergence).toBeNull();
  });

  it('stopping with a group open still appends it: what finished is kept, and resume runs only the interrupted attempt again', async () => {
    const { store } = recordingStore();
    const e = new Engine({ store });
    const keys: string[] = [];
    const stop = new AbortController();
    const handlers: Handlers = Object.fromEntries(
      ['s1', 's2', 's3', 's4', 's5'].map((s) => [
        s,
        async (_i, ctx) => {
          keys.push(ctx.idempotencyKey);
          // Stopping takes the attempt back at once: s3 returns only after that, a result no longer wanted.
          if (s === 's3' && keys.filter((k) => k.includes('/s3/')).length === 1) {
            stop.abort();
            await untilAborted(ctx.signal);
          }
          return {};
        },
      ]),
    );
    const first = await e.run(five, {}, { handlers, commitWindowMs: 60_000, signal: stop.signal });
    expect(first.status).toBe('RUNNING');
    expect((await store.read(first.runId)).map((ev) => ev.type)).toEqual([
      'run.started',
      'task.started',
      'task.completed',
      'task.started',
      'task.completed',
      'task.started',
    ]);
    const resumed = await e.drive(first.runId, { handlers, commitWindowMs: 60_000 });
    expect(resumed.status).toBe('COMPLETED');
    const id = first.runId;
    expect(keys).toEqual([`${id}/s1/1`, `${id}/s2/1`, `${id}/s3/1`, `${id}/s3/1`, `${id}/s4/1`, `${id}/s5/1`]);
  });

  it('a group that never reaches the log (the process died) is lost whole: resume runs its attempts again with the same idempotency keys', async () => {
    const store = new MemoryEventStore();
    let appends = 0;
    // Dies on its second append: the group holding s1..s5 never becomes durable.
    const dying = Object.assign(Object.create(store) as MemoryEventStore, {
      append: (req: AppendRequest) => (++appends === 2 ? Promise.reject(new Error('power cut')) : store.append(req)),
    });
    const keys: string[] = [];
    const handlers: Handlers = Object.fromEntries(
      ['s1', 's2', 's3', 's4', 's5'].map((s) => [
        s,
        async (_i, ctx) => {
          keys.push(ctx.idempotencyKey);
          return {};
        },
      ]),
    );
    await expect(new Engine({ store: dying }).run(five, {}, { handlers, commitWindowMs: 60_000 })).rejects.toThrow(
      'power cut',
    );
    const [run] = await store.listRuns();
    expect((await store.read(run!.runId)).map((ev) => ev.type)).toEqual(['run.started', 'task.started']);
    const resumed = await new Engine({ store }).drive(run!.runId, { handlers, commitWindowMs: 60_000 });
    expect(resumed.status).toBe('COMPLETED');
    const perTask = ['s1', 's2', 's3', 's4', 's5'].map((t) => keys.filter((k) => k === `${run!.runId}/${t}/1`).length);
    expect(perTask).toEqual([2, 2, 2, 2, 2]);
  });
});
