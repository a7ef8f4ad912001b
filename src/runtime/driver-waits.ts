/**
 * A run on the embedded store moves only while a process drives it (`run`, `resume`, `serve`, `ui`, an `approve` moving
 * it on). One left by `start --detach`, `bridge --detach`, a schedule's trigger, or a process that was killed, still
 * reads RUNNING from its log: `status`, `watch` and the dashboard say that nothing drives it and what would, on the run
 * and on each task that waits for it, as NATS says of a handler no worker serves (worker-waits.ts). Whether a process
 * drives it is the edge's to find out (its lease, serve.lock: service/driven.ts); what that means for the run is
 * decided here.
 */
import type { RunView } from './view.js';

/** Tasks (and MAP items) whose next move needs a driver: an attempt to start, one in flight, a retry's backoff. */
const MOVING = new Set(['SCHEDULED', 'IN_PROGRESS', 'RETRYING']);

/**
 * Whether the run would move on its own were a process driving it: RUNNING, or waiting (for a person, a signal) with a
 * timer armed (a deadline, a WAIT's time, the run's timeout) that only a driver fires. A PAUSED or QUEUED run, or one
 * waiting for a person with no deadline, waits for a command (`resume`, `approve`, `signal`) that moves it on by
 * itself.
 */
export function needsDriver(view: RunView): boolean {
  if (view.status === 'RUNNING') return true;
  return view.status === 'WAITING' && view.timers.length > 0;
}

/** What a run nobody drives says: that nothing does, and the two commands that would. */
export function undrivenText(runId: string): string {
  return `no process drives this run: \`ledgerflow serve\` on this store drives it (and every run left like it), or \`ledgerflow resume ${runId}\` drives this one`;
}

/**
 * The view of a run nobody drives: `undriven` says so on the run, and each task (or item) that waits to move says it
 * waits for a driver (`waitingFor`, the field NATS uses for a handler nobody serves). A view that needs no driver is
 * returned as it is.
 */
export function markUndriven(view: RunView, text: string = undrivenText(view.runId)): RunView {
  if (!needsDriver(view)) return view;
  const waits = 'a process to drive the run: none does';
  // A WAIT's time and a retry's backoff move their task on; a deadline (an approval's, the run's) leaves it waiting for its person.
  const timed = new Set(view.timers.filter((t) => t.kind === 'wait' || t.kind === 'backoff').map((t) => t.task));
  const tasks = { ...view.tasks };
  for (const [id, t] of Object.entries(tasks)) {
    const items = t.items?.some((it) => MOVING.has(it.status))
      ? t.items.map((it) => (MOVING.has(it.status) ? { ...it, waitingFor: also(it.waitingFor, waits) } : it))
      : undefined;
    if (items) tasks[id] = { ...t, items };
    else if (MOVING.has(t.status) || timed.has(id)) tasks[id] = { ...t, waitingFor: also(t.waitingFor, waits) };
  }
  return { ...view, undriven: text, tasks };
}

/** What a task already waits for (a gate: a breaker, a limit) stays said first; the driver it also needs after it. */
function also(first: string | undefined, driver: string): string {
  return first === undefined ? driver : `${first}, and for ${driver}`;
}
