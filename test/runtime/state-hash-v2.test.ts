/**
 * State hash format 2 (docs/architecture-notes.md, "Long runs and the state
 * hash"; src/runtime/state-hash.ts): what every run started since 2026-11-23
 * records. Checked here against its definition written out independently
 * (sha256 of the documented text, with node:crypto), on random states of a
 * short run and of a long one (whose tasks the fold keeps in chunks), with the
 * caches warm and off; pinned to the hash it gave when introduced; and, as for
 * the golden histories' altered copies, a checked replay of a format-2 run
 * must report a changed event at exactly its seq. Format 1 logs are the
 * golden histories (golden-histories.test.ts, recorded-state.test.ts).
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { compile, type MachineInput } from '../../src/compiler/index.js';
import { baseInput, outputVariants, planDecisions } from '../../src/coverage/outputs.js';
import type { EventEnvelope } from '../../src/events/index.js';
import { NEW_RUN_STATE_HASH_VERSION, recordedState, replayRun, type RunSnapshot } from '../../src/runtime/index.js';
import { setStateHashCacheEnabled } from '../../src/runtime/state-hash-cache.js';
import { prng, RandomEvents } from '../compiler/random-events.js';
import { expectBoundedStateHashCache } from '../helpers/state-hash.js';
import { def, engine, runToIdle } from '../helpers/engine.js';

const h16 = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);
const chunks = <T>(items: readonly T[]): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += 64) out.push(items.slice(i, i + 64));
  return out;
};

/** Format 2 as documented: the format-1 parts, each long list replaced by the digests of its chunks of 64. */
function referenceV2(snapshot: RunSnapshot): string {
  const ctx = snapshot.context;
  const value =
    typeof snapshot.value === 'string'
      ? snapshot.value
      : Object.fromEntries(
          Object.entries(snapshot.value).map(([key, regions]) => [
            key,
            chunks(Object.entries(regions)).map((c) =>
              h16(c.map(([r, s]) => `${JSON.stringify(r)}:${JSON.stringify(s)}`).join(',')),
            ),
          ]),
        );
  const tasks = chunks(Object.keys(ctx.tasks).sort()).map((c) =>
    h16(
      c
        .map((id) => {
          const t = ctx.tasks[id]!;
          return JSON.stringify([id, t.status, t.attempts, t.decision?.case ?? null]);
        })
        .join(','),
    ),
  );
  const timers = Object.keys(ctx.timers)
    .sort()
    .map((k) => [k, ctx.timers[k]!.dueAt]);
  return h16(JSON.stringify({ v: 2, value, tasks, timers }));
}

const short = def(`
workflow:
  id: hashed
  name: Every kind of state
  version: 1
  input: { optional: [level] }
  tasks:
    - { id: b, type: SIMPLE, retry_policy: { max_attempts: 3, initial_delay: 1s }, timeout: 30s }
    - id: route
      type: DECISION
      depends_on: [b]
      decision_param: "\${workflow.input.level}"
      decision_cases:
        high: { next: [h] }
        "odd \\"case\\"": { next: [a] }
        default: { next: [a] }
    - { id: h, type: HUMAN, approvers: [alice], timeout: 1h }
    - { id: a, type: SIMPLE, optional: true }
    - { id: z, type: SIMPLE, depends_on: [h, a], trigger_rule: all_done }
`);

/** A short run with no timers (no timeout, retry or approval deadline): its states are the ones remembered in format 2's trie. */
const untimed = def(`
workflow:
  id: untimed
  name: States without timers
  version: 1
  input: { optional: [level] }
  tasks:
    - { id: b, type: SIMPLE, retry_policy: { max_attempts: 3, initial_delay: 0s } }
    - id: route
      type: DECISION
      depends_on: [b]
      decision_param: "\${workflow.input.level}"
      decision_cases:
        high: { next: [h] }
        default: { next: [a] }
    - { id: h, type: HUMAN, approvers: [alice] }
    - { id: a, type: SIMPLE, optional: true }
    - { id: z, type: SIMPLE, depends_on: [h, a], trigger_rule: all_done }
`);

/** A chain of n SIMPLE tasks, each after the one before, the first with retries and a timeout. */
const chain = (n: number) =>
  def(
    `workflow:\n  id: chain-${n}\n  name: A chain of ${n} tasks\n  version: 1\n  tasks:\n${Array.from(
      { length: n },
      (_, i) =>
        `    - { id: t${String(i).padStart(4, '0')}, type: SIMPLE${i === 0 ? ', retry_policy: { max_attempts: 3, initial_delay: 1s }, timeout: 30s' : `, depends_on: [t${String(i - 1).padStart(4, '0')}]`} }\n`,
    ).join('')}`,
  );

function randomStates(
  workflow: ReturnType<typeof def>,
  seed: number,
  count: number,
  check: (snap: RunSnapshot) => void,
): void {
  const compiled = compile(workflow);
  const plan = planDecisions(workflow, baseInput(workflow));
  const rng = prng(seed);
  const events = new RandomEvents(rng, workflow, outputVariants(workflow, plan), Date.parse('2026-03-01T09:00:00Z'));
  let checked = 0;
  for (let run = 0; checked < count; run++) {
    const input: MachineInput = {
      runId: `r${run}`,
      workflowId: workflow.id,
      version: 1,
      input: { level: events.pick(['high', 'low', 'odd "case"']) },
      time: Date.parse('2026-03-01T09:00:00Z'),
      stateHashVersion: 2,
    };
    let snap = compiled.interpreter.initial(input) as RunSnapshot;
    check(snap);
    for (let n = 0; n < 400 && snap.status === 'active' && checked < count; n++, checked++) {
      snap = compiled.interpreter.transition(snap, events.next(snap.context)) as RunSnapshot;
      check(snap);
    }
  }
}

describe('state hash format 2', () => {
  it('is what new runs record', () => {
    expect(NEW_RUN_STATE_HASH_VERSION).toBe(2);
  });

  for (const [name, workflow, count] of [
    ['a short run', short, 2_000],
    ['a short run without timers', untimed, 2_000],
    ['a long run (200 tasks, kept in chunks)', chain(200), 500],
  ] as const) {
    it(`gives the hash of its definition on random states of ${name}, with the caches warm and off`, () => {
      const seen = new Set<string>();
      randomStates(workflow, 20261123, count, (snap) => {
        const rec = recordedState(snap);
        expect(rec.hash).toBe(referenceV2(snap));
        seen.add(rec.status);
      });
      expect(seen.size).toBeGreaterThan(2);
      setStateHashCacheEnabled(false);
      try {
        randomStates(workflow, 7, 150, (snap) => expect(recordedState(snap).hash).toBe(referenceV2(snap)));
      } finally {
        setStateHashCacheEnabled(true);
      }
    });
  }

  it("remembers a short run's states without timers in a bounded trie: tens of thousands of distinct states, each asked twice, hashed as defined", async () => {
    const base = compile(untimed).interpreter.initial({
      runId: 'r',
      workflowId: 'untimed',
      version: 1,
      input: {},
      time: Date.parse('2026-03-01T09:00:00Z'),
      stateHashVersion: 2,
    }) as RunSnapshot;
    await expectBoundedStateHashCache(base, referenceV2);
  });

  it("is pinned: the same state hashes as when the format was introduced, and never format 1's", () => {
    const five = def(`
workflow:
  id: five-steps
  name: Five sequential steps
  version: 1
  tasks:
    - { id: s1, type: SIMPLE }
    - { id: s2, type: SIMPLE, depends_on: [s1] }
`);
    const input = {
      runId: 'r1',
      workflowId: 'five-steps',
      version: 1,
      input: {},
      time: Date.parse('2026-01-01T00:00:00Z'),
    };
    const v1 = compile(five).interpreter.initial(input) as RunSnapshot;
    const v2 = compile(five).interpreter.initial({ ...input, stateHashVersion: 2 }) as RunSnapshot;
    expect(recordedState(v1).hash).toBe('fe291ffc2bff08c3');
    expect(recordedState(v2).hash).toBe(referenceV2(v2));
    expect(recordedState(v2).hash).toBe('20eaad9c3c3072a4');
    const long = compile(chain(100)).interpreter.initial({
      ...input,
      workflowId: 'chain-100',
      stateHashVersion: 2,
    }) as RunSnapshot;
    expect(recordedState(long).hash).toBe(referenceV2(long));
    expect(recordedState(long).hash).toBe('eb6dcfd014374a02');
  });

  it('gives the hash of its definition as a long run ends: completed (its tasks kept as they were) and cancelled (many tasks at once, a few in one chunk)', () => {
    const compiled = compile(chain(200));
    const id = (k: number) => `t${String(k).padStart(4, '0')}`;
    const at = { runId: 'r1', workflowId: 'chain-200', version: 1, input: {}, time: 0, stateHashVersion: 2 as const };
    const run = (upTo: number, end: (snap: RunSnapshot) => RunSnapshot): void => {
      let snap = compiled.interpreter.initial(at) as RunSnapshot;
      for (let k = 0; k < upTo; k++) {
        snap = compiled.interpreter.transition(snap, {
          type: `task.started.${id(k)}`,
          time: 2 * k + 1,
          attempt: 1,
        }) as RunSnapshot;
        snap = compiled.interpreter.transition(snap, {
          type: `task.completed.${id(k)}`,
          time: 2 * k + 2,
          attempt: 1,
          output: {},
        }) as RunSnapshot;
        expect(recordedState(snap).hash).toBe(referenceV2(snap));
      }
      snap = end(snap);
      expect(snap.status).toBe('done');
      expect(recordedState(snap).hash).toBe(referenceV2(snap));
    };
    run(200, (snap) => snap);
    // t0124 in progress, t0125..t0127 pending: four entries of the second chunk change at once, and every one of the third and fourth.
    run(
      124,
      (snap) =>
        compiled.interpreter.transition(
          compiled.interpreter.transition(snap, { type: `task.started.${id(124)}`, time: 1000, attempt: 1 }),
          { type: 'run.cancel', time: 1001 },
        ) as RunSnapshot,
    );
  });
});

describe('state hash format 2, states hashed out of order', () => {
  it("gives the hash of its definition for a long run's states hashed in any order: next, a few events on, back, a branch, another run", () => {
    const compiled = compile(chain(200));
    const id = (k: number) => `t${String(k).padStart(4, '0')}`;
    const at = { runId: 'r1', workflowId: 'chain-200', version: 1, input: {}, time: 0, stateHashVersion: 2 as const };
    const line = (runId: string): RunSnapshot[] => {
      let snap = compiled.interpreter.initial({ ...at, runId }) as RunSnapshot;
      const out = [snap];
      for (let k = 0; k < 150; k++) {
        snap = compiled.interpreter.transition(snap, {
          type: `task.started.${id(k)}`,
          time: 2 * k + 1,
          attempt: 1,
        }) as RunSnapshot;
        out.push(snap);
        snap = compiled.interpreter.transition(snap, {
          type: `task.completed.${id(k)}`,
          time: 2 * k + 2,
          attempt: 1,
          output: {},
        }) as RunSnapshot;
        out.push(snap);
      }
      return out;
    };
    const a = line('r1');
    const b = line('r2');
    // A branch: a cancel instead of the next task's start (many tasks change at once).
    const cancelled = (s: RunSnapshot) =>
      compiled.interpreter.transition(s, { type: 'run.cancel', time: 10_000 }) as RunSnapshot;
    const order: RunSnapshot[] = [
      a[0]!,
      a[1]!,
      a[2]!,
      a[9]!,
      a[40]!,
      a[41]!,
      a[3]!,
      a[42]!,
      cancelled(a[42]!),
      a[43]!,
      b[43]!,
      a[44]!,
      b[100]!,
      a[100]!,
      a[101]!,
      cancelled(a[101]!),
      a[102]!,
      a[170]!,
      a[171]!,
      a[150]!,
      a[172]!,
      a[200]!,
      a[300]!,
      a[299]!,
      b[299]!,
      a[300]!,
    ];
    for (const snap of order) expect(recordedState(snap).hash).toBe(referenceV2(snap));
  });
});

describe('checked replay of a format-2 run', () => {
  const handlers = (n: number) =>
    Object.fromEntries(Array.from({ length: n }, (_, i) => [`t${String(i).padStart(4, '0')}`, async () => ({ i })]));

  async function recorded(n: number): Promise<EventEnvelope[]> {
    const { engine: e } = engine();
    const view = await runToIdle(e, chain(n), {}, handlers(n));
    expect(view.status).toBe('COMPLETED');
    return structuredClone(await e.events(view.runId));
  }

  for (const n of [5, 150]) {
    it(`records format 2 in run.started and replays without divergence, to any event (${n} tasks)`, async () => {
      const events = await recorded(n);
      const started = events[0]!;
      expect(started.type === 'run.started' && started.data.stateHashVersion).toBe(2);
      expect(replayRun(events).divergence).toBeNull();
      const mid = Math.floor(events.length / 2);
      const at = replayRun(events, { to: mid });
      expect(at).toMatchObject({ toSeq: mid, divergence: null });
    });

    it(`reports an altered event at exactly its seq (${n} tasks)`, async () => {
      const events = await recorded(n);
      // A task in the middle (for 150 tasks, in the second chunk of 64) reported failed where it completed.
      const target = `t${String(Math.floor(n * 0.6)).padStart(4, '0')}`;
      const at = events.findIndex((e) => e.type === 'task.completed' && e.data.task === target);
      const altered = structuredClone(events);
      const completed = altered[at]!;
      altered[at] = {
        ...completed,
        type: 'task.failed',
        data: { task: target, attempt: 1, error: { message: 'altered' } },
      } as EventEnvelope;
      const report = replayRun(altered);
      expect(report.divergence).toMatchObject({
        seq: completed.seq,
        type: 'task.failed',
        reason: 'the recomputed state differs from the recorded one',
      });
      expect(replayRun(altered, { to: completed.seq - 1 }).divergence).toBeNull();

      // The recorded hash of one event changed, and nothing else: found at that event.
      const tampered = structuredClone(events);
      tampered[at + 1]!.state = { ...tampered[at + 1]!.state, hash: '0000000000000000' };
      expect(replayRun(tampered).divergence).toMatchObject({ seq: events[at + 1]!.seq });
    });
  }

  it('is not checked as format 1: without its stateHashVersion (what an older engine reads) it diverges at run.started', async () => {
    const events = await recorded(5);
    const started = events[0]!;
    if (started.type !== 'run.started') throw new Error('a run starts with run.started');
    const { stateHashVersion: _, ...data } = started.data;
    expect(replayRun([{ ...started, data }, ...events.slice(1)]).divergence).toMatchObject({
      seq: 1,
      type: 'run.started',
    });
  });
});
