/**
 * The demo's report: each run's trail (tasks, approvals, duration, the batch validation's folders) summarized from its
 * events, and the report as text. Apart from runDemo (index.ts), which drives the runs and fills it.
 */
import { sep } from 'node:path';
import type { EventEnvelope, WorkflowStatus } from '../events/index.js';
import { runView, type RunSnapshot } from '../runtime/index.js';

/** The batch inventory validation: its runs report their folders. */
export const BATCH = 'batch-inventory-validation';

export interface DemoTask {
  id: string;
  status: string;
  attempts: number;
  durationMs: number | null;
  /** A DECISION's chosen case. */
  decision?: string;
  /** A MAP's items by status. */
  items?: Record<string, number>;
}

export interface DemoRun {
  runId: string;
  workflowId: string;
  version: number;
  /** `event <type> <id>`, or `run` for the batch validation started directly. */
  startedBy: string;
  status: WorkflowStatus;
  events: number;
  durationMs: number | null;
  tasks: DemoTask[];
  approvals: { task: string; decision: string; by: string; comment: string | null }[];
  output: unknown;
  error: string | null;
  /** The batch validation: each folder's status, score, file count and violations (the summary task's `per_folder`). */
  folders?: { folder: string; status: string; score: unknown; files: unknown; violations: unknown; receipt: unknown }[];
}

export interface DemoReport {
  ok: boolean;
  store: string;
  outputRoot: string;
  durationMs: number;
  /** Notes on what the demo did differently from the samples (e.g. a variant payload), in order. */
  notes: string[];
  runs: DemoRun[];
  /** Files the handlers wrote, relative to outputRoot. */
  files: string[];
  /** Commands to look further. */
  commands: string[];
}

const since = (from: string | null, to: string | null) =>
  from && to ? Math.max(0, Date.parse(to) - Date.parse(from)) : null;

export function summarize(events: EventEnvelope[], snapshot: RunSnapshot, seq: number, startedBy: string): DemoRun {
  const view = runView(snapshot, seq);
  const tasks: DemoTask[] = Object.entries(view.tasks).map(([id, t]) => {
    const task: DemoTask = {
      id,
      status: t.status,
      attempts: t.attempts,
      durationMs: since(t.startedAt, t.completedAt),
    };
    const decision = snapshot.context.tasks[id]?.decision?.case;
    if (decision !== undefined) task.decision = String(decision);
    if (t.items) {
      task.items = {};
      for (const it of t.items) task.items[it.status] = (task.items[it.status] ?? 0) + 1;
    }
    return task;
  });
  const approvals = events.flatMap((e) =>
    e.type === 'approval.recorded'
      ? [{ task: e.data.task, decision: e.data.decision, by: e.data.by, comment: e.data.comment ?? null }]
      : [],
  );
  const run: DemoRun = {
    runId: view.runId,
    workflowId: view.workflowId,
    version: view.version,
    startedBy,
    status: view.status,
    events: events.length,
    durationMs: since(view.startedAt, view.completedAt),
    tasks,
    approvals,
    output: view.output,
    error: view.error?.message ?? null,
  };
  const perFolder = (view.tasks.summarize?.output as { per_folder?: DemoRun['folders'] } | null | undefined)
    ?.per_folder;
  if (view.workflowId === BATCH && Array.isArray(perFolder)) run.folders = perFolder;
  return run;
}

const secs = (ms: number | null) => (ms === null ? '' : ms >= 1000 ? `${(ms / 1000).toFixed(1)}s` : `${ms}ms`);

/** The report as text: per run its trail summary and output, then where the files went and what to type next. */
export function demoText(report: DemoReport): string[] {
  const lines: string[] = [''];
  for (const r of report.runs) {
    lines.push(
      `── ${r.workflowId} ${r.runId}: ${r.status} in ${secs(r.durationMs)}, ${r.events} events (started by ${r.startedBy})`,
    );
    for (const t of r.tasks) {
      const extra = t.decision
        ? ` → case ${t.decision}`
        : t.items
          ? ` (${Object.entries(t.items)
              .map(([s, n]) => `${n} ${s}`)
              .join(', ')})`
          : '';
      lines.push(
        `   ${t.id.padEnd(22)} ${t.status.padEnd(11)} ${t.attempts > 1 ? `${t.attempts} attempts ` : ''}${secs(t.durationMs)}${extra}`,
      );
    }
    for (const a of r.approvals)
      lines.push(`   approval: ${a.task} ${a.decision} by ${a.by}${a.comment ? ` ("${a.comment}")` : ''}`);
    for (const f of r.folders ?? [])
      lines.push(
        `   folder ${String(f.folder).split(sep).at(-1)}: ${f.status} (score ${String(f.score)}, ${String(f.files)} files${Array.isArray(f.violations) && f.violations.length ? `, ${f.violations.length} violation(s)` : ''})`,
      );
    if (r.error) lines.push(`   error: ${r.error}`);
    lines.push(`   output: ${JSON.stringify(r.output)}`);
  }
  lines.push('');
  for (const n of report.notes) lines.push(`note: ${n}`);
  lines.push(
    `${report.runs.filter((r) => r.status === 'COMPLETED').length} of ${report.runs.length} runs completed in ${secs(report.durationMs)}; store ${report.store}`,
  );
  if (report.files.length)
    lines.push(`files the handlers wrote, under ${report.outputRoot}:`, ...report.files.map((f) => `  ${f}`));
  lines.push('look further:', ...report.commands.map((c) => `  ${c}`));
  return lines;
}
