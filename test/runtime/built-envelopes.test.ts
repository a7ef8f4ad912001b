/**
 * Stores write commits the fold built itself without parsing them again
 * (isBuiltByFold). That shortcut is only sound if every such envelope would
 * pass the schema and be stored exactly as its parsed form: this drives every
 * kind of event the engine writes (starts, outcomes with awkward outputs and
 * errors, retries, timeouts, decisions, approvals, cancellations, both commit
 * modes) and checks each append against the schema. The states a built
 * commit carries (foldedStatesOf, read by the execution log instead of a
 * second fold) are checked against folding the log.
 */
import { describe, expect, it } from 'vitest';
import { CommitSchema, isBuiltByFold, type EventType } from '../../src/events/index.js';
import { foldEvents, foldedStatesOf, prepareCommit, type Handlers } from '../../src/runtime/index.js';
import { Engine } from '../../src/local/index.js';
import { MemoryEventStore, type AppendRequest } from '../../src/store/index.js';
import { checkAppend } from '../../src/store/common.js';
import { def } from '../helpers/engine.js';
import { untilAborted } from '../helpers/wait.js';

/** A memory store that checks every append: schema-valid, and stored as its parsed form. */
class CheckingStore extends MemoryEventStore {
  built = new Set<EventType>();
  parsed = new Set<EventType>();
  /** Commits that came with the states their fold made (foldedStatesOf), each checked against folding the log. */
  withStates = 0;
  override async append(req: AppendRequest) {
    const states = foldedStatesOf(req.events);
    if (states) {
      // What a reader of the commit (the execution log) takes instead of folding: the state folding the log reaches.
      const log = [...(await this.read(req.runId)), ...req.events];
      for (let i = 0; i < req.events.length; i++) {
        const folded = foldEvents(log.slice(0, req.expectedSeq + i + 1)).snapshot;
        expect({ status: states[i]!.status, value: states[i]!.value, context: states[i]!.context }).toEqual({
          status: folded.status,
          value: folded.value,
          context: folded.context,
        });
      }
      this.withStates++;
    }
    const parsed = CommitSchema.safeParse({ dedupId: req.dedupId, events: req.events });
    expect(parsed.success, parsed.success ? '' : parsed.error.message).toBe(true);
    expect(JSON.parse(checkAppend(req).json)).toEqual(JSON.parse(JSON.stringify(parsed.data)));
    for (const e of req.events) (isBuiltByFold(req.events) ? this.built : this.parsed).add(e.type);
    return super.append(req);
  }
}

class OddError extends Error {
  override get message(): string {
    return 42 as unknown as string;
  }
}

const workflow = def(`
workflow:
  id: every-event
  name: Every kind of event
  version: 1
  input: { required: [level] }
  tasks:
    - { id: shaped, type: SIMPLE }
    - { id: flaky, type: SIMPLE, depends_on: [shaped], retry_policy: { max_attempts: 3, backoff: fixed, initial_delay: 0ms } }
    - { id: slow, type: SIMPLE, depends_on: [flaky], timeout: 50ms, retry_policy: { max_attempts: 2, backoff: fixed, initial_delay: 0ms } }
    - id: route
      type: DECISION
      depends_on: [slow]
      decision_param: "\${workflow.input.level}"
      decision_cases:
        high: { next: [approve] }
        default: { next: [odd] }
    - { id: approve, type: HUMAN, approvers: [alice] }
    - { id: odd, type: SIMPLE, optional: true }
    - { id: hopeless, type: SIMPLE, depends_on: [odd], optional: true }
`);

const handlers: Handlers = {
  shaped: async () => ({
    when: new Date(Date.UTC(2026, 0, 1)),
    nested: [1, 'two', { three: null, gone: undefined }],
    big: 1e21,
    text: 'ünïcödé "quoted"',
  }),
  flaky: async (_i, ctx) => {
    if (ctx.attempt < 3) throw Object.assign(new Error(`attempt ${ctx.attempt}`), { code: 'FLAKY' });
    return 'third time';
  },
  // The first attempt runs until its timeout takes it back.
  slow: async (_i, ctx) => {
    if (ctx.attempt === 1) await untilAborted(ctx.signal);
    return null;
  },
  odd: async () => {
    throw new OddError();
  },
  hopeless: async () => undefined,
};

describe('envelopes the fold builds', () => {
  for (const commitWindowMs of [0, 1000]) {
    it(`pass the schema and are stored as their parsed form (commit window ${commitWindowMs} ms)`, async () => {
      const store = new CheckingStore();
      const engine = new Engine({ store });
      const low = await engine.run(workflow, { level: 'low' }, { handlers, commitWindowMs, maxTimerWaitMs: 5_000 });
      expect(low.status).toBe('COMPLETED');
      expect(low.tasks.odd!.error!.message).toBe('42');

      const high = await engine.run(workflow, { level: 'high' }, { handlers, commitWindowMs, maxTimerWaitMs: 5_000 });
      expect(high.status).toBe('WAITING');
      await engine.decide(high.runId, 'approve', 'approved', 'alice', 'fine');
      expect((await engine.drive(high.runId, { handlers, commitWindowMs })).status).toBe('COMPLETED');

      const cancelled = await engine.run(
        workflow,
        { level: 'high' },
        { handlers, commitWindowMs, maxTimerWaitMs: 5_000 },
      );
      await engine.cancel(cancelled.runId, { by: 'bob', reason: 'not needed' });

      expect([...store.built].sort()).toEqual([
        'run.started',
        'task.completed',
        'task.failed',
        'task.started',
        'timer.fired',
      ]);
      expect(store.withStates).toBeGreaterThan(10);
      // What a caller supplies (who approves, who cancels) is parsed like any outside input.
      expect([...store.parsed].sort()).toEqual(['approval.recorded', 'run.cancelled']);
    });
  }

  it('a copy of a built commit is not built: what a caller assembles is parsed', async () => {
    const store = new MemoryEventStore();
    const engine = new Engine({ store });
    const view = await engine.run(workflow, { level: 'high' }, { handlers, maxTimerWaitMs: 5_000 });
    const { compiled, snapshot, seq } = await engine.load(view.runId);
    const prepared = prepareCommit(
      compiled,
      snapshot,
      seq,
      [{ type: 'run.cancelled', time: new Date().toISOString(), data: { by: 'x' } }],
      Date.now(),
    );
    expect(isBuiltByFold(prepared.events)).toBe(true);
    for (const copy of [
      [...prepared.events],
      prepared.events.slice(),
      Array.from(prepared.events),
      Object.assign([], prepared.events),
    ]) {
      expect(isBuiltByFold(copy)).toBe(false);
      copy.push({ ...copy[0]!, seq: seq + 2, state: { status: 'NOPE', hash: 1 } } as never);
      await expect(
        store.append({ runId: view.runId, expectedSeq: seq, dedupId: 'copy', events: copy }),
      ).rejects.toThrow(/invalid commit/);
    }
    expect(await store.lastSeq(view.runId)).toBe(seq);
  });

  it('a malformed envelope is still refused, even next to built ones', async () => {
    const store = new MemoryEventStore();
    const engine = new Engine({ store });
    const view = await engine.run(workflow, { level: 'high' }, { handlers, maxTimerWaitMs: 5_000 });
    const events = await store.read(view.runId);
    const bad = { ...events[1]!, runId: view.runId, seq: view.seq + 1, state: { status: 'NOPE', hash: 1 } };
    await expect(
      store.append({ runId: view.runId, expectedSeq: view.seq, dedupId: 'bad', events: [bad as never] }),
    ).rejects.toThrow(/invalid commit/);
    expect(await store.lastSeq(view.runId)).toBe(view.seq);
  });
});
