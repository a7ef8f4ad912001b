/**
 * Terminal output of a run's status: `status` and the state file's YAML (live progress per task:
 * src/monitor/progress.ts). The run list is in list.ts, the history in history.ts, the lines of a driven run in
 * progress.ts. Machine-readable output is JSON elsewhere. Every text that comes from a run (names, comments, reasons,
 * handlers' errors, outputs, ids) goes through `inert` where it is formatted: it shows its escapes and newlines as
 * text.
 */
import pc from 'picocolors';
import { inert, PROGRESS_SYMBOLS, progressText } from '../../terminal/index.js';
import { stringify } from 'yaml';
import { sealedFromText, type RunView } from '../../runtime/index.js';
import { instanceKey, isRunTimer } from '../../compiler/index.js';
import { labelPayloads } from '../../events/index.js';

const ms = (from: string | null, to: string | null) =>
  from && to ? `${Math.max(0, Date.parse(to) - Date.parse(from))}ms` : '';

/** `n of m done`, and how many items are at work, failed, skipped: a MAP's progress. */
export function itemProgress(items: readonly { status: string }[]): string {
  const count = (...s: string[]) => items.filter((it) => s.includes(it.status)).length;
  const parts = [`${count('COMPLETED')} of ${items.length} done`];
  const running = count('SCHEDULED', 'IN_PROGRESS', 'RETRYING');
  const failed = count('FAILED', 'TIMED_OUT');
  const skipped = count('SKIPPED', 'CANCELLED');
  if (running) parts.push(`${running} running`);
  if (failed) parts.push(`${failed} failed`);
  if (skipped) parts.push(`${skipped} not run`);
  return parts.join(', ');
}

/** Items worth a line of their own in status: at work or failed (the first few; the summary counts the rest). */
const ITEM_LINES = 20;

export function statusColor(status: string): string {
  switch (status) {
    case 'COMPLETED':
      return pc.green(status);
    case 'FAILED':
    case 'CANCELLED':
      return pc.red(status);
    case 'WAITING':
      return pc.magenta(status);
    case 'PAUSED':
      return pc.yellow(status);
    default:
      return pc.cyan(status);
  }
}

/** catch_up latest: the slots a scheduled run stands for besides its own. */
export function missedText(s: { missedCount?: number }): string {
  return s.missedCount
    ? `, standing for ${s.missedCount} missed slot${s.missedCount === 1 ? '' : 's'} (catch_up: latest)`
    : '';
}

/** `notes.archived`: the line saying the run was read from the archive (render/archived.ts), under the header. */
export function statusText(view: RunView, now = Date.now(), notes: { archived?: string } = {}): string {
  const lines = [
    `run ${pc.bold(inert(view.runId))}  ${inert(view.workflowId)} v${view.version}  ${statusColor(view.status)}`,
    `started ${view.startedAt}${view.completedAt ? `  settled ${view.completedAt}` : ''}`,
  ];
  if (notes.archived) lines.push(inert(notes.archived));
  // The lines about where the run came from have no colours: inert as a whole.
  const origin: string[] = [];
  if (view.parent) {
    origin.push(
      view.parent.relation === 'failure'
        ? `failure workflow of run ${view.parent.runId} (${view.parent.workflowId})`
        : view.parent.relation === 'start'
          ? `started by run ${view.parent.runId} (${view.parent.workflowId}), which does not wait for it`
          : `child of run ${view.parent.runId} (${view.parent.workflowId}, task ${view.parent.task} attempt ${view.parent.attempt})`,
    );
  }
  if (view.retryOf)
    origin.push(
      `retry of run ${view.retryOf.runId}${view.retryOf.reused.length > 0 ? ` (reused the outputs of ${view.retryOf.reused.join(', ')})` : ' (reused no output)'}`,
    );
  if (view.forkOf) {
    const f = view.forkOf;
    origin.push(
      `fork of run ${f.runId} at ${f.at.task !== undefined ? `task ${f.at.task}` : `event ${f.at.seq}`}${f.by ? ` by ${f.by}` : ''}${f.reused.length > 0 ? ` (reused the outputs of ${f.reused.join(', ')})` : ' (reused no output)'}`,
    );
  }
  if (view.schedule)
    origin.push(
      `started by schedule triggers[${view.schedule.trigger}] (${view.schedule.cron} ${view.schedule.timezone}) for ${view.schedule.manual ? 'a manual slot (schedules trigger) at' : 'slot'} ${view.schedule.slot}${missedText(view.schedule)}`,
    );
  if (view.gate) origin.push(gateOrigin(view.gate));
  if (view.queue) {
    const q = view.queue;
    origin.push(
      `queued for a concurrency slot ${q.queuedAt} (priority ${q.priority}, limit ${q.limit}${q.key !== null ? ` per key ${JSON.stringify(q.key)}` : ''})${q.admittedAt ? `, admitted ${q.admittedAt}` : ', not admitted yet'}`,
    );
  }
  if (view.failureRun) origin.push(`failure workflow run ${view.failureRun}`);
  lines.push(...origin.map(inert));
  // The embedded store: a run nobody drives says so under its header, before the tasks that wait for it.
  if (view.undriven) lines.push(pc.yellow(inert(view.undriven)));
  // Read without the data key, a run whose course turned on sealed values: what is shown, and from where it is not.
  if (view.sealedFrom) lines.push(pc.yellow(inert(sealedFromText(view.sealedFrom))));
  for (const [id, t] of Object.entries(view.tasks)) {
    const waits =
      t.status === 'WAITING' && t.signal !== undefined
        ? `  waits for signal ${inert(t.signal)}: ledgerflow signal ${inert(view.runId)} ${inert(t.signal)}`
        : t.waitingFor !== undefined
          ? `  waits for ${waitText(t.waitingFor)}`
          : '';
    const shownProgress = t.progress ? `  ${progressText(t.progress, now)}` : '';
    const extra = `${t.child ? `  child run ${inert(t.child)}` : ''}${waits}${shownProgress}${t.error ? `  ${pc.red(inert(t.error.message))}` : ''}`;
    if (t.items) {
      lines.push(
        `  ${PROGRESS_SYMBOLS[t.status] ?? '?'} ${id.padEnd(28)} ${t.status.padEnd(16)} ${t.items[0]?.branch !== undefined ? 'branches' : 'items'}: ${itemProgress(t.items)}${extra}`,
      );
      const shown = t.items
        .map((it) => ({ it }))
        .filter(({ it }) => !['COMPLETED', 'PENDING', 'SKIPPED', 'CANCELLED'].includes(it.status));
      for (const { it } of shown.slice(0, ITEM_LINES)) {
        lines.push(
          `    ${PROGRESS_SYMBOLS[it.status] ?? '?'} ${inert(it.branch !== undefined ? `${it.instance} ${it.branch}` : it.instance).padEnd(26)} ${it.status.padEnd(16)} attempts ${it.attempts}${it.progress ? `  ${progressText(it.progress, now)}` : ''}${it.waitingFor !== undefined ? `  waits for ${waitText(it.waitingFor)}` : ''}${it.error && it.status !== 'IN_PROGRESS' ? `  ${pc.red(inert(it.error.message))}` : ''}`,
        );
      }
      if (shown.length > ITEM_LINES)
        lines.push(`    … and ${shown.length - ITEM_LINES} more (status --json lists every item)`);
      continue;
    }
    // A loop-body task is shown as the instance its state is of (`check#2`); a DO_WHILE, with the iteration it is in.
    lines.push(
      `  ${PROGRESS_SYMBOLS[t.status] ?? '?'} ${inert(t.instance ?? id).padEnd(28)} ${t.status.padEnd(16)} attempts ${t.attempts}${extra}`,
    );
  }
  for (const timer of view.timers)
    if (!isRunTimer(timer)) lines.push(inert(`  timer ${timer.kind} of ${instanceKey(timer)} due ${timer.dueAt}`));
  if (view.timeout)
    lines.push(
      `timeout ${view.timeout.after}: ${view.completedAt ? 'was due' : 'due'} ${view.timeout.deadline} (timeout_policy: ${view.timeout.policy})`,
    );
  if (view.variables)
    for (const [name, value] of Object.entries(view.variables))
      lines.push(`  variable ${inert(name)} = ${inert(JSON.stringify(value))}`);
  if (view.error) lines.push(pc.red(`error: ${inert(view.error.message)}`));
  return lines.join('\n');
}

/** A debounced or throttled trigger's run: which trigger, and the events it stands for (docs/triggers.md#debounce-and-throttle). */
function gateOrigin(g: NonNullable<RunView['gate']>): string {
  const which = `${g.kind} triggers[${g.trigger}]${g.key ? ` key ${g.key}` : ''}`;
  const merged = g.absorbed?.length
    ? `; merged ${g.absorbed.join(', ')}${g.count - 1 > g.absorbed.length ? ' …' : ''}`
    : '';
  const held = g.firstAt ? `, the first of them came ${g.firstAt}` : '';
  return `started by ${g.event ? `event ${g.event} through ` : ''}${which}: stands for ${g.count} event${g.count === 1 ? '' : 's'}${held}${merged}`;
}

/** The state file's layout (`.3ox/workflow.state.yaml`, docs/state-file.md). */
export function statusYaml(view: RunView): string {
  const tasks: Record<string, unknown> = {};
  for (const [id, t] of Object.entries(view.tasks)) {
    tasks[id] = {
      status: t.status,
      started_at: t.startedAt,
      completed_at: t.completedAt,
      attempts: t.attempts,
      output: labelPayloads(t.output),
      ...(t.error ? { error: t.error } : {}),
    };
  }
  return stringify(
    {
      [view.runId]: {
        id: view.runId,
        definition_id: view.workflowId,
        version: view.version,
        status: view.status,
        created_at: view.startedAt,
        completed_at: view.completedAt,
        execution_time: view.completedAt ? ms(view.startedAt, view.completedAt) : null,
        input: labelPayloads(view.input),
        tasks,
        output: labelPayloads(view.output),
        ...(view.variables ? { variables: labelPayloads(view.variables) } : {}),
        ...(view.error ? { error: view.error } : {}),
      },
    },
    { aliasDuplicateObjects: false },
  );
}

/** A task's limit ("its concurrency limit 5"), or a queue's or handler's ("queue payments's rate limit 100 per 1s"). */
function waitText(waitingFor: string): string {
  return /^(queue|handler|station|a) /.test(waitingFor) ? inert(waitingFor) : `its ${inert(waitingFor)}`;
}
