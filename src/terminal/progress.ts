/**
 * Live progress of a run as lines of text, one per task (or MAP item) whose status changed in a commit: what `run`,
 * `serve`, `ui`, `emit` and the demo print from a driver's onCommit. No I/O; all text from the run goes through inert.
 */
import pc from 'picocolors';
import { inert, inertValue } from './inert.js';
import type { EventEnvelope } from '../events/index.js';
import type { Definition } from '../definition/index.js';
import type { RunSnapshot } from '../runtime/index.js';

/** A status's symbol in progress lines and in `ledgerflow status` (the watch monitor has its own: src/monitor/look.ts). */
export const PROGRESS_SYMBOLS: Record<string, string> = {
  PENDING: pc.dim('·'),
  SCHEDULED: pc.dim('○'),
  IN_PROGRESS: pc.cyan('▶'),
  RETRYING: pc.yellow('↻'),
  PENDING_APPROVAL: pc.magenta('⏸'),
  WAITING: pc.magenta('⌛'),
  COMPLETED: pc.green('✓'),
  FAILED: pc.red('✗'),
  TIMED_OUT: pc.red('⏱'),
  SKIPPED: pc.dim('⊘'),
  CANCELLED: pc.dim('■'),
};

const ms = (from: string | null, to: string | null) =>
  from && to ? `${Math.max(0, Date.parse(to) - Date.parse(from))}ms` : '';

function duration(dueAt: string, now: string): string {
  const d = Math.max(0, Date.parse(dueAt) - Date.parse(now));
  return d >= 60_000 ? `${(d / 60_000).toFixed(1)}m` : d >= 1000 ? `${(d / 1000).toFixed(1)}s` : `${d}ms`;
}

/** One line per task whose status changed in a commit. */
/** `definition`: the run's (the 4th argument of onCommit), for what a WAIT waits for. */
export function progressLines(
  events: EventEnvelope[],
  before: RunSnapshot,
  after: RunSnapshot,
  definition?: Definition,
): string[] {
  const lines: string[] = [];
  const now = events.at(-1)?.time ?? new Date().toISOString();
  for (const [id, t] of Object.entries(after.context.tasks)) {
    const prev = before.context.tasks[id];
    const sym = PROGRESS_SYMBOLS[t.status] ?? '?';
    if (t.items && prev?.items !== t.items) lines.push(...itemLines(id, prev?.items ?? [], t.items, events));
    if (prev && prev.status === t.status && prev.attempts === t.attempts) {
      if (t.status === 'IN_PROGRESS' && (t.restarts ?? 0) > (prev.restarts ?? 0))
        lines.push(
          `${sym} ${id} runs attempt ${t.attempts} again: ${prev.released ? 'it was given back when the process running it was stopped' : 'it was lost with the process running it'} (restart ${t.restarts})`,
        );
      continue;
    }
    switch (t.status) {
      case 'IN_PROGRESS':
        lines.push(`${sym} ${id} started${t.attempts > 1 ? ` (attempt ${t.attempts})` : ''}`);
        break;
      case 'COMPLETED': {
        // A retry's reused output: its time is no work done here.
        const reused =
          after.context.reuse && events.some((e) => e.type === 'task.completed' && e.data.task === id && e.data.reused);
        lines.push(
          t.decision
            ? `${pc.green('◆')} ${id} chose ${pc.bold(inertValue(t.decision.case))}${t.decision.next.length ? ` → ${t.decision.next.join(', ')}` : ''}`
            : reused
              ? `${sym} ${id} ${pc.dim(`reused from run ${inert(after.context.reuse!.runId)}`)}`
              : `${sym} ${id} ${pc.dim(ms(t.startedAt, t.completedAt))}`,
        );
        if (!reused) lines.push(...emitSkipped(events, id));
        break;
      }
      case 'RETRYING': {
        const timer = Object.values(after.context.timers).find((x) => x.task === id && x.kind === 'backoff');
        lines.push(
          `${sym} ${id} attempt ${t.attempts} failed: ${inert(t.error?.message ?? '')}${timer ? ` — retrying in ${duration(timer.dueAt, now)}` : ''}`,
        );
        break;
      }
      case 'FAILED':
      case 'TIMED_OUT':
        lines.push(
          `${sym} ${id} ${t.status === 'TIMED_OUT' ? 'timed out' : 'failed'}: ${inert(t.error?.message ?? '')}`,
        );
        break;
      case 'PENDING_APPROVAL':
        lines.push(`${sym} ${id} waiting for approval`);
        break;
      case 'WAITING':
        lines.push(`${sym} ${id} waiting${waitingFor(after, id, signalOf(definition, id))}`);
        break;
      case 'SKIPPED':
        lines.push(`${sym} ${id} skipped`);
        break;
      case 'CANCELLED':
        lines.push(`${sym} ${id} cancelled`);
        break;
      default:
        break;
    }
  }
  return lines;
}

/** An EMIT's definition files passed over (its output's `skipped`), said under its completion. */
function emitSkipped(events: EventEnvelope[], id: string): string[] {
  const done = events.find((e) => e.type === 'task.completed' && e.data.task === id);
  const out =
    done?.type === 'task.completed' ? (done.data.output as { eventId?: unknown; skipped?: unknown } | null) : null;
  return out && typeof out.eventId === 'string' && Array.isArray(out.skipped)
    ? out.skipped.map((r) => `  ${pc.yellow('!')} skipped ${inert(String(r))}`)
    : [];
}

type Items = NonNullable<RunSnapshot['context']['tasks'][string]['items']>;

/** The items of MAP `task` the events are about, in item order, each once. */
function itemsNamed(events: readonly EventEnvelope[], task: string): number[] {
  const named = new Set<number>();
  for (const e of events) {
    const d = e.data as { task?: unknown; item?: unknown } | undefined;
    if (d?.task === task && typeof d.item === 'number') named.add(d.item);
  }
  return [...named].sort((a, b) => a - b);
}

/** One line per MAP item whose status changed, named `task[i]`. */
function itemLines(id: string, before: Items, after: Items, events: readonly EventEnvelope[]): string[] {
  const lines: string[] = [];
  // Only the items this commit's events name: an item starts, retries or settles by an event about it (`item: i`).
  // Comparing every item on every commit made a MAP of 20,000 items quadratic. A MAP that starts in this commit (no
  // items before it) is looked at whole.
  for (const i of before.length === 0 ? after.keys() : itemsNamed(events, id)) {
    const it = after[i];
    if (it === undefined) continue;
    const prev = before[i];
    if (prev && prev.status === it.status && prev.attempts === it.attempts) continue;
    const key = `${id}[${i}]`;
    const sym = PROGRESS_SYMBOLS[it.status] ?? '?';
    switch (it.status) {
      case 'IN_PROGRESS':
        lines.push(`${sym} ${key} started${it.attempts > 1 ? ` (attempt ${it.attempts})` : ''}`);
        break;
      case 'COMPLETED':
        lines.push(`${sym} ${key} ${pc.dim(ms(it.startedAt, it.completedAt))}`);
        break;
      case 'RETRYING':
        lines.push(`${sym} ${key} attempt ${it.attempts} failed: ${inert(it.error?.message ?? '')} — retrying`);
        break;
      case 'FAILED':
      case 'TIMED_OUT':
        lines.push(
          `${sym} ${key} ${it.status === 'TIMED_OUT' ? 'timed out' : 'failed'}: ${inert(it.error?.message ?? '')}`,
        );
        break;
      default:
        break;
    }
  }
  return lines;
}

/** What a WAITING task waits for: its timer's due time, if it has one. */
function waitingFor(snap: RunSnapshot, id: string, signal: string | undefined): string {
  const timer = Object.values(snap.context.timers).find(
    (x) => x.task === id && (x.kind === 'wait' || x.kind === 'timeout'),
  );
  const what = signal === undefined ? 'a signal' : `signal ${signal}`;
  if (!timer) return ` for ${what}`;
  return timer.kind === 'wait' ? ` until ${timer.dueAt}` : ` for ${what} (until ${timer.dueAt})`;
}

/** The signal a WAIT on an event takes (its `event:`), when the run's definition is at hand. */
function signalOf(definition: Definition | undefined, id: string): string | undefined {
  const t = definition?.tasks.find((x) => x.id === id);
  return t?.type === 'WAIT' ? t.event : undefined;
}
