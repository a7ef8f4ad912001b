/**
 * What the run page reads out of a run's events (pure): each task's attempts with their times and outcomes, who decided
 * its approval, and a one-line summary of every event for the timeline.
 */
import type { EventEnvelope } from '../../events/index.js';

/** An event as the API sends it: the envelope's fields the page uses. */
export type PageEvent = Pick<EventEnvelope, 'seq' | 'time' | 'type' | 'state'> & { data: unknown };

export interface Attempt {
  attempt: number;
  instance?: string;
  startedAt: string;
  endedAt?: string;
  outcome?: 'completed' | 'failed' | 'restarted';
  error?: string;
  by?: string;
  reused?: string;
}

export interface Decision {
  decision: string;
  by: string;
  comment?: string;
  time: string;
  refused?: string;
}

type Data = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function instanceOf(d: Data): string | undefined {
  if (typeof d.item === 'number') return `[${d.item}]`;
  if (typeof d.iteration === 'number') return `#${d.iteration}`;
  return undefined;
}

/** Every attempt of `task` (its loop iterations and MAP items included), oldest first. */
export function attemptsOf(events: readonly PageEvent[], task: string): Attempt[] {
  const out: Attempt[] = [];
  const find = (d: Data) => {
    const inst = instanceOf(d);
    for (let i = out.length - 1; i >= 0; i--)
      if (out[i]!.attempt === d.attempt && out[i]!.instance === inst) return out[i];
    return undefined;
  };
  for (const e of events) {
    const d = (e.data ?? {}) as Data;
    if (d.task !== task) continue;
    if (e.type === 'task.started') {
      const reused = (d.reused as { runId?: string } | undefined)?.runId;
      const inst = instanceOf(d);
      out.push({
        attempt: Number(d.attempt),
        ...(inst ? { instance: inst } : {}),
        startedAt: e.time,
        ...(reused ? { reused } : {}),
      });
    } else if (e.type === 'task.completed' || e.type === 'task.failed' || e.type === 'task.restarted') {
      const a = find(d);
      if (!a) continue;
      a.endedAt = e.time;
      a.outcome = e.type === 'task.completed' ? 'completed' : e.type === 'task.failed' ? 'failed' : 'restarted';
      const err = (d.error as { message?: string } | undefined)?.message;
      if (err) a.error = err;
      const by = str(d.by);
      if (by) a.by = by;
    }
  }
  return out;
}

/** Approvals and rejections of `task`, refused ones included (with why). */
export function decisionsOf(events: readonly PageEvent[], task: string): Decision[] {
  const out: Decision[] = [];
  for (const e of events) {
    if (e.type !== 'approval.recorded' && e.type !== 'approval.refused') continue;
    const d = (e.data ?? {}) as Data;
    if (d.task !== task) continue;
    const comment = str(d.comment);
    const refused = str(d.reason);
    out.push({
      decision: String(d.decision),
      by: String(d.by),
      time: e.time,
      ...(comment ? { comment } : {}),
      ...(e.type === 'approval.refused' && refused ? { refused } : {}),
    });
  }
  return out;
}

/** The timeline's line for one event: what it was about, in a few words. */
export function summarize(e: PageEvent): string {
  const d = (e.data ?? {}) as Data;
  const who = str(d.by) ? ` by ${String(d.by)}` : '';
  const inst = instanceOf(d) ?? '';
  switch (e.type) {
    case 'run.started': {
      const src = d.source as Data | undefined;
      return `started${src?.event ? ` by event ${String(src.event)}` : ''}${(src?.retryOf as Data | undefined)?.runId ? ` as a retry of ${String((src!.retryOf as Data).runId)}` : ''}${(src?.forked as Data | undefined)?.from ? ` as a fork of ${String((src!.forked as Data).from)}` : ''}`;
    }
    case 'task.started':
      return `${String(d.task)}${inst} attempt ${String(d.attempt)} started${(d.reused as Data | undefined)?.runId ? ' (output reused)' : ''}`;
    case 'task.completed':
      return `${String(d.task)}${inst} completed${who}`;
    case 'task.failed':
      return `${String(d.task)}${inst} failed: ${(d.error as { message?: string } | undefined)?.message ?? ''}${who}`;
    case 'task.restarted':
      return `${String(d.task)}${inst} attempt ${String(d.attempt)} restarted`;
    case 'task.released':
      return `${String(d.task)}${inst} attempt ${String(d.attempt)} given back (its process was stopped)`;
    case 'timer.fired':
      return d.timer === 'run_timeout'
        ? 'run timeout reached'
        : `${String(d.task)}${inst} ${String(d.timer)} timer fired`;
    case 'approval.recorded':
      return `${String(d.task)} ${String(d.decision)}${who}${str(d.comment) ? `: “${String(d.comment)}”` : ''}`;
    case 'approval.refused':
      return `${String(d.task)} ${String(d.decision)}${who} refused: ${String(d.reason)}`;
    case 'task.delayed':
      return `${String(d.task)}${inst} attempt ${String(d.attempt)} waits: ${Array.isArray(d.skills) ? `no worker with skills ${d.skills.map(String).join(', ')}` : `breaker ${String(d.breaker)} is open${str(d.until) ? ` until ${String(d.until)}` : ''}`}`;
    case 'signal.received':
      return `signal ${String(d.name)}${who}`;
    case 'run.paused':
      return `paused${who}${str(d.reason) ? `: ${String(d.reason)}` : ''}`;
    case 'run.resumed':
      return `resumed${who}`;
    case 'run.queued':
      return `queued for a concurrency slot (priority ${String(d.priority)}${str(d.key) ? `, key ${String(d.key)}` : ''})`;
    case 'run.admitted':
      return 'admitted: a concurrency slot is free';
    case 'run.cancelled':
      return `cancelled${who}${str(d.reason) ? `: ${String(d.reason)}` : ''}`;
    case 'run.failed':
      return `failed: ${(d.error as { message?: string } | undefined)?.message ?? ''}`;
    case 'run.forked': {
      const at = (d.at ?? {}) as Data;
      return `forked from run ${String(d.from)} after event ${String(at.seq)}${str(at.task) ? `, before task ${String(at.task)}` : ''}${who}`;
    }
    default:
      return e.type;
  }
}
