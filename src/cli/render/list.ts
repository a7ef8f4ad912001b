/**
 * Terminal output of `ledgerflow list` (a table of runs), the warning for a corrupt run, and a duration in words. Every
 * text from a run goes through `inert`.
 */
import { inert } from '../../terminal/index.js';
import type { RunRecord } from '../../query/index.js';
import type { CorruptRun } from '../../store/index.js';
import { statusColor } from './render.js';

/** The warning for a run whose log cannot be read (list, reindex). */
export const corruptText = (c: CorruptRun): string =>
  `warning: run ${c.runId} is corrupt and was left out: ${c.file}: ${c.reason}`;

/**
 * The line said on stderr about once a second while a read of the run index reads many run logs (the first `list` of a
 * large store, or after its cache was removed: half a minute at 100,000 runs), so that it does not read as a hang.
 */
export const indexProgressText = (read: number, of: number): string =>
  read === 0
    ? `reading the run index: ${of.toLocaleString('en-US')} run logs to read (once: what is read is kept in the index's cache)`
    : `reading the run index: ${read.toLocaleString('en-US')} of ${of.toLocaleString('en-US')} run logs read`;

/**
 * `ledgerflow list`: a header row, then a run a row, newest first (as the dashboard), each column as wide as its widest
 * cell so long ids (a child run's) keep the columns aligned; the last column is free text.
 */
export function listText(runs: RunRecord[]): string {
  if (runs.length === 0) return 'no runs match (0)';
  const head = ['RUN', 'WORKFLOW', 'VERSION', 'STATUS', 'STARTED', 'DURATION', 'TRIGGER, AGENTS, NOTES'];
  const rows = runs.map((r) => [
    inert(r.runId),
    inert(r.workflowId),
    `v${r.version}`,
    r.status,
    r.startedAt,
    r.durationMs !== null ? durationText(r.durationMs) : '-',
    inert(
      `${extrasText(r)}${parentText(r.parent)}${r.schedule ? `  (schedule triggers[${r.schedule.trigger}] slot ${r.schedule.slot})` : ''}`.trim(),
    ),
  ]);
  const widths = head.slice(0, -1).map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[], status: (s: string) => string) =>
    cells
      .map((c, i) => {
        if (i === cells.length - 1) return c;
        const padded = c.padEnd(widths[i]!);
        return i === 3 ? status(padded) : padded;
      })
      .join('  ')
      .trimEnd();
  return [line(head, (s) => s), ...rows.map((row) => line(row, statusColor))].join('\n');
}

/** Trigger and agents in a few words: `event:evt-1  @alice,bob`. */
function extrasText(r: RunRecord): string {
  const parts: string[] = [];
  // Parent and schedule runs say so in words below; an event or a retry here.
  if (r.trigger.kind === 'event')
    parts.push(`event${r.trigger.id ? `:${r.trigger.id}` : r.trigger.type ? `:${r.trigger.type}` : ''}`);
  if (r.trigger.kind === 'retry') parts.push(`retry of ${r.trigger.runId}`);
  if (r.agents.length > 0) parts.push(`@${r.agents.join(',')}`);
  if (r.search) for (const [k, v] of Object.entries(r.search)) parts.push(`${k}=${String(v)}`);
  return parts.join('  ');
}

export function durationText(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`;
  return `${Math.floor(ms / 3_600_000)}h${String(Math.floor((ms % 3_600_000) / 60_000)).padStart(2, '0')}m`;
}

function parentText(p: RunRecord['parent']): string {
  if (!p) return '';
  return p.relation === 'failure'
    ? `  (failure workflow of ${p.runId})`
    : p.relation === 'start'
      ? `  (started by ${p.runId})`
      : `  (child of ${p.runId}${p.task ? ` task ${p.task}` : ''})`;
}
