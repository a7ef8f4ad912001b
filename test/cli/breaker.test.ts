/**
 * Circuit breakers from the command line, as docs/limits.md#circuit-breakers
 * tells a user: on the embedded file store, one `ledgerflow run` process per
 * run (the breaker is shared through the store's directory). A COMMAND task's
 * failures open it; other runs' attempts wait SCHEDULED, saying why; an
 * operator's `breaker close` lets them go; after `open_for` a probe's success
 * closes it. The runs it delays record `task.delayed { reason: breaker_open }`.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { trackRun } from '../../src/monitor/index.js';
import { FileEventStore } from '../../src/store/index.js';
import { cli, expectEveryRunReplays, spawnCli, tempDir } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

afterAll(async () => {
  expect(await expectEveryRunReplays()).toBeGreaterThan(0);
});

/** The docs' example; its script exits with the code it is given (an input), so a test says which attempts fail. */
function chargeCards(dir: string, breaker: string): string {
  mkdirSync(join(dir, 'scripts'), { recursive: true });
  writeFileSync(join(dir, 'scripts', 'charge.sh'), 'exit "$1"\n');
  const file = join(dir, 'charge_cards.yaml');
  writeFileSync(
    file,
    `workflow:
  id: charge_cards
  input:
    optional:
      - code: "0"
  tasks:
    - id: charge
      type: COMMAND
      command: [sh, ${JSON.stringify(join(dir, 'scripts', 'charge.sh'))}, "\${workflow.input.code}"]
      breaker: ${breaker}
`,
  );
  return file;
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((res) => child.on('close', (code) => res(code)));
}

type Shown = {
  limits: unknown;
  breakers: { name: string; state: string; failures: number; until?: string; by?: string }[];
};
const shown = async (store: string): Promise<Shown> =>
  JSON.parse((await cli(['--store', store, 'limits', 'show', '--json'])).stdout);

async function statusJson(
  store: string,
  runId: string,
): Promise<{ status: string; tasks: Record<string, { status: string; waitingFor?: string }> }> {
  return JSON.parse((await cli(['--store', store, 'status', runId, '--json'])).stdout);
}

/** The run the store has that is not one of `known`. */
async function newRun(store: string, known: readonly string[]): Promise<string | undefined> {
  return (await new FileEventStore(store).listRuns()).map((r) => r.runId).find((id) => !known.includes(id));
}

const TARGET = 'task/charge_cards/charge';

describe('circuit breakers on the embedded store', () => {
  it('failures open it, other runs wait SCHEDULED saying why, `breaker close` lets them go', async () => {
    const dir = tempDir();
    const store = join(dir, 'store');
    const file = chargeCards(dir, '{ failures: 2, window: 1m, open_for: 1h }');
    // Two failed attempts (two runs, one attempt each: no retry policy) open it.
    expect((await cli(['--store', store, 'run', file, '--code', '1'])).code).not.toBe(0);
    expect((await shown(store)).breakers).toMatchObject([{ name: TARGET, state: 'closed', failures: 1 }]);
    expect((await cli(['--store', store, 'run', file, '--code', '1'])).code).not.toBe(0);
    const open = (await shown(store)).breakers;
    expect(open).toMatchObject([{ name: TARGET, state: 'open', by: 'failures' }]);
    const text = (await cli(['--store', store, 'limits', 'show'])).stdout;
    expect(text).toContain(`breaker ${TARGET}: open until ${open[0]!.until} (after its failures)`);

    // A third run's attempt waits, however long: it does not fail.
    const known = (await new FileEventStore(store).listRuns()).map((r) => r.runId);
    const child = spawnCli(['--store', store, 'run', file, '--code', '0']);
    const code = exited(child);
    let runId: string | undefined;
    await waitFor(
      'the third run waiting for its breaker',
      async () => {
        runId ??= await newRun(store, known);
        if (!runId) return false;
        const t = (await statusJson(store, runId)).tasks.charge;
        return t?.status === 'SCHEDULED' && t.waitingFor === 'breaker to close';
      },
      { timeout: 60_000 },
    );
    expect((await cli(['--store', store, 'status', runId!])).stdout).toContain('waits for its breaker to close');

    const closed = await cli(['--store', store, 'breaker', 'close', TARGET, '--json']);
    expect(JSON.parse(closed.stdout)).toEqual({
      breaker: { name: TARGET, state: 'closed', failures: 0, by: 'operator' },
    });
    expect(await code).toBe(0);
    const events = await new FileEventStore(store).read(runId!);
    expect(events.at(-1)!.state.status).toBe('COMPLETED');
    // Its history says why it waited, once, before the attempt it delayed started; the record changed no state.
    const delayed = events.filter((e) => e.type === 'task.delayed');
    expect(delayed.map((e) => e.data)).toEqual([
      { task: 'charge', attempt: 1, reason: 'breaker_open', breaker: TARGET, until: open[0]!.until },
    ]);
    const at = events.indexOf(delayed[0]!);
    expect(events[at]!.state).toEqual(events[at - 1]!.state);
    expect(events.findIndex((e) => e.type === 'task.started')).toBeGreaterThan(at);
    // `watch` reads the same from the run's own history: held from its task.delayed until its attempt starts.
    expect(trackRun(events.slice(0, at)).view.tasks.charge?.waitingFor).toBeUndefined();
    expect(trackRun(events.slice(0, at + 1)).view.tasks.charge?.waitingFor).toBe('breaker to close');
    expect(trackRun(events).view.tasks.charge?.waitingFor).toBeUndefined();
  }, 180_000);

  it('`breaker open` holds attempts until closed; after open_for one probe goes through and its success closes it', async () => {
    const dir = tempDir();
    const store = join(dir, 'store');
    const file = chargeCards(dir, '{ failures: 1, window: 1m, open_for: 1s }');
    const opened = await cli(['--store', store, 'breaker', 'open', TARGET]);
    expect(opened.stdout.trim()).toBe(`breaker ${TARGET}: open until closed (by an operator)`);
    const child = spawnCli(['--store', store, 'run', file]);
    const code = exited(child);
    let runId: string | undefined;
    await waitFor(
      'a run held by the opened breaker',
      async () => {
        runId ??= await newRun(store, []);
        return runId !== undefined && (await statusJson(store, runId)).tasks.charge?.waitingFor === 'breaker to close';
      },
      { timeout: 60_000 },
    );
    expect((await cli(['--store', store, 'breaker', 'close', TARGET])).stdout.trim()).toBe(
      `breaker ${TARGET}: closed, 0 failures in its window (by an operator)`,
    );
    expect(await code).toBe(0);

    // One failure (failures: 1) opens it for 1 s; the next run is then let through as the probe, and succeeds.
    expect((await cli(['--store', store, 'run', file, '--code', '1'])).code).not.toBe(0);
    expect((await shown(store)).breakers[0]).toMatchObject({
      state: expect.stringMatching(/^(open|half_open)$/),
      by: 'failures',
    });
    expect((await cli(['--store', store, 'run', file, '--code', '0'])).code).toBe(0);
    expect((await shown(store)).breakers).toMatchObject([{ name: TARGET, state: 'closed', failures: 0, by: 'probe' }]);
  }, 180_000);

  it("a queue's breaker from the limits file holds every task on the queue; limits show prints it and its state", async () => {
    const dir = tempDir();
    const store = join(dir, 'store');
    const file = chargeCards(dir, '{ failures: 100, window: 1m, open_for: 1h }');
    const limits = join(dir, 'limits.yaml');
    writeFileSync(limits, 'queues:\n  default:\n    breaker: { failures: 1, window: 1m, open_for: 1h }\n');
    const set = await cli(['--store', store, 'limits', 'set', limits]);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain('queue default: breaker: open 1h after 1 failure in 1m');
    expect((await cli(['--store', store, 'run', file, '--code', '1'])).code).not.toBe(0);
    const { breakers } = await shown(store);
    // The task's own breaker counted the failure too; the queue's (1 failure) opened.
    expect(breakers).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'queue/default', state: 'open', by: 'failures' }),
        expect.objectContaining({ name: TARGET, state: 'closed', failures: 1 }),
      ]),
    );
    const child = spawnCli(['--store', store, 'run', file]);
    const code = exited(child);
    const known = (await new FileEventStore(store).listRuns()).map((r) => r.runId);
    let runId: string | undefined;
    await waitFor(
      "a run held by the queue's breaker",
      async () => {
        runId ??= await newRun(store, known);
        return (
          runId !== undefined &&
          (await statusJson(store, runId)).tasks.charge?.waitingFor === "queue default's breaker to close"
        );
      },
      { timeout: 60_000 },
    );
    expect((await cli(['--store', store, 'breaker', 'close', 'queue/default'])).code).toBe(0);
    expect(await code).toBe(0);
  }, 180_000);

  it('refuses a target that names no breaker, saying how to name one', async () => {
    const r = await cli(['--store', join(tempDir(), 'store'), 'breaker', 'close', 'charge']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'name it as `ledgerflow limits show` does, task/<workflow>/<task>, queue/<queue> or handler/<handler>',
    );
  });
});
