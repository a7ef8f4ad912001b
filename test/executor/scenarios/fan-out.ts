/** The executor contract (../contract.ts): Tasks run more than once: MAP items and DO_WHILE iterations. */
import { describe, expect, it } from 'vitest';
import { NonRetryableError } from '../../../src/errors/index.js';
import { waitFor } from '../../helpers/wait.js';
import { dataOf, eventsOf, heldGate, pollUntilReady, type ScenarioKit, workflowYaml } from './kit.js';
import type { Session } from '../contract.js';

export function fanOutScenarios({ open, replays }: ScenarioKit): void {
  describe('MAP', () => {
    it('runs the handler once per item with ${item} and ${index}, never more than max_concurrency at once, retrying an item alone; results in item order', async () => {
      let inFlight = 0;
      let most = 0;
      const keys: string[] = [];
      const threeInFlight = heldGate();
      const s = await open({
        workflows: [
          workflowYaml(
            'ct-map',
            'Fan out',
            `
  input: { required: [folders] }
  output: { scans: "\${scan_each.output.results}" }
  tasks:
    - id: scan_each
      type: MAP
      items: "\${workflow.input.folders}"
      handler: scan_folder
      input: { path: "\${item}", position: "\${index}" }
      max_concurrency: 3
      retry_policy: { max_attempts: 2, backoff: fixed, initial_delay: 50ms }
    - id: total
      type: SIMPLE
      depends_on: [scan_each]
      input: { results: "\${scan_each.output.results}" }
`,
          ),
        ],
        handlers: {
          scan_folder: async (i, ctx) => {
            keys.push(ctx.idempotencyKey);
            inFlight++;
            most = Math.max(most, inFlight);
            if (inFlight === 3) threeInFlight.open();
            try {
              // The first items are held until the limit is reached, so that the run really has items side by side.
              await threeInFlight.opened;
              if (i.path === '/flaky' && ctx.attempt === 1) throw new Error('first try fails');
              return { path: i.path, at: i.position, item: ctx.item };
            } finally {
              inFlight--;
            }
          },
          total: (i) => ({ n: (i.results as unknown[]).length }),
        },
      });
      const folders = Array.from({ length: 8 }, (_, i) => (i === 5 ? '/flaky' : `/f${i}`));
      const runId = await s.start('ct-map', { folders });
      const done = await s.until(runId, 'settled');
      expect(done.status).toBe('COMPLETED');
      expect(done.output).toEqual({ scans: folders.map((path, at) => ({ path, at, item: at })) });
      expect(done.tasks.total!.output).toEqual({ n: 8 });
      expect(most).toBe(3);
      expect(keys.filter((k) => k.startsWith(`${runId}/scan_each[5]/`))).toEqual([
        `${runId}/scan_each[5]/1`,
        `${runId}/scan_each[5]/2`,
      ]);
      expect(keys).toHaveLength(9);
      const h = await s.history(runId);
      expect(eventsOf(h, 'task.completed', 'scan_each')).toHaveLength(8);
      expect(dataOf(h, 'timer.fired')).toEqual([{ task: 'scan_each', timer: 'backoff', attempt: 1, item: 5 }]);
      await replays(s, runId);
    });

    it('tolerate_failures keeps null results for failed items; more failures fail the MAP once the items in flight settle, the rest SKIPPED; an empty list completes, a non-list fails', async () => {
      const started: number[] = [];
      let s!: Session;
      const map = (id: string, extra: string) =>
        workflowYaml(
          `${id}`,
          'Fan out',
          `
  input: { required: [folders] }
  output: { fetched: "\${fetch_all.output.results}" }
  tasks:
    - id: fetch_all
      type: MAP
      items: "\${workflow.input.folders}"
      handler: fetch
      input: { folder: "\${item}" }
      ${extra}
`,
        );
      s = await open({
        workflows: [map('ct-map-tolerant', 'tolerate_failures: 1'), map('ct-map-strict', 'max_concurrency: 2')],
        handlers: {
          fetch: async (i, ctx) => {
            started.push(ctx.item!);
            if (i.folder === 'unreadable') throw new NonRetryableError(`folder ${ctx.item} is unreadable`, 'BAD');
            // In the strict run item 1 settles after item 0 failed: it was in flight then, and finishes.
            if (i.folder === 'late')
              await waitFor(
                'item 0 to fail',
                async () => eventsOf(await s.history(ctx.runId), 'task.failed').length > 0,
              );
            return { i: ctx.item };
          },
        },
      });
      const tolerant = await s.until(
        await s.start('ct-map-tolerant', { folders: ['a', 'unreadable', 'c'] }),
        'settled',
      );
      expect(tolerant.status).toBe('COMPLETED');
      expect(tolerant.output).toEqual({ fetched: [{ i: 0 }, null, { i: 2 }] });

      started.length = 0;
      const strict = await s.until(
        await s.start('ct-map-strict', { folders: ['unreadable', 'late', 'x', 'y', 'z'] }),
        'settled',
      );
      expect(strict.status).toBe('FAILED');
      expect(strict.tasks.fetch_all!.error).toMatchObject({
        code: 'LF_MAP_ITEMS_FAILED',
        message: expect.stringContaining('fetch_all[0]: folder 0 is unreadable'),
      });
      expect(strict.tasks.fetch_all!.items!.map((i) => i.status)).toEqual([
        'FAILED',
        'COMPLETED',
        'SKIPPED',
        'SKIPPED',
        'SKIPPED',
      ]);
      expect(started.sort()).toEqual([0, 1]);

      const empty = await s.until(await s.start('ct-map-tolerant', { folders: [] }), 'settled');
      expect(empty).toMatchObject({ status: 'COMPLETED', output: { fetched: [] } });
      const notAList = await s.until(await s.start('ct-map-tolerant', { folders: { a: 1 } }), 'settled');
      expect(notAList.status).toBe('FAILED');
      expect(notAList.tasks.fetch_all!.error).toMatchObject({
        code: 'LF_MAP_ITEMS_NOT_A_LIST',
        message: expect.stringContaining('gave an object, not a list'),
      });
      await replays(s, tolerant.runId, strict.runId, empty.runId, notAList.runId);
    });

    it('an iterator task is the body (its own entry mirrors the MAP); a workflow body runs a child run per item, named <runId>-<map>-m<i>-<attempt>', async () => {
      const s = await open({
        workflows: [
          workflowYaml(
            'ct-map-bodies',
            'Iterator and workflow bodies',
            `
  input: { required: [ns] }
  output: { doubled: "\${each_child.output.results}", squared: "\${each.output.results}" }
  tasks:
    - { id: each, type: MAP, items: "\${workflow.input.ns}", iterator: square }
    - { id: square, type: SIMPLE, input: { n: "\${item}" } }
    - { id: each_child, type: MAP, items: "\${workflow.input.ns}", workflow: ct-map-child, input: { n: "\${item}" }, max_concurrency: 2 }
`,
          ),
          workflowYaml(
            'ct-map-child',
            'Child per item',
            `
  input: { required: [n] }
  output: { total: "\${twice.output.total}" }
  tasks:
    - { id: twice, type: SIMPLE, input: { n: "\${workflow.input.n}" } }
`,
          ),
        ],
        handlers: { square: (i) => ({ sq: Number(i.n) ** 2 }), twice: (i) => ({ total: Number(i.n) * 2 }) },
      });
      const runId = await s.start('ct-map-bodies', { ns: [1, 2, 3] });
      const done = await s.until(runId, 'settled');
      expect(done.status).toBe('COMPLETED');
      expect(done.output).toEqual({
        squared: [{ sq: 1 }, { sq: 4 }, { sq: 9 }],
        doubled: [{ total: 2 }, { total: 4 }, { total: 6 }],
      });
      expect(done.tasks.square).toMatchObject({
        status: 'COMPLETED',
        output: { results: [{ sq: 1 }, { sq: 4 }, { sq: 9 }] },
      });
      for (const i of [0, 1, 2]) {
        const childId = `${runId}-each_child-m${i}-1`;
        const started = (await s.history(childId))[0]!;
        expect(started.type === 'run.started' && started.data.source?.parent).toMatchObject({
          runId,
          task: 'each_child',
          item: i,
          attempt: 1,
        });
        await replays(s, childId);
      }
      expect(
        dataOf(await s.history(runId), 'task.completed', 'each_child')
          .map((d) => (d as { item?: number }).item)
          .sort(),
      ).toEqual([0, 1, 2]);
      await replays(s, runId);
    });
  });

  describe('DO_WHILE', () => {
    it('runs the body once per iteration (keys check#i), retrying inside an iteration; what waits for the loop, a DECISION and the output read the last iteration', async () => {
      const keys: string[] = [];
      const s = await open({
        workflows: [pollUntilReady],
        handlers: {
          submit: () => ({}),
          check: (i, ctx) => {
            keys.push(`${ctx.idempotencyKey} iteration ${ctx.iteration} previous ${String(i.previous)}`);
            if (ctx.iteration === 2 && ctx.attempt === 1) throw new Error('not yet reachable');
            return { round: Number(i.round) };
          },
          note: (i) => ({ noted: i.seen }),
          publish: (i) => ({ last: i.last }),
        },
      });
      const runId = await s.start('ct-poll', {});
      const done = await s.until(runId, 'settled');
      expect(done.status).toBe('COMPLETED');
      expect(keys).toEqual([
        `${runId}/check#1/1 iteration 1 previous undefined`,
        `${runId}/check#2/1 iteration 2 previous 1`,
        `${runId}/check#2/2 iteration 2 previous 1`,
        `${runId}/check#3/1 iteration 3 previous 2`,
      ]);
      expect(done.tasks.wait_ready).toMatchObject({
        status: 'COMPLETED',
        output: {
          iteration: 3,
          iterations: [1, 2, 3].map((round) => ({ check: { round }, note: { noted: round } })),
        },
      });
      expect(done.tasks.publish!.output).toEqual({ last: 3 });
      expect(done.tasks.route!.output).toMatchObject({ case: 'third' });
      expect(done.tasks.announce!.output).toEqual({ last: 3 });
      expect(done.output).toEqual({ rounds: 3, last: 3 });
      const h = await s.history(runId);
      expect(dataOf(h, 'timer.fired')).toEqual([{ task: 'check', timer: 'backoff', attempt: 1, iteration: 2 }]);
      expect(dataOf(h, 'task.started', 'check').map((d) => (d as { iteration?: number }).iteration)).toEqual([
        1, 2, 2, 3,
      ]);
      await replays(s, runId);
    });

    it('fails with LF_LOOP_LIMIT naming the limit when the condition still holds after max_iterations; a failing body task fails the loop, naming its iteration', async () => {
      let calls = 0;
      const s = await open({
        workflows: [
          workflowYaml(
            'ct-loop-fails',
            'Loops that fail',
            `
  input: { required: [break_at] }
  tasks:
    - id: wait_ready
      type: DO_WHILE
      loop_over: [probe, note]
      loop_condition: "probe.output.ready == false"
      max_iterations: 3
    - { id: probe, type: SIMPLE, input: { break_at: "\${workflow.input.break_at}", round: "\${wait_ready.output.iteration}" } }
    - { id: note, type: SIMPLE, depends_on: [probe] }
    - { id: publish, type: SIMPLE, depends_on: [wait_ready] }
`,
          ),
        ],
        handlers: {
          probe: (i) => {
            calls++;
            if (i.round === i.break_at) throw new NonRetryableError('probe broke');
            return { ready: false };
          },
          note: () => ({}),
          publish: () => ({}),
        },
      });
      const limit = await s.until(await s.start('ct-loop-fails', { break_at: 0 }), 'settled');
      expect(limit.status).toBe('FAILED');
      expect(calls).toBe(3);
      expect(limit.tasks.wait_ready).toMatchObject({
        status: 'FAILED',
        error: { code: 'LF_LOOP_LIMIT', message: expect.stringContaining('max_iterations (3)') },
      });
      expect(limit.error).toMatchObject({ code: 'LF_LOOP_LIMIT', task: 'wait_ready' });
      expect(limit.tasks.publish!.status).toBe('SKIPPED');

      const broken = await s.until(await s.start('ct-loop-fails', { break_at: 2 }), 'settled');
      expect(broken.status).toBe('FAILED');
      expect(broken.tasks.wait_ready!.error!.message).toContain('probe#2 failed: probe broke');
      expect(broken.error).toMatchObject({ task: 'wait_ready' });
      expect(broken.tasks.probe!.status).toBe('FAILED');
      expect(broken.tasks.note!.status).toBe('SKIPPED');
      await replays(s, limit.runId, broken.runId);
    });
  });
}
