/**
 * The 3OX workflow monitor ("3OX WORKFLOW MONITOR", `ledgerflow watch` on a terminal with no run named): "Active
 * Workflows: N", and per run a box with its status, a progress bar, the current task, when it started, how long it has
 * run (or waited), an ETA from the median duration of the workflow's past runs, and a line per task; the keys at the
 * foot. A pure function of the runs, the time and the medians, as frame.ts is.
 */
import cliTruncate from 'cli-truncate';
import { FINAL_TASK_STATUSES, progressPercent, taskEntries } from '../compiler/index.js';
import { inert } from '../terminal/index.js';
import { colors, formatDuration, runLook, type Colors } from './look.js';
import { runBlock, type FrameOptions } from './frame.js';
import type { WatchedRun } from './track.js';

interface OverviewOptions extends Pick<FrameOptions, 'now' | 'width' | 'height' | 'color'> {
  /** Median duration (ms) of each workflow's past COMPLETED runs; absent: no ETA known. */
  medians: ReadonlyMap<string, number>;
  /** The run the keys act on (an index into the runs shown). */
  selected: number;
  /** [D]etails: the selected run's full block (tasks, attempts, last events) under its box. */
  details: boolean;
  /** A question or a result, shown above the keys ("Pause run …? [y/N]"). */
  prompt?: string;
}

/** The monitor's task glyphs: ✓ done, ⟳ running, ⋯ pending, ⏸ waiting (a person, a signal, a pause), ✗ failed. */
const TASK_GLYPH: Record<string, [string, string]> = {
  COMPLETED: ['✓', ''],
  IN_PROGRESS: ['⟳', 'running'],
  RETRYING: ['⟳', 'retrying'],
  SCHEDULED: ['⋯', 'scheduled'],
  PENDING: ['⋯', 'pending'],
  PENDING_APPROVAL: ['⏸', 'waiting'],
  WAITING: ['⏸', 'waiting'],
  FAILED: ['✗', 'failed'],
  TIMED_OUT: ['✗', 'timed out'],
  SKIPPED: ['⤼', 'skipped'],
  CANCELLED: ['⊘', 'cancelled'],
};
const KEYS = '[R]efresh  [D]etails  [P]ause  [K]ill  [Q]uit   Tab: next run';

/** hh:mm:ss, as 3OX writes elapsed and waiting times. */
function clock(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${String(Math.floor(s / 3600)).padStart(2, '0')}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

/** "2m ago", "45m ago", "3h ago". */
function ago(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  return `${Math.floor(s / 3600)}h ago`;
}

/** The median of durations (ms), or undefined for none. */
export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : Math.round((sorted[mid - 1]! + sorted[mid]!) / 2);
}

/** Share of the run's tasks that ended (completed, failed, skipped, cancelled), 0..100. */
function progressOf(run: WatchedRun): number {
  return progressPercent(run.fold.snapshot.context.tasks);
}

function bar(pct: number, c: Colors): string {
  const full = Math.round(pct / 10);
  return `${c.green('█'.repeat(full))}${c.dim('░'.repeat(10 - full))} ${pct}%`;
}

/** Since when the run waits: its pause (the last run.paused), else the task it waits on, else its last event. */
function waitingSince(run: WatchedRun): number {
  if (run.view.status === 'PAUSED') {
    const paused = [...run.tail].reverse().find((e) => e.type === 'run.paused');
    if (paused) return Date.parse(paused.time);
  }
  const waiting = Object.values(run.view.tasks)
    .filter((t) => (t.status === 'PENDING_APPROVAL' || t.status === 'WAITING') && t.startedAt)
    .map((t) => Date.parse(t.startedAt!));
  return waiting.length > 0 ? Math.min(...waiting) : Date.parse(run.fold.snapshot.context.updatedAt);
}

function currentTask(run: WatchedRun): string {
  const busy = Object.entries(run.view.tasks).find(([, t]) =>
    ['IN_PROGRESS', 'RETRYING', 'PENDING_APPROVAL', 'WAITING', 'SCHEDULED'].includes(t.status),
  );
  return busy ? busy[0] : '—';
}

/** Two columns: `right` starts at `width` (counted without colour codes). */
function two(left: string, right: string, width: number): string {
  const shown = left.replace(/\x1b\[[0-9;]*m/g, '').length;
  return `${left}${' '.repeat(Math.max(2, width - shown))}${right}`;
}

function runBox(run: WatchedRun, o: OverviewOptions, selected: boolean, c: Colors): string[] {
  const v = run.view;
  const look = runLook(v.status, c);
  const started = Date.parse(v.startedAt);
  const waits = v.status === 'PAUSED' || v.status === 'WAITING';
  const elapsed = o.now - started;
  const med = o.medians.get(v.workflowId);
  const eta = waits
    ? ''
    : med === undefined
      ? 'ETA: unknown'
      : med > elapsed
        ? `ETA: ${clock(med - elapsed)}`
        : 'ETA: overdue';
  const head = `${selected ? '┏━' : '┌─'} ${inert(v.runId)} ${c.dim(`(${inert(v.workflowId)} v${v.version})`)} `;
  const lines = [head];
  const pad = selected ? '┃  ' : '│  ';
  lines.push(pad + two(`Status: ${look.paint(v.status)}`, `Progress: ${bar(progressOf(run), c)}`, 28));
  lines.push(pad + `Current Task: ${inert(currentTask(run))}`);
  lines.push(
    pad +
      two(
        `Started: ${ago(o.now - started)}`,
        `${waits ? `Waiting: ${clock(o.now - waitingSince(run))}` : `Elapsed: ${clock(elapsed)}`}${eta ? `   ${eta}` : ''}`,
        28,
      ),
  );
  for (const [id, t] of taskEntries(run.fold.snapshot.context.tasks)) {
    const [glyph, word] = TASK_GLYPH[t.status] ?? ['?', t.status.toLowerCase()];
    const took =
      t.status === 'COMPLETED' && t.startedAt && t.completedAt
        ? formatDuration(Date.parse(t.completedAt) - Date.parse(t.startedAt))
        : '';
    const paint =
      t.status === 'COMPLETED'
        ? c.green
        : t.status === 'FAILED' || t.status === 'TIMED_OUT'
          ? c.red
          : FINAL_TASK_STATUSES.includes(t.status) || word === 'pending'
            ? c.dim
            : c.cyan;
    lines.push(pad + `${paint(glyph)} ${inert(id)} ${c.dim(`(${took || word})`)}`);
  }
  lines.push(selected ? '┗━━' : '└──');
  return lines;
}

/** The whole screen: title, count, a box per run (the selected one's details under it when asked), the keys. */
export function renderOverview(runs: readonly WatchedRun[], o: OverviewOptions): string {
  const c = colors(o.color ?? true);
  const lines = [
    c.bold(`3OX WORKFLOW MONITOR - ${new Date(o.now).toISOString().slice(0, 19).replace('T', ' ')}Z`),
    '',
    `Active Workflows: ${runs.length}`,
  ];
  runs.forEach((run, i) => {
    lines.push('');
    lines.push(...runBox(run, o, i === o.selected, c));
    if (i === o.selected && o.details) lines.push(...runBlock(run, o.now, 5, c));
  });
  if (runs.length === 0) lines.push('', c.dim('no active runs: new ones appear here as they start'));
  const foot = ['', ...(o.prompt ? [c.yellow(inert(o.prompt))] : []), c.bold(KEYS)];
  let body = lines;
  if (o.height !== undefined && lines.length + foot.length > o.height) {
    const keep = Math.max(0, o.height - foot.length - 1);
    body = [...lines.slice(0, keep), c.dim(`… ${lines.length - keep} more lines (a taller terminal shows them)`)];
  }
  const width = Math.max(10, o.width);
  return [...body, ...foot].map((l) => cliTruncate(l, width, { position: 'end' })).join('\n');
}
