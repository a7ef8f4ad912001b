/**
 * The attempts of a running run that wait on a queue's workers now: tasks (and
 * MAP items) SCHEDULED or IN_PROGRESS whose body runs on a worker (SIMPLE,
 * COMMAND), not held by a gate (`waitingFor` already says what they wait for).
 * On NATS, `status` and the dashboard ask the engines whether any worker
 * serves each (cluster/transport/presence.ts) and say so when none does.
 */
import { mapBody, type Definition, type TaskDef } from '../definition/index.js';
import { COMMAND_HANDLER } from './commands.js';
import { handlerName } from './handlers.js';
import type { RunView } from './view.js';

export interface WorkerWait { task: string; instance?: string; handler: string; queue: string }

const WAITING = new Set(['SCHEDULED', 'IN_PROGRESS']);

export function workerWaits(definition: Definition, view: RunView): WorkerWait[] {
  if (view.status !== 'RUNNING') return [];
  const out: WorkerWait[] = [];
  for (const t of definition.tasks) {
    const shown = view.tasks[t.id];
    if (!shown) continue;
    const body: TaskDef = t.type === 'MAP' ? mapBody(definition.tasks, t) : t;
    if (t.type === 'MAP' && t.workflow) continue; // its items are child runs, an engine's to start
    if (body.type !== 'SIMPLE' && body.type !== 'COMMAND') continue;
    const on = { handler: body.type === 'COMMAND' ? COMMAND_HANDLER : handlerName(body), queue: body.queue ?? 'default' };
    if (shown.items) {
      for (const it of shown.items) if (WAITING.has(it.status) && it.waitingFor === undefined) out.push({ task: t.id, instance: it.instance, ...on });
    } else if (WAITING.has(shown.status) && shown.waitingFor === undefined) out.push({ task: t.id, ...on });
  }
  return out;
}

/** Says on each waiting task (or item) of `view` whose handler nobody serves that it waits for one. */
export function markUnserved(view: RunView, waits: WorkerWait[], isUnserved: (queue: string, handler: string) => boolean): RunView {
  const unserved = waits.filter((w) => isUnserved(w.queue, w.handler));
  if (unserved.length === 0) return view;
  const tasks = { ...view.tasks };
  for (const w of unserved) {
    const text = `handler ${w.handler} on queue ${w.queue}: no worker has announced it`;
    const t = { ...tasks[w.task]! };
    if (w.instance && t.items) t.items = t.items.map((it) => (it.instance === w.instance ? { ...it, waitingFor: text } : it));
    else t.waitingFor = text;
    tasks[w.task] = t;
  }
  return { ...view, tasks };
}
