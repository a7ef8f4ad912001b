/**
 * Task concurrency and rate limits from the command line, as
 * docs/limits.md#task-concurrency-and-rate-limits tells a user: on the
 * embedded file store, with one `ledgerflow run` process per run (the gate
 * is shared through the store's directory). The invariants are read from
 * the runs' histories, never from timings.
 */
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderFrame, trackRun } from '../../src/monitor/index.js';
import { foldEvents, runView } from '../../src/runtime/index.js';
import { FileEventStore } from '../../src/store/index.js';
import { cli, expectEveryRunReplays, spawnCli, tempDir } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { mostAtOnce, mostStartsPer } from '../helpers/task-limits.js';

afterAll(async () => {
  expect(await expectEveryRunReplays()).toBeGreaterThan(0);
});

/** The docs' example, its command a sleep of `secs` (an input) so the waits last. */
function syncContacts(dir: string, limits: string): string {
  const file = join(dir, 'sync_contacts.yaml');
  writeFileSync(
    file,
    `workflow:
  id: sync_contacts
  input:
    optional:
      - secs: "1"
  tasks:
    - id: push_contact
      type: COMMAND
      command: [sleep, "\${workflow.input.secs}"]
${limits}`,
  );
  return file;
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((res) => child.on('close', (code) => res(code)));
}

/** The store's runs, read in-process (a CLI per probe is seconds on a loaded machine). */
async function runIds(store: string): Promise<string[]> {
  return (await new FileEventStore(store).listRuns()).map((r) => r.runId);
}

/** What `status --json` prints of a run, computed in-process by the same function (runView over the run's own definition). */
async function viewOf(store: string, runId: string) {
  const events = await new FileEventStore(store).read(runId);
  const { compiled, snapshot, seq } = foldEvents(events);
  return runView(snapshot, seq, compiled.definition);
}

async function statusJson(
  store: string,
  runId: string,
): Promise<{
  status: string;
  tasks: Record<string, { status: string; waitingFor?: string; items?: { waitingFor?: string }[] }>;
}> {
  return JSON.parse((await cli(['--store', store, 'status', runId, '--json'])).stdout);
}

describe('task concurrency and rate limits on the embedded store', () => {
  it('concurrency { limit: 2 }: five runs started at once never run more than two attempts at a time; the others wait SCHEDULED, shown by status --json', async () => {
    const dir = tempDir();
    const store = join(dir, 'store');
    const file = syncContacts(dir, '      concurrency: { limit: 2 }\n');
    const children = Array.from({ length: 5 }, () => spawnCli(['--store', store, 'run', file, '--secs', '3']));
    const codes = Promise.all(children.map(exited));
    // While they run: some run's task waits, and says for what (what status --json prints).
    await waitFor(
      'a run waiting for its slot',
      async () => {
        for (const id of await runIds(store)) {
          const t = (await viewOf(store, id)).tasks.push_contact;
          if (t?.status === 'SCHEDULED' && t.waitingFor === 'concurrency limit 2') return true;
        }
        return false;
      },
      { timeout: 120_000 },
    );
    expect(await codes).toEqual([0, 0, 0, 0, 0]);
    const fs = new FileEventStore(store);
    const ids = await runIds(store);
    expect(ids).toHaveLength(5);
    const histories = await Promise.all(ids.map((id) => fs.read(id)));
    expect(histories.map((h) => h.at(-1)!.state.status)).toEqual(Array(5).fill('COMPLETED'));
    expect(mostAtOnce(histories, 'push_contact')).toBeLessThanOrEqual(2);
    // The wait is no attempt: each run started its task once.
    for (const h of histories) expect(h.filter((e) => e.type === 'task.started')).toHaveLength(1);
  }, 180_000);

  it('rate_limit { limit: 5, per: 1s } on a MAP: 15 item attempts, no 1-second window holds more than 5 starts', async () => {
    const dir = tempDir();
    const store = join(dir, 'store');
    const file = join(dir, 'rated.yaml');
    writeFileSync(
      file,
      `workflow:
  id: rated
  input:
    required: [{ ids: { type: array } }]
  tasks:
    - id: each
      type: MAP
      items: "\${workflow.input.ids}"
      iterator: push
      max_concurrency: 15
      rate_limit: { limit: 5, per: 1s }
    - id: push
      type: COMMAND
      command: ["true"]
`,
    );
    const r = await cli([
      '--store',
      store,
      'run',
      file,
      '--ids',
      JSON.stringify(Array.from({ length: 15 }, (_, i) => i)),
    ]);
    expect(r.code, r.stderr).toBe(0);
    const [id] = await runIds(store);
    const events = await new FileEventStore(store).read(id!);
    expect(events.filter((e) => e.type === 'task.started' && e.data.item !== undefined)).toHaveLength(15);
    expect(mostStartsPer(events, 'each', 1000, true)).toBeLessThanOrEqual(5);
  }, 180_000);

  it('kill -9 of the process holding the only slot: the waiting run starts once the holder is cancelled from another process', async () => {
    const dir = tempDir();
    const store = join(dir, 'store');
    const file = syncContacts(dir, '      concurrency: { limit: 1 }\n');
    const holder = spawnCli(['--store', store, 'run', file, '--secs', '120']);
    const holderGone = exited(holder);
    const holderId = await waitFor(
      'the holder to start its attempt',
      async () => {
        const [id] = await runIds(store);
        return id && (await viewOf(store, id)).tasks.push_contact?.status === 'IN_PROGRESS' ? id : null;
      },
      { timeout: 120_000 },
    );
    const waiter = spawnCli(['--store', store, 'run', file, '--secs', '0.1']);
    const waiterCode = exited(waiter);
    const waiterId = await waitFor(
      'the second run to wait for the slot',
      async () => {
        for (const id of await runIds(store)) {
          if (id === holderId) continue;
          if ((await viewOf(store, id)).tasks.push_contact?.waitingFor === 'concurrency limit 1') return id;
        }
        return null;
      },
      { timeout: 120_000 },
    );
    // As status shows it, --json and text.
    expect((await statusJson(store, waiterId)).tasks.push_contact).toMatchObject({
      status: 'SCHEDULED',
      waitingFor: 'concurrency limit 1',
    });
    expect((await cli(['--store', store, 'status', waiterId])).stdout).toContain('waits for its concurrency limit 1');
    // And as `watch` draws it.
    const frame = renderFrame([trackRun(await new FileEventStore(store).read(waiterId))], {
      now: Date.now(),
      width: 120,
      color: false,
      tail: 1,
    });
    expect(frame).toMatch(/push_contact +scheduled.*waits for its concurrency limit 1/);
    holder.kill('SIGKILL');
    await holderGone;
    const cancelled = await cli(['--store', store, 'cancel', holderId]);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(await waiterCode).toBe(0);
    expect((await statusJson(store, waiterId)).status).toBe('COMPLETED');
    const fs = new FileEventStore(store);
    expect(mostAtOnce([await fs.read(holderId), await fs.read(waiterId)], 'push_contact')).toBe(1);
  }, 180_000);
});
