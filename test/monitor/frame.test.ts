/**
 * Frames of `ledgerflow watch` drawn from golden histories (folded with the
 * runtime's fold, up to an event where the run was mid-way): what a user sees
 * at that point — glyphs, progress, attempts, who a task waits for, the tail.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../src/events/index.js';
import { advanceRun, plainLine, renderFrame, trackRun, type WatchedRun } from '../../src/monitor/index.js';
import { HISTORIES_DIR, Manifest, MANIFEST_FILE, readHistory } from '../fixtures/histories/histories.js';

const manifest = Manifest.parse(JSON.parse(readFileSync(MANIFEST_FILE, 'utf8')));
const history = (file: string) =>
  readHistory(join(HISTORIES_DIR, file), manifest.histories.find((h) => h.file === file)!.runId);

/** The run as it was after event `seq`, drawn half a second after that event, without colour. */
function frameAt(
  events: EventEnvelope[],
  seq: number,
  opts: { width?: number; tail?: number; height?: number } = {},
): string {
  const run = trackRun(events.filter((e) => e.seq <= seq));
  return renderFrame([run], {
    now: Date.parse(run.tail.at(-1)!.time) + 500,
    width: opts.width ?? 120,
    color: false,
    tail: opts.tail ?? 3,
    ...(opts.height ? { height: opts.height } : {}),
  });
}

describe('watch frames from recorded histories', () => {
  it('shows a MAP item in backoff: progress in items, the retrying glyph, its attempt of max, when it retries and why', async () => {
    const events = await history('batch-inventory-validation/validate_each-0-retries-then-succeeds.jsonl');
    expect(frameAt(events, 9)).toBe(
      [
        '● lf-path  batch-inventory-validation@1  RUNNING  500ms',
        '  ✓ load_policy         completed             attempt 1      0ms',
        '  ✓ list_folders        completed             attempt 1      0ms',
        '  ● validate_each       running    1/2 items               500ms',
        '    ↻ validate_each[0]  retrying              attempt 1/2  500ms  retry in 500ms · scripted failure of attempt 1',
        '  ○ summarize           pending',
        '  last events',
        '    00:00:00  task.started       validate_each[1]  attempt 1',
        '    00:00:00  task.failed        validate_each[0]  attempt 1: scripted failure of attempt 1',
        '    00:00:00  task.completed     validate_each[1]  attempt 1',
      ].join('\n'),
    );
    // Settled: every task done, the MAP at 2/2, durations instead of elapsed times.
    const end = frameAt(events, 99);
    expect(end.split('\n')[0]).toBe('✓ lf-path  batch-inventory-validation@1  COMPLETED  1.0s');
    expect(end).toContain('✓ validate_each  completed  2/2 items             1.0s');
    expect(end).not.toMatch(/[●↻○]/);
  });

  it("shows who an approval waits for (the HUMAN task's approvers) while the run is WAITING", async () => {
    const events = await history(
      'revenue_milestone/review_gate-needs_approval-to-approve_plan_change-approved-ok.jsonl',
    );
    const frame = frameAt(events, 5);
    expect(frame.split('\n')[0]).toMatch(/^◌ lf-path {2}revenue_milestone@1 {2}WAITING/);
    expect(frame).toMatch(/◌ approve_plan_change +awaiting approval +500ms +waits for cfo · deadline in /);
    expect(frame).toMatch(/✓ compute_metrics +completed +attempt 1\/3/);
  });

  it("shows a DO_WHILE's iteration of its maximum and the body task as the instance it runs", async () => {
    const events = await history(
      'multi-agent-research/refine-runs-4-iterations-to-quality_gate-needs_review-to-flag_for_review-ok.jsonl',
    );
    const frame = frameAt(events, 12);
    expect(frame).toMatch(/● refine +running +iteration 3\/10 +500ms/);
    expect(frame).toMatch(/● write_draft#3 +running +attempt 1 +500ms +assigned to writer/);
    expect(frame).toMatch(/○ review_draft#3 +pending/);
  });

  it("shows a WAIT for a signal, then its timeout as a failure with the run's error", async () => {
    const events = await history(
      'folder-audit/report_each-over-no-items-to-sign_off-gets-no-signal-audit_signed_off-in-time-timed-out-to-run-FAILED.jsonl',
    );
    expect(frameAt(events, 5)).toMatch(
      /◌ sign_off +waiting +500ms +waits for signal audit_signed_off · times out in 167h 59m/,
    );
    const failed = frameAt(events, 6, { tail: 1 });
    expect(failed.split('\n')[0]).toMatch(/^✗ lf-path {2}folder-audit@1 {2}FAILED {2}168h 00m$/);
    expect(failed).toMatch(/✗ sign_off +timed out +168h 00m +no signal "audit_signed_off"/);
    expect(failed).toMatch(/⤼ publish +skipped/);
    expect(failed).toContain('  error: no signal "audit_signed_off" within');
    expect(failed.split('\n').at(-1)).toBe('    00:00:00  timer.fired        sign_off  timeout (attempt 1)');
  });

  it('cuts every line to the terminal width and the frame to its height, never wrapping', async () => {
    const events = await history('batch-inventory-validation/validate_each-0-retries-then-succeeds.jsonl');
    const narrow = frameAt(events, 9, { width: 40 }).split('\n');
    for (const line of narrow) expect([...line].length).toBeLessThanOrEqual(40);
    expect(narrow[4]).toBe('    ↻ validate_each[0]  retrying       …');
    const short = frameAt(events, 9, { height: 4 }).split('\n');
    expect(short).toHaveLength(4);
    expect(short[3]).toBe('… 7 more lines (a taller terminal shows them)');
  });

  it('colours glyphs and words on a terminal, and the no-colour mode is the same text', async () => {
    const events = await history('lead_qualification/scenario-cancelled-mid-attempt.jsonl');
    const run = trackRun(events);
    const opts = { now: Date.parse(run.view.completedAt!), width: 120, tail: 2 };
    const coloured = renderFrame([run], { ...opts, color: true });
    expect(coloured).toContain('\u001b[');
    expect(coloured.replace(/\u001b\[[0-9;]*m/g, '')).toBe(renderFrame([run], { ...opts, color: false }));
    expect(renderFrame([run], { ...opts, color: false })).toMatch(
      /^⊘ golden-cancelled-mid-attempt {2}lead_qualification@1 {2}CANCELLED {2}5\.0s/,
    );
  });

  it('folds a run event by event to the same frame as folding it whole, and prints each event as one plain line', async () => {
    const events = await history('batch-inventory-validation/validate_each-0-retries-then-succeeds.jsonl');
    let run: WatchedRun = trackRun(events.slice(0, 1));
    for (const e of events.slice(1)) run = advanceRun(run, [e, e]); // a batch handed twice changes nothing
    const opts = { now: Date.parse(events.at(-1)!.time), width: 120, color: false };
    expect(renderFrame([run], opts)).toBe(renderFrame([trackRun(events)], opts));
    expect(plainLine(events[7]!)).toBe(
      '2026-01-01T00:00:00.000Z  lf-path  task.failed  validate_each[0]  attempt 1: scripted failure of attempt 1  → RUNNING',
    );
  });

  it('draws one block per run under a title', async () => {
    const a = trackRun(
      await history('revenue_milestone/review_gate-needs_approval-to-approve_plan_change-approved-ok.jsonl'),
    );
    const b = trackRun(
      (
        await history(
          'folder-audit/report_each-over-no-items-to-sign_off-gets-no-signal-audit_signed_off-in-time-timed-out-to-run-FAILED.jsonl',
        )
      ).slice(0, 5),
    );
    const frame = renderFrame([a, b], {
      now: Date.parse('2026-01-01T00:00:01Z'),
      width: 120,
      color: false,
      tail: 0,
      title: 'watching every run: 1 active, 1 ended · Ctrl-C to stop',
    }).split('\n');
    expect(frame[0]).toBe('watching every run: 1 active, 1 ended · Ctrl-C to stop');
    expect(frame.filter((l) => l.startsWith('✓ ') || l.startsWith('◌ '))).toEqual([
      expect.stringMatching(/^✓ lf-path {2}revenue_milestone@1 {2}COMPLETED/),
      expect.stringMatching(/^◌ lf-path {2}folder-audit@1 {2}WAITING {2}1\.0s$/),
    ]);
  });
});
