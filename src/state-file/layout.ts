/**
 * The state file's layout (`.3ox/workflow.state.yaml`, 3OX's "complete
 * state log"): each run as 3OX draws it, keyed by run id, folded from
 * its log and nothing else. Pure: the same runs give the same bytes, whether
 * the live writer writes them after a commit or `ledgerflow state-file
 * --rebuild` writes them from the log later (no clock, no "written at").
 *
 * Times are the ISO times the log records (3OX's `⧗-25.61.1420` is its own shorthand, which no YAML tool reads as a
 * time); durations are words as 3OX writes them (`5m`, `3s`, `1.2s`), and only between two recorded times: a run still
 * under way has no `execution_time` yet.
 */
import {
  durationText,
  itemCounts as countItems,
  scopeOf,
  taskEntries,
  type CompiledWorkflow,
  type TaskState,
} from '../compiler/index.js';
import { resolveTemplate } from '../expressions/index.js';
import { runView, type RunSnapshot, type TaskProgress } from '../runtime/index.js';

export { entryText, STATE_FILE_HEADER } from './text.js';

/** What the file says a run is: its log folded (compiled: the run's recorded definition). */
export interface FoldedRun {
  compiled: CompiledWorkflow;
  snapshot: RunSnapshot;
  seq: number;
}

export type StateEntry = Record<string, unknown>;

/** One run's entry, in the state file's layout. */
export function stateEntry(run: FoldedRun, progress?: ReadonlyMap<string, TaskProgress>): StateEntry {
  const { compiled, snapshot, seq } = run;
  const def = compiled.definition;
  const view = runView(snapshot, seq, def);
  const ctx = snapshot.context;
  const byId = new Map(def.tasks.map((t) => [t.id, t]));
  const tasks: Record<string, unknown> = {};
  for (const [id, t] of taskEntries(ctx.tasks)) {
    const task = byId.get(id);
    const entry: Record<string, unknown> = { status: t.status };
    if (t.startedAt) entry.started_at = t.startedAt;
    if (t.completedAt) entry.completed_at = t.completedAt;
    if (t.attempts > 0) entry.attempts = t.attempts;
    if (t.startedAt && t.completedAt) entry.execution_time = elapsedText(t.startedAt, t.completedAt);
    // The last progress its attempt reported, as its outcome kept it (docs/handlers.md#progress).
    const p = progress?.get(t.iteration !== undefined ? `${id}#${t.iteration}` : id);
    if (p)
      entry.progress = { fraction: p.fraction, ...(p.message !== undefined ? { message: p.message } : {}), at: p.at };
    if (t.decision) {
      entry.decision = t.decision.case ?? t.decision.value ?? null;
      entry.next_tasks = [...t.decision.next];
    } else if (t.status === 'COMPLETED' || t.output !== null) {
      const path =
        task?.outputTo !== undefined && t.status === 'COMPLETED' ? outputPath(task.outputTo, snapshot) : undefined;
      if (path !== undefined) entry.output = path;
      else if (t.output !== null && t.output !== undefined) entry.output = t.output;
    }
    if (t.status === 'PENDING_APPROVAL') Object.assign(entry, waitingOn(id, t, view.timers));
    if (t.decidedBy) entry.decided_by = t.decidedBy;
    if (t.items) entry.items = itemCounts(t);
    if (t.error && t.status !== 'COMPLETED') entry.error = { code: t.error.code, message: t.error.message };
    tasks[id] = entry;
  }
  const out: StateEntry = {
    id: view.runId,
    definition_id: view.workflowId,
    version: view.version,
    status: view.status,
    created_at: view.startedAt,
    completed_at: view.completedAt,
    execution_time: view.completedAt ? elapsedText(view.startedAt, view.completedAt) : null,
    input: view.input,
    tasks,
  };
  if (view.output !== null && view.output !== undefined) out.output = view.output;
  if (view.variables) out.variables = view.variables;
  if (view.error)
    out.error = {
      code: view.error.code,
      message: view.error.message,
      ...(view.error.task ? { task: view.error.task } : {}),
    };
  if (view.parent) out.parent = view.parent.runId;
  return out;
}

/** The entries the file shows, oldest first: every run not settled, and the newest `keep` settled. */
export function shownEntries(entries: Iterable<StateEntry>, keep: number): StateEntry[] {
  const all = [...entries];
  const settled = all
    .filter((e) => e.completed_at)
    .sort((a, b) => newestFirst(a, b))
    .slice(0, Math.max(0, keep));
  return [...all.filter((e) => !e.completed_at), ...settled].sort(oldestFirst);
}

function newestFirst(a: StateEntry, b: StateEntry): number {
  const at = String(a.completed_at);
  const bt = String(b.completed_at);
  return at < bt ? 1 : at > bt ? -1 : String(a.id) < String(b.id) ? -1 : 1;
}

function oldestFirst(a: StateEntry, b: StateEntry): number {
  const at = String(a.created_at);
  const bt = String(b.created_at);
  return at < bt ? -1 : at > bt ? 1 : String(a.id) < String(b.id) ? -1 : String(a.id) > String(b.id) ? 1 : 0;
}

/** `5m`, `3s`, `1.2s`, `250ms`: the time between two recorded ISO times. */
export function elapsedText(from: string, to: string): string {
  const ms = Math.max(0, Date.parse(to) - Date.parse(from));
  if (ms < 1000) return `${ms}ms`;
  if (ms < 10_000) return `${Number((ms / 1000).toFixed(1))}s`;
  return durationText(Math.round(ms / 1000) * 1000);
}

/** A task's `output_to`, resolved against the run as it is (a template reads its outputs); as written when it does not resolve. */
function outputPath(template: string, snapshot: RunSnapshot): string {
  if (!template.includes('${')) return template;
  try {
    return String(resolveTemplate(template, scopeOf(snapshot.context)));
  } catch {
    return template;
  }
}

/** A task waiting on a person: since when, and when its approval times out (its armed approval_timeout), if ever. */
function waitingOn(
  id: string,
  t: TaskState,
  timers: readonly { task: string; kind: string; dueAt: string }[],
): Record<string, string> {
  const out: Record<string, string> = {};
  if (t.startedAt) out.waiting_since = t.startedAt;
  const due = timers.find((x) => x.task === id && x.kind === 'approval_timeout');
  if (due) out.timeout_at = due.dueAt;
  return out;
}

/** A MAP's items as counts by status (every item's output would make the file as large as the run). */
function itemCounts(t: TaskState): Record<string, number> {
  // From the counts the fold keeps (compiler/item-list.ts), not a walk of every item on every commit; in the order the
  // statuses go (pending, scheduled, in_progress, …, completed, failed), those with items only.
  const counts: Record<string, number> = { total: t.items!.length };
  for (const [status, n] of Object.entries(countItems(t.items!).byStatus)) if (n > 0) counts[status.toLowerCase()] = n;
  return counts;
}
