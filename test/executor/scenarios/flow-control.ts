/**
 * The executor contract (../contract.ts): flow control as docs/language.md
 * writes it — a workflow's `concurrency:` (its limit, per key) and a start's
 * priority. The starts arrive while slots free up, as a user's do: every
 * run admitted must start its work and complete (on NATS, runs admitted
 * later once stayed RUNNING with their task SCHEDULED, attempts 0, for good).
 */
import { describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../../src/events/index.js';
import type { Handlers } from '../../../src/runtime/index.js';
import { waitFor } from '../../helpers/wait.js';
import type { Session } from '../contract.js';
import { eventsOf, heldGate, type ScenarioKit, workflowYaml } from './kit.js';
import type { Gate } from '../../helpers/wait.js';

/** A handler `work` that holds each run's attempt until the test releases that run (by its input `n`), counting how many run at once. */
function heldWork() {
  const gates = new Map<number, Gate>();
  const ran: number[] = [];
  let running = 0;
  let most = 0;
  const gateOf = (n: number): Gate => {
    let g = gates.get(n);
    if (!g) {
      g = heldGate();
      gates.set(n, g);
    }
    return g;
  };
  const handlers: Handlers = {
    work: async (input) => {
      const n = Number(input.n);
      ran.push(n);
      running++;
      most = Math.max(most, running);
      try {
        await gateOf(n).opened;
      } finally {
        running--;
      }
      return { n };
    },
  };
  return { handlers, ran, most: () => most, release: (n: number) => gateOf(n).open() };
}

const statusOf = async (s: Session, runId: string) => (await s.status(runId))?.status;
const queuedAt = (h: EventEnvelope[]) => h.findIndex((e) => e.type === 'run.queued');

export function flowControlScenarios({ open, replays }: ScenarioKit): void {
  describe('concurrency limits and priority', () => {
    it('concurrency { limit: 2 }: starts past the limit are QUEUED, each slot freed admits the next while more starts arrive, and every run admitted starts its work and completes', async () => {
      const work = heldWork();
      const s = await open({
        workflows: [
          workflowYaml(
            'ct-limited',
            'Two at a time',
            `
  input:
    required: [n]
  concurrency:
    limit: 2
  tasks:
    - { id: work, type: SIMPLE, input: { n: "\${workflow.input.n}" } }
`,
          ),
        ],
        handlers: work.handlers,
      });
      const runs: string[] = [];
      for (const n of [0, 1, 2, 3]) runs.push(await s.start('ct-limited', { n }));
      await waitFor('the first two to run', () => work.ran.includes(0) && work.ran.includes(1));
      for (const n of [2, 3])
        await waitFor(`run ${n} to be QUEUED`, async () => (await statusOf(s, runs[n]!)) === 'QUEUED');
      // Slots free one at a time while more starts arrive: each admitted run must start its work.
      for (let n = 0; n < 6; n++) {
        work.release(n);
        if (n < 2) runs.push(await s.start('ct-limited', { n: n + 4 }));
        await waitFor(`run ${n} to complete`, async () => (await statusOf(s, runs[n]!)) === 'COMPLETED');
        if (n + 2 < 6) {
          await waitFor(`run ${n + 2} to start its work`, () => work.ran.includes(n + 2), { timeout: 20_000 }).catch(
            async (err) => {
              const seen = await Promise.all(
                runs.map(async (r) => `${r}: ${(await s.history(r)).map((e) => e.type).join(' ')}`),
              );
              throw new Error(`${String(err)}\n${seen.join('\n')}`);
            },
          );
        }
      }
      for (const runId of runs) expect((await s.until(runId, 'settled')).status).toBe('COMPLETED');
      expect(work.most()).toBeLessThanOrEqual(2);
      expect([...work.ran].sort()).toEqual([0, 1, 2, 3, 4, 5]);
      for (const [n, runId] of runs.entries()) {
        const h = await s.history(runId);
        expect(eventsOf(h, 'task.started', 'work'), `run ${n}`).toHaveLength(1);
        // The runs started past the limit were queued, then admitted once; the later ones, started as slots
        // free up, may find one free (then run.started is their admission).
        if (n === 2 || n === 3) expect(queuedAt(h), `run ${n} queued`).toBeGreaterThan(0);
        expect(eventsOf(h, 'run.admitted'), `run ${n} admitted`).toHaveLength(queuedAt(h) > 0 ? 1 : 0);
      }
      await replays(s, ...runs);
    });

    it("per key: each customer has a slot of its own; a queued run of one customer waits only for that customer's run", async () => {
      const work = heldWork();
      const s = await open({
        workflows: [
          workflowYaml(
            'ct-per-customer',
            'One per customer',
            `
  input:
    required: [n, customer]
  concurrency:
    limit: 1
    key: "\${workflow.input.customer}"
  tasks:
    - { id: work, type: SIMPLE, input: { n: "\${workflow.input.n}" } }
`,
          ),
        ],
        handlers: work.handlers,
      });
      const a1 = await s.start('ct-per-customer', { n: 0, customer: 'acme' });
      const b1 = await s.start('ct-per-customer', { n: 1, customer: 'globex' });
      await waitFor('one run of each customer to run', () => work.ran.includes(0) && work.ran.includes(1));
      const a2 = await s.start('ct-per-customer', { n: 2, customer: 'acme' });
      await waitFor("acme's second run to be QUEUED", async () => (await statusOf(s, a2)) === 'QUEUED');
      // globex's run settling frees no slot of acme's.
      work.release(1);
      expect((await s.until(b1, 'settled')).status).toBe('COMPLETED');
      expect(await statusOf(s, a2)).toBe('QUEUED');
      work.release(0);
      await waitFor("acme's second run to start its work", () => work.ran.includes(2), { timeout: 20_000 });
      work.release(2);
      for (const runId of [a1, a2]) expect((await s.until(runId, 'settled')).status).toBe('COMPLETED');
      expect((await s.status(a2))?.queue).toMatchObject({ key: 'acme', limit: 1 });
      await replays(s, a1, b1, a2);
    });

    it('priority: with the one slot taken, a start of priority 90 is admitted before the older starts of the default 50', async () => {
      const work = heldWork();
      const s = await open({
        workflows: [
          workflowYaml(
            'ct-prioritised',
            'One at a time',
            `
  input:
    required: [n]
  concurrency:
    limit: 1
  tasks:
    - { id: work, type: SIMPLE, input: { n: "\${workflow.input.n}" } }
`,
          ),
        ],
        handlers: work.handlers,
      });
      const holder = await s.start('ct-prioritised', { n: 0 });
      await waitFor('the first run to run', () => work.ran.includes(0));
      const older = await s.start('ct-prioritised', { n: 1 });
      const urgent = await s.start('ct-prioritised', { n: 2 }, { priority: 90 });
      for (const runId of [older, urgent])
        await waitFor(`${runId} to be QUEUED`, async () => (await statusOf(s, runId)) === 'QUEUED');
      work.release(0);
      await waitFor('the urgent run to start its work', () => work.ran.includes(2), { timeout: 20_000 });
      expect(work.ran).toEqual([0, 2]);
      work.release(2);
      await waitFor('the older run to start its work', () => work.ran.includes(1), { timeout: 20_000 });
      work.release(1);
      for (const runId of [holder, older, urgent]) expect((await s.until(runId, 'settled')).status).toBe('COMPLETED');
      expect((await s.status(urgent))?.queue).toMatchObject({ priority: 90 });
      await replays(s, holder, older, urgent);
    });
  });

  describe('task concurrency and rate limits', () => {
    it('concurrency { limit: 1 } on a task holds across runs: the others stay SCHEDULED, waiting for it, and each starts once the slot frees; the wait is no attempt', async () => {
      const work = heldWork();
      const s = await open({
        workflows: [
          workflowYaml(
            'ct-task-limited',
            'One push at a time',
            `
  input:
    required: [n]
  tasks:
    - { id: work, type: SIMPLE, input: { n: "\${workflow.input.n}" }, concurrency: { limit: 1 } }
`,
          ),
        ],
        handlers: work.handlers,
      });
      const runs: string[] = [];
      for (const n of [0, 1, 2]) runs.push(await s.start('ct-task-limited', { n }));
      await waitFor('one attempt to run', () => work.ran.length === 1);
      const [first] = work.ran;
      const others = runs.filter((_, n) => n !== first);
      for (const runId of others) {
        await waitFor(
          `${runId} to wait for the slot`,
          async () => (await s.status(runId))?.tasks.work?.waitingFor === 'concurrency limit 1',
        );
      }
      // Freed one at a time, while a further start arrives: each waiting attempt starts in turn.
      work.release(first!);
      runs.push(await s.start('ct-task-limited', { n: 3 }));
      for (let i = 2; i <= 4; i++) {
        await waitFor(`${i} attempts to have run`, () => work.ran.length === i, { timeout: 20_000 });
        work.release(work.ran.at(-1)!);
      }
      for (const runId of runs) expect((await s.until(runId, 'settled')).status).toBe('COMPLETED');
      expect(work.most()).toBe(1);
      for (const runId of runs) {
        const h = await s.history(runId);
        expect(eventsOf(h, 'task.started', 'work'), runId).toHaveLength(1);
        expect((await s.status(runId))?.tasks.work).toMatchObject({ status: 'COMPLETED', attempts: 1 });
      }
      await replays(s, ...runs);
    });

    it('rate_limit { limit: 2, per: 1s }: no second holds more than two starts across runs, and every run completes', async () => {
      const s = await open({
        workflows: [
          workflowYaml(
            'ct-task-rated',
            'Two a second',
            `
  tasks:
    - { id: push, type: SIMPLE, rate_limit: { limit: 2, per: 1s } }
`,
          ),
        ],
        handlers: { push: () => ({}) },
      });
      const runs: string[] = [];
      for (let n = 0; n < 5; n++) runs.push(await s.start('ct-task-rated', {}));
      for (const runId of runs) expect((await s.until(runId, 'settled')).status).toBe('COMPLETED');
      const starts = (await Promise.all(runs.map(async (r) => eventsOf(await s.history(r), 'task.started', 'push'))))
        .flat()
        .map((e) => Date.parse(e.time))
        .sort((a, b) => a - b);
      expect(starts).toHaveLength(5);
      // The times recorded are the ones the limit counted: any three starts span at least the window.
      for (let i = 2; i < starts.length; i++)
        expect(starts[i]! - starts[i - 2]!, `starts ${i - 2}..${i}`).toBeGreaterThanOrEqual(1000);
      await replays(s, ...runs);
    });
  });
}
