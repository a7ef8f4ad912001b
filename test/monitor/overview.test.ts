/**
 * The monitor seed 003 draws (`ledgerflow watch` on a terminal, nothing
 * named), from golden histories folded to a point mid-way: "Active
 * Workflows: N", a box per run with its status, progress bar, current task,
 * started / elapsed (or waiting) and ETA from past runs' median, a line per
 * task with the seed's glyphs; the keys' state machine; and the live loop
 * with its keys on a real store, where [P]ause and [K]ill act as `pause` and
 * `cancel` do.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../src/events/index.js';
import {
  INITIAL_KEYS,
  mediansOf,
  onKey,
  renderOverview,
  splitKeys,
  trackRun,
  watchRuns,
  type KeyState,
} from '../../src/monitor/index.js';
import { monitorOptions } from '../../src/cli/commands/watch.js';
import { FileEventStore } from '../../src/store/index.js';
import { HISTORIES_DIR, Manifest, MANIFEST_FILE, readHistory } from '../fixtures/histories/histories.js';
import { cli, ROOT, tempDir } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

const manifest = Manifest.parse(JSON.parse(readFileSync(MANIFEST_FILE, 'utf8')));
const history = (file: string) =>
  readHistory(join(HISTORIES_DIR, file), manifest.histories.find((h) => h.file === file)!.runId);
const upTo = (events: EventEnvelope[], seq: number, runId: string) =>
  trackRun(events.filter((e) => e.seq <= seq).map((e) => ({ ...e, runId })));

describe('the monitor seed 003 draws', () => {
  it('two active runs: one running with its progress, current task, elapsed time and ETA; one waiting on an approval', async () => {
    const running = upTo(
      await history('batch-inventory-validation/validate_each-0-retries-then-succeeds.jsonl'),
      9,
      'batch-001',
    );
    const waiting = upTo(
      await history('revenue_milestone/review_gate-needs_approval-to-approve_plan_change-approved-ok.jsonl'),
      5,
      'revenue-002',
    );
    const start = Date.parse(running.view.startedAt);
    const now = start + 135_000;
    const frame = renderOverview([running, waiting], {
      now,
      width: 100,
      color: false,
      medians: new Map([['batch-inventory-validation', 200_000]]),
      selected: 0,
      details: false,
    });
    const lines = frame.split('\n');
    expect(lines[0]).toMatch(/^3OX WORKFLOW MONITOR - \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
    expect(lines).toContain('Active Workflows: 2');
    expect(frame).toContain('┏━ batch-001 (batch-inventory-validation v1)');
    // 2 of 4 tasks ended: load_policy and list_folders.
    expect(frame).toMatch(/┃ {2}Status: RUNNING +Progress: █████░░░░░ 50%/);
    expect(frame).toContain('┃  Current Task: validate_each');
    expect(frame).toMatch(/┃ {2}Started: 2m ago +Elapsed: 00:02:15 {3}ETA: 00:01:05/);
    expect(frame).toMatch(/┃ {2}✓ load_policy \(\d+ms\)/);
    expect(frame).toContain('┃  ⟳ validate_each (running)');
    expect(frame).toContain('┃  ⋯ summarize (pending)');
    // The second: waiting for the CFO's approval, how long it has waited, no ETA while it waits.
    expect(frame).toContain('┌─ revenue-002 (revenue_milestone v1)');
    expect(frame).toMatch(/│ {2}Status: WAITING +Progress: /);
    expect(frame).toContain('│  Current Task: approve_plan_change');
    expect(frame).toMatch(/│ {2}Started: \d+[smh] ago +Waiting: \d\d:\d\d:\d\d$/m);
    expect(frame).toContain('│  ⏸ approve_plan_change (waiting)');
    expect(lines.at(-1)).toBe('[R]efresh  [D]etails  [P]ause  [K]ill  [Q]uit   Tab: next run');
    // No past run of revenue_milestone: its ETA is unknown; [D]etails adds the selected run's full block.
    const details = renderOverview([running, waiting], {
      now,
      width: 100,
      color: false,
      medians: new Map(),
      selected: 1,
      details: true,
      prompt: 'Pause run revenue-002? [y/N]',
    });
    expect(details).toContain('┏━ revenue-002');
    expect(details).toMatch(/◌ approve_plan_change +awaiting approval/);
    expect(details.split('\n').at(-2)).toBe('Pause run revenue-002? [y/N]');
    const running2 = renderOverview([running], {
      now,
      width: 100,
      color: false,
      medians: new Map(),
      selected: 0,
      details: false,
    });
    expect(running2).toContain('ETA: unknown');
  });

  it("the ETA is the median of the workflow's last completed runs (failed ones say nothing of it)", () => {
    const run = (workflowId: string, status: string, ms: number, i: number) => ({
      workflowId,
      status: status as 'COMPLETED',
      startedAt: new Date(Date.UTC(2026, 10, 1, 9, i)).toISOString(),
      completedAt: new Date(Date.UTC(2026, 10, 1, 9, i) + ms).toISOString(),
    });
    const m = mediansOf([
      run('a', 'COMPLETED', 1000, 1),
      run('a', 'COMPLETED', 5000, 2),
      run('a', 'COMPLETED', 2000, 3),
      run('a', 'FAILED', 99_000, 4),
      run('b', 'COMPLETED', 4000, 1),
      run('b', 'COMPLETED', 6000, 2),
    ]);
    expect(m).toEqual(
      new Map([
        ['a', 2000],
        ['b', 5000],
      ]),
    );
  });

  it('keys: Tab selects the next run, P and K ask first (y confirms, anything else cancels), D toggles details, R refreshes, Q quits', () => {
    const ids = ['r1', 'r2'];
    let s: KeyState = INITIAL_KEYS;
    const press = (k: string) => {
      const r = onKey(s, k, ids);
      s = r.state;
      return r.action;
    };
    expect(press('\t')).toEqual({ kind: 'none' });
    expect(s.selected).toBe(1);
    expect(press('p')).toEqual({ kind: 'none' });
    expect(s.confirm).toEqual({ action: 'pause', runId: 'r2' });
    expect(press('n')).toEqual({ kind: 'none' });
    expect(s.confirm).toBeNull();
    press('K');
    expect(press('y')).toEqual({ kind: 'cancel', runId: 'r2' });
    press('1');
    press('d');
    expect(s).toMatchObject({ selected: 0, details: true });
    expect(press('r')).toEqual({ kind: 'refresh' });
    expect(press('q')).toEqual({ kind: 'quit' });
    expect(press('\u0003')).toEqual({ kind: 'quit' });
    // A chunk of raw input holds several keys; an arrow is one.
    expect(splitKeys('py')).toEqual(['p', 'y']);
    expect(splitKeys('\u001b[Bk\u001b[Z')).toEqual(['\u001b[B', 'k', '\u001b[Z']);
  });
});

describe('the monitor on the embedded store, keys in', () => {
  it('P then y pauses the selected run, K then y cancels it, as `ledgerflow pause` and `cancel` record them; Q quits', async () => {
    const cwd = tempDir();
    cpSync(join(ROOT, 'definitions', 'samples', '0UT.3OX'), join(cwd, '0UT.3OX'), { recursive: true });
    writeFileSync(join(cwd, 'strict.yaml'), 'required_files: [README.md, SECURITY.md]\n');
    const store = join(cwd, 'store');
    const run = await cli(
      [
        '--store',
        store,
        'run',
        join(ROOT, 'definitions', 'inventory-validation.yaml'),
        '--target_folder',
        '0UT.3OX',
        '--policy_file',
        'strict.yaml',
        '--json',
      ],
      { cwd },
    );
    expect(run.code, run.stderr).toBe(3);
    const runId = JSON.parse(run.stdout).runId as string;

    const keys = new PassThrough();
    let screen = '';
    const out = {
      write: (t: string) => {
        screen += t;
      },
      columns: 120,
      rows: 60,
    };
    const g = { store };
    const watching = watchRuns({
      store: new FileEventStore(store),
      target: { kind: 'all' },
      mode: 'frame',
      out,
      keepOpen: true,
      color: false,
      tickMs: 50,
      redrawMs: 10,
      pollMs: 50,
      monitor: monitorOptions(g, keys, 'commander'),
    });
    await waitFor(
      'the monitor to show the run',
      () => screen.includes(`Active Workflows: 1`) && screen.includes(runId),
    );
    keys.write('p');
    await waitFor('the question', () => screen.includes(`Pause run ${runId}? [y/N]`));
    keys.write('y');
    const status = async () =>
      JSON.parse((await cli(['--store', store, 'status', runId, '--json'])).stdout) as { status: string };
    await waitFor('the run paused', async () => (await status()).status === 'PAUSED', { timeout: 15_000 });
    await waitFor('the monitor to show it paused', () => /Status: PAUSED/.test(screen.slice(-2000)));
    // Typed quickly: both keys in one chunk.
    keys.write('ky');
    await waitFor('the run cancelled', async () => (await status()).status === 'CANCELLED', { timeout: 15_000 });
    const history = (await cli(['--store', store, 'history', runId])).stdout;
    expect(history).toMatch(/run\.paused .*commander/);
    expect(history).toMatch(/run\.cancelled .*commander/);
    keys.write('q');
    expect(await watching).toMatchObject({ quit: true, stopped: false });
  }, 60_000);
});
