/**
 * Limits per queue and per handler from the command line, as
 * docs/limits.md#limits-per-queue-or-handler tells a user: a limits file
 * stored with `ledgerflow limits set`, two workflows whose tasks share the
 * queue `payments`, one `ledgerflow run` process each on the embedded file
 * store. The invariants are read from the runs' histories, never from timings.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { foldEvents, runView } from '../../src/runtime/index.js';
import { readLimits } from '../../src/limits/index.js';
import { FileEventStore } from '../../src/store/index.js';
import { cli, expectEveryRunReplays, spawnCli, tempDir } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { mostAtOnceOf, mostWithin, startsOf } from '../helpers/task-limits.js';

afterAll(async () => {
  expect(await expectEveryRunReplays()).toBeGreaterThan(0);
});

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((res) => child.on('close', (code) => res(code)));
}

/** A workflow whose MAP `task` runs one COMMAND attempt per item on the queue `payments`; `own`: the MAP's own limits. */
function payments(dir: string, id: string, task: string, own = ''): string {
  const file = join(dir, `${id}.yaml`);
  writeFileSync(
    file,
    `workflow:
  id: ${id}
  input:
    required: [{ ids: { type: array } }]
  tasks:
    - id: ${task}
      type: MAP
      items: "\${workflow.input.ids}"
      iterator: ${task}_one
      max_concurrency: 20
${own}    - id: ${task}_one
      type: COMMAND
      queue: payments
      command: [sleep, "0.2"]
`,
  );
  return file;
}

describe('limits per queue and handler on the embedded store', () => {
  it('a bad limits file: every problem at file:line:col naming the fix, exit 2, nothing stored', async () => {
    const dir = tempDir();
    const store = join(dir, 'store');
    const file = join(dir, 'limits.yaml');
    writeFileSync(
      file,
      `queues:
  payments:
    concurrency: { limit: 0 }
    rate_limit: { limit: 100, per: 0s, burst: 3 }
handler:
  sendEmail: { rate_limit: { limit: 10, per: 1s } }
`,
    );
    const r = await cli(['--store', store, 'limits', 'set', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}:3:27: error:`);
    expect(r.stderr).toMatch(
      /limits\.yaml:3:27: error: queues\.payments\.concurrency\.limit: expected a whole number of attempts of at least 1/,
    );
    expect(r.stderr).toMatch(
      /limits\.yaml:4:\d+: error: queues\.payments\.rate_limit: unknown key burst: the keys are limit and per/,
    );
    expect(r.stderr).toMatch(
      /limits\.yaml:4:\d+: error: queues\.payments\.rate_limit\.per: the window must be longer than 0/,
    );
    expect(r.stderr).toMatch(/limits\.yaml:5:1: error: unknown key handler: the keys are queues and handlers/);
    expect(existsSync(join(store, 'gates', 'limits.json'))).toBe(false);
    const shown = await cli(['--store', store, 'limits', 'show', '--json']);
    expect(JSON.parse(shown.stdout)).toEqual({ limits: { queues: {}, handlers: {} }, breakers: [] });
  }, 60_000);

  it('stored limits that are not JSON (edited by hand) are an error naming the file and the fix, not "no limits"; limits set mends them', async () => {
    const dir = tempDir();
    const store = join(dir, 'store');
    const limits = join(dir, 'limits.yaml');
    writeFileSync(limits, 'queues:\n  payments:\n    concurrency: { limit: 1 }\n');
    expect((await cli(['--store', store, 'limits', 'set', limits])).code).toBe(0);
    const stored = join(store, 'gates', 'limits.json');
    writeFileSync(stored, '{"queues": {"payments": ');
    const shown = await cli(['--store', store, 'limits', 'show']);
    expect(shown.code).not.toBe(0);
    expect(shown.stderr).toContain(`shared document limits (${stored}) is not JSON`);
    expect(shown.stderr).toContain('write it again with `ledgerflow limits set <file>`');
    const run = await cli(['--store', store, 'run', payments(dir, 'pay_one', 'pay'), '--ids', '[1]']);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('is not JSON');
    expect((await cli(['--store', store, 'limits', 'set', limits])).code).toBe(0);
    expect(JSON.parse((await cli(['--store', store, 'limits', 'show', '--json'])).stdout)).toEqual({
      limits: { queues: { payments: { concurrency: { limit: 1 } } }, handlers: {} },
      breakers: [],
    });
  }, 60_000);

  it("a queue's limits hold two workflows together, on top of a task's own: at most 2 at once and 5 starts a second across both, 3 a second of the task with its own", async () => {
    const dir = tempDir();
    const store = join(dir, 'store');
    const limits = join(dir, 'limits.yaml');
    writeFileSync(
      limits,
      'queues:\n  payments:\n    concurrency: { limit: 2 }\n    rate_limit: { limit: 5, per: 1s }\n',
    );
    const set = await cli(['--store', store, 'limits', 'set', limits]);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain('queue payments: concurrency limit 2, rate limit 5 per 1s');
    expect((await cli(['--store', store, 'limits', 'show'])).stdout).toContain(
      'queue payments: concurrency limit 2, rate limit 5 per 1s',
    );

    const charges = payments(dir, 'charges', 'charge', '      rate_limit: { limit: 3, per: 1s }\n');
    const refunds = payments(dir, 'refunds', 'refund');
    const ids = JSON.stringify(Array.from({ length: 12 }, (_, i) => i));
    const children = [
      spawnCli(['--store', store, 'run', charges, '--ids', ids]),
      spawnCli(['--store', store, 'run', refunds, '--ids', ids]),
    ];
    const codes = Promise.all(children.map(exited));
    const fs = new FileEventStore(store);
    // While they run: an item waits, and says for what (what status --json prints; the task's own limit first).
    const waiting = await waitFor(
      'an item waiting for the queue',
      async () => {
        for (const r of await fs.listRuns()) {
          const events = await fs.read(r.runId);
          const { compiled, snapshot, seq } = foldEvents(events);
          const view = runView(snapshot, seq, compiled.definition, await readLimits(fs));
          for (const t of Object.values(view.tasks)) {
            const item = t.items?.find((it) => it.waitingFor !== undefined);
            if (item) return { runId: r.runId, waitingFor: item.waitingFor! };
          }
        }
        return null;
      },
      { timeout: 120_000 },
    );
    expect([
      "queue payments's concurrency limit 2 and rate limit 5 per 1s",
      "rate limit 3 per 1s and queue payments's concurrency limit 2 and rate limit 5 per 1s",
    ]).toContain(waiting.waitingFor);
    expect(await codes).toEqual([0, 0]);
    const histories = await Promise.all((await fs.listRuns()).map((r) => fs.read(r.runId)));
    expect(histories.map((h) => h.at(-1)!.state.status)).toEqual(['COMPLETED', 'COMPLETED']);
    const tasks = ['charge', 'refund'];
    expect(startsOf(histories, tasks, tasks)).toHaveLength(24);
    expect(mostAtOnceOf(histories, tasks, tasks)).toBeLessThanOrEqual(2);
    expect(mostWithin(startsOf(histories, tasks, tasks), 1000)).toBeLessThanOrEqual(5);
    expect(mostWithin(startsOf(histories, ['charge'], ['charge']), 1000)).toBeLessThanOrEqual(3);
    // The waits are no attempts: each item started once.
    for (const h of histories)
      expect(h.filter((e) => e.type === 'task.started' && e.data.item !== undefined)).toHaveLength(12);
  }, 240_000);

  it("status prints the queue's limit a waiting task waits for; an empty file clears the limits", async () => {
    const dir = tempDir();
    const store = join(dir, 'store');
    const limits = join(dir, 'limits.yaml');
    writeFileSync(limits, 'queues:\n  payments:\n    concurrency: { limit: 1 }\n');
    expect((await cli(['--store', store, 'limits', 'set', limits])).code).toBe(0);
    const file = join(dir, 'slow.yaml');
    writeFileSync(
      file,
      `workflow:
  id: slow_payment
  input:
    optional: [{ secs: "1" }]
  tasks:
    - id: pay
      type: COMMAND
      queue: payments
      command: [sleep, "\${workflow.input.secs}"]
`,
    );
    const holder = spawnCli(['--store', store, 'run', file, '--secs', '3']);
    const holderDone = exited(holder);
    const fs = new FileEventStore(store);
    const holderId = await waitFor(
      'the first run to start its attempt',
      async () => {
        const [r] = await fs.listRuns();
        return r && foldEvents(await fs.read(r.runId)).snapshot.context.tasks.pay?.status === 'IN_PROGRESS'
          ? r.runId
          : null;
      },
      { timeout: 120_000 },
    );
    const waiter = spawnCli(['--store', store, 'run', file, '--secs', '0']);
    const waiterDone = exited(waiter);
    const waiterId = await waitFor(
      'the second run to wait for the queue',
      async () => {
        for (const r of await fs.listRuns()) {
          if (r.runId === holderId) continue;
          const { snapshot } = foldEvents(await fs.read(r.runId));
          if (snapshot.context.tasks.pay?.status === 'SCHEDULED') return r.runId;
        }
        return null;
      },
      { timeout: 120_000 },
    );
    const text = await cli(['--store', store, 'status', waiterId]);
    const json = JSON.parse((await cli(['--store', store, 'status', waiterId, '--json'])).stdout);
    // Unless the slot freed meanwhile: then it ran (the history below says so).
    if (json.tasks.pay.status === 'SCHEDULED') {
      expect(json.tasks.pay.waitingFor).toBe("queue payments's concurrency limit 1");
      expect(text.stdout).toContain("waits for queue payments's concurrency limit 1");
    }
    expect(await holderDone).toBe(0);
    expect(await waiterDone).toBe(0);
    expect(mostAtOnceOf([await fs.read(holderId), await fs.read(waiterId)], ['pay'])).toBe(1);
    writeFileSync(limits, '');
    expect((await cli(['--store', store, 'limits', 'set', limits])).code).toBe(0);
    expect(JSON.parse((await cli(['--store', store, 'limits', 'show', '--json'])).stdout)).toEqual({
      limits: { queues: {}, handlers: {} },
      breakers: [],
    });
  }, 240_000);
});
