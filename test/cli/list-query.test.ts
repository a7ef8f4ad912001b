/** `ledgerflow list` filters (the run query) and its rows with trigger, agents, result and duration, on the file store. */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { recordOf } from '../../src/query/index.js';
import { FileEventStore } from '../../src/store/index.js';
import { cli, tempDir } from '../helpers/cli.js';
import { APPROVED_RUN, appendCommits, asRun, COMPLETED_RUN, FAILED_RUN, historyCommits } from '../query/fixtures.js';

describe('ledgerflow list with filters', () => {
  let store: string;
  const approved = asRun(historyCommits(APPROVED_RUN), 'run-b-approved', 3600_000);
  const done = asRun(historyCommits(COMPLETED_RUN), 'run-a-done', 0);
  const failed = asRun(historyCommits(FAILED_RUN), 'run-c-failed', 7200_000);

  beforeAll(async () => {
    store = tempDir('lf-list-');
    const s = new FileEventStore(store);
    for (const run of [approved, done, failed]) await appendCommits(s, run);
    await s.close();
  });

  const list = async (...args: string[]) => {
    const r = await cli(['--store', store, 'list', ...args]);
    return {
      ...r,
      rows: r.code === 0 && args.includes('--json') ? (JSON.parse(r.stdout) as Record<string, unknown>[]) : [],
    };
  };

  it('--json rows keep their fields, newest first (as the dashboard), and add trigger, agents, result and duration', async () => {
    const { rows, code } = await list('--json');
    expect(code).toBe(0);
    expect(rows.map((r) => r.runId)).toEqual(['run-c-failed', 'run-b-approved', 'run-a-done']);
    const r = recordOf(approved.flat());
    expect(rows[1]).toEqual({
      runId: r.runId,
      workflowId: r.workflowId,
      version: r.version,
      status: 'COMPLETED',
      startedAt: r.startedAt,
      completedAt: r.completedAt,
      trigger: { kind: 'manual' },
      agents: r.agents,
      result: r.result,
      durationMs: r.durationMs,
    });
    expect(rows[0]).toMatchObject({ status: 'FAILED', result: expect.stringMatching(/.+/) });
  });

  it('filters by status, agent, time range, output text, run id prefix and trigger; --limit keeps the newest', async () => {
    const agent = recordOf(approved.flat()).agents.find((a) => !recordOf(done.flat()).agents.includes(a))!;
    expect((await list('--agent', agent, '--json')).rows.map((r) => r.runId)).toEqual(['run-b-approved']);
    expect((await list('--status', 'failed', '--json')).rows.map((r) => r.runId)).toEqual(['run-c-failed']);
    const start = Date.parse(recordOf(done.flat()).startedAt);
    expect(
      (
        await list(
          '--since',
          new Date(start + 1000).toISOString(),
          '--until',
          new Date(start + 3 * 3600_000 - 1).toISOString(),
          '--json',
        )
      ).rows.map((r) => r.runId),
    ).toEqual(['run-c-failed', 'run-b-approved']);
    const out = recordOf(done.flat()).outputText!;
    const needle = out.slice(2, 8).toUpperCase();
    expect((await list('--output-contains', needle, '--json')).rows.map((r) => r.runId)).toContain('run-a-done');
    expect((await list('--run-id', 'run-c', '--json')).rows.map((r) => r.runId)).toEqual(['run-c-failed']);
    expect((await list('--trigger', 'event', '--json')).rows).toEqual([]);
    expect((await list('--trigger', 'manual', '--limit', '2', '--json')).rows.map((r) => r.runId)).toEqual([
      'run-c-failed',
      'run-b-approved',
    ]);
  });

  it('shows a header, aligned columns newest first, duration and agents in text; a bad --since exits 2 naming the flag and what to write', async () => {
    const text = await list();
    expect(text.code).toBe(0);
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^RUN +WORKFLOW +VERSION +STATUS +STARTED +DURATION +TRIGGER, AGENTS, NOTES$/);
    expect(lines.slice(1).map((l) => l.split(' ')[0])).toEqual(['run-c-failed', 'run-b-approved', 'run-a-done']);
    // Every column starts where its header does (the status colour codes aside).
    const plain = lines.map((l) => l.replace(/\x1b\[[0-9;]*m/g, ''));
    for (const column of ['WORKFLOW', 'VERSION', 'STATUS', 'STARTED', 'DURATION']) {
      const at = plain[0]!.indexOf(column);
      for (const l of plain.slice(1)) expect(l[at - 1], `${column} in ${l}`).toBe(' ');
      for (const l of plain.slice(1)) expect(l[at], `${column} in ${l}`).not.toBe(' ');
    }
    expect(text.stdout).toMatch(
      new RegExp(`run-b-approved .*COMPLETED .*  \\d[\\dhms.]* +@${recordOf(approved.flat()).agents[0]}`),
    );
    const bad = await list('--since', 'yesterday');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /--since "yesterday" is not a time: use an ISO time .* or how long ago \(90m, 24h, 7d\)/,
    );
    const badJson = await cli(['--store', store, 'list', '--limit', '9999', '--json']);
    expect(badJson.code).toBe(2);
    expect(JSON.parse(badJson.stdout).error).toMatchObject({ code: 'LF_QUERY_INVALID', meta: { field: 'limit' } });
  });

  it('reindex rebuilds the index from the run files and lists the same runs', async () => {
    const before = (await list('--json')).rows;
    const r = await cli(['--store', store, 'reindex', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ index: join(store, 'index', 'runs.jsonl'), runs: 3, corrupt: [] });
    expect(r.stderr).toMatch(/reindex: 3 runs/);
    expect((await list('--json')).rows).toEqual(before);
  });
});
