/**
 * The live loop on JetStream (a real nats-server): `watch --all` finds a run
 * that starts after it began (headers-only consumer), follows it through the
 * store's `follow` to its end and returns; Ctrl-C (abort) ends a watch kept
 * open. Runs are golden histories appended commit by commit, as an engine
 * would have appended them.
 */
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { noNats, skipNote, uniqueId, useCluster } from '../helpers/cluster.js';
import type { EventEnvelope } from '../../src/events/index.js';
import { watchRuns, type WatchOptions } from '../../src/monitor/index.js';
import { JetStreamEventStore } from '../../src/store/index.js';
import { HISTORIES_DIR } from '../fixtures/histories/histories.js';
import { waitFor } from '../helpers/wait.js';

// The test run's nats-server, on a stream of this file's own.
const nats = useCluster({ server: 'shared' });
const id = uniqueId();
const opts = () => ({ servers: nats.url, stream: `LFW_${id}`, subjectPrefix: `lfw.${id}` });
/** A store on this file's stream, closed when the tests are done (before the stream is dropped). */
const streamStore = () => {
  const store = new JetStreamEventStore(opts());
  nats.defer(() => store.close());
  return store;
};
beforeAll(() =>
  nats.defer(async () => {
    await (await nats.jsm()).streams.delete(opts().stream).catch(() => undefined);
  }),
);

/** A golden history's commits (lines), as the engine appended them, under another run id (the coverage paths share one). */
const commits = (file: string, runId: string) =>
  readFileSync(join(HISTORIES_DIR, file), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { dedupId: string; events: EventEnvelope[] })
    .map((c) => ({ dedupId: c.dedupId, events: c.events.map((e) => ({ ...e, runId })) }));

async function appendCommits(
  store: JetStreamEventStore,
  cs: { dedupId: string; events: EventEnvelope[] }[],
): Promise<void> {
  for (const c of cs)
    await store.append({
      runId: c.events[0]!.runId,
      expectedSeq: c.events[0]!.seq - 1,
      dedupId: c.dedupId,
      events: c.events,
    });
}

function output(): { out: WatchOptions['out']; lines: () => string[] } {
  let text = '';
  return {
    out: {
      write: (t: string) => {
        text += t;
      },
    },
    lines: () => text.split('\n').filter(Boolean),
  };
}

describe.skipIf(noNats)(`watch on JetStream${skipNote}`, () => {
  it('--all picks up a run that starts while it watches, follows it to its end and returns its status', async () => {
    const store = streamStore();
    const writer = streamStore();
    const history = commits('batch-inventory-validation/validate_each-0-retries-then-succeeds.jsonl', 'new-run');
    // An active run before the watch starts: it is listed and followed from its last event.
    const before = commits(
      'revenue_milestone/review_gate-needs_approval-to-approve_plan_change-approved-ok.jsonl',
      'active-run',
    );
    await appendCommits(writer, before.slice(0, -2));
    const o = output();
    const watching = watchRuns({ store, target: { kind: 'all' }, mode: 'plain', out: o.out, tail: 1 });
    await waitFor('the active run', () => o.lines().length === 1, { detail: () => o.lines().join('\n') });
    await appendCommits(writer, history.slice(0, 3));
    await waitFor('the new run', () => o.lines().some((l) => l.includes('new-run  task.started  load_policy')), {
      detail: () => o.lines().join('\n'),
    });
    await appendCommits(writer, history.slice(3));
    await appendCommits(writer, before.slice(-2));
    const result = await watching;
    expect(result).toEqual({
      stopped: false,
      runs: [
        { runId: 'active-run', workflowId: 'revenue_milestone', status: 'COMPLETED' },
        { runId: 'new-run', workflowId: 'batch-inventory-validation', status: 'COMPLETED' },
      ],
    });
    const lines = o.lines();
    // The active run from its last recorded event (tail 1), the new one from its start; each event once.
    const seqs = (runId: string) => lines.filter((l) => l.includes(`  ${runId}  `)).length;
    const lastBefore = before.at(-3)!.events.at(-1)!;
    expect(lines[0]).toContain(`  active-run  ${lastBefore.type}  `);
    expect(seqs('active-run')).toBe(1 + before.slice(-2).flatMap((c) => c.events).length);
    expect(seqs('new-run')).toBe(history.flatMap((c) => c.events).length);
    expect(lines.find((l) => l.includes('  new-run  '))).toContain('run.started');
  }, 30_000);

  it('a watch kept open for new runs of a workflow ends when aborted (Ctrl-C), saying it was stopped', async () => {
    const store = streamStore();
    const stop = new AbortController();
    const o = output();
    const watching = watchRuns({
      store,
      target: { kind: 'workflow', workflowId: 'no-runs-yet' },
      mode: 'json',
      out: o.out,
      keepOpen: true,
      signal: stop.signal,
    });
    // Nothing of that workflow runs (the other test's runs are not its): only the abort ends it.
    stop.abort();
    expect(await watching).toEqual({ stopped: true, runs: [] });
    expect(o.lines()).toEqual([]);
  }, 30_000);

  it("the monitor (nothing named, on a terminal): the active run in its box with its ETA from the stream's past runs; its keys act through what it is given", async () => {
    const store = streamStore();
    const writer = streamStore();
    // A completed run of the workflow (its duration is the ETA's median), and one still going.
    await appendCommits(
      writer,
      commits('revenue_milestone/review_gate-needs_approval-to-approve_plan_change-approved-ok.jsonl', 'monitor-done'),
    );
    const waiting = commits(
      'revenue_milestone/review_gate-needs_approval-to-approve_plan_change-approved-ok.jsonl',
      'monitor-waits',
    );
    await appendCommits(writer, waiting.slice(0, -2));
    const keys = new PassThrough();
    let screen = '';
    const acted: string[] = [];
    const { pastMedians } = await import('../../src/monitor/index.js');
    const watching = watchRuns({
      store,
      target: { kind: 'all' },
      mode: 'frame',
      out: {
        write: (t: string) => {
          screen += t;
        },
        columns: 120,
        rows: 80,
      },
      keepOpen: true,
      color: false,
      tickMs: 50,
      redrawMs: 10,
      monitor: {
        keys,
        medians: () => pastMedians(store),
        act: async (action, runId) => {
          acted.push(`${action} ${runId}`);
          return `${action} ${runId} sent`;
        },
      },
    });
    // Its ETA from the completed run's duration (the median of one), read from the stream: a time, or overdue.
    await waitFor(
      'the active run in its box, with an ETA',
      () => screen.includes('┏━ monitor-waits (revenue_milestone v1)') && /ETA: (\d\d:\d\d:\d\d|overdue)/.test(screen),
      { detail: () => screen.slice(-3000) },
    );
    expect(screen).toContain('Active Workflows: 1');
    keys.write('k');
    keys.write('y');
    await waitFor('the kill to be sent', () => acted.length === 1 && screen.includes('cancel monitor-waits sent'));
    expect(acted).toEqual(['cancel monitor-waits']);
    keys.write('q');
    expect(await watching).toMatchObject({ quit: true, stopped: false });
  }, 30_000);
});
