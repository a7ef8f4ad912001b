/**
 * The attempts of a running run that wait on a queue's workers now: tasks (and MAP items) SCHEDULED or IN_PROGRESS
 * whose body runs on a worker (SIMPLE, COMMAND), not held by a gate (`waitingFor` already says what they wait for). On
 * NATS, `status` and the dashboard ask the engines whether any worker serves each (cluster/transport/presence.ts) and
 * say so when none does.
 */
import { mapBody, stationOfQueue, type Definition, type TaskDef } from '../definition/index.js';
import { COMMAND_HANDLER, HTTP_HANDLER } from './commands.js';
import { handlerName } from './handlers.js';
import type { RunView } from './view.js';

interface WorkerWait {
  task: string;
  instance?: string;
  handler: string;
  queue: string;
}

const WAITING = new Set(['SCHEDULED', 'IN_PROGRESS']);

export function workerWaits(definition: Definition, view: RunView): WorkerWait[] {
  if (view.status !== 'RUNNING') return [];
  const out: WorkerWait[] = [];
  for (const t of definition.tasks) {
    const shown = view.tasks[t.id];
    if (!shown) continue;
    const body: TaskDef = t.type === 'MAP' ? mapBody(definition.tasks, t) : t;
    if (t.type === 'MAP' && t.workflow) continue; // its items are child runs, an engine's to start
    if (t.type === 'MAP' && t.fork) continue; // its branches name their handlers at run time
    // A MAP with its own handler runs it per item on the workers, as a SIMPLE task's (docs/language.md#map).
    if (body.type !== 'SIMPLE' && body.type !== 'COMMAND' && body.type !== 'HTTP' && body.type !== 'MAP') continue;
    const on = {
      handler: body.type === 'COMMAND' ? COMMAND_HANDLER : body.type === 'HTTP' ? HTTP_HANDLER : handlerName(body),
      queue: body.queue ?? 'default',
    };
    if (shown.items) {
      for (const it of shown.items)
        if (WAITING.has(it.status) && it.waitingFor === undefined)
          out.push({ task: t.id, instance: it.instance, ...on });
    } else if (body.type !== 'MAP' && WAITING.has(shown.status) && shown.waitingFor === undefined)
      out.push({ task: t.id, ...on });
  }
  return out;
}

/**
 * What a waiting attempt waits for, said on its task: a handler nobody serves, and a station's task (queue
 * station-<name>): it waits for that station, queued at the hub or running there; when no worker there is heard, the
 * station or its link to the hub is down (docs/nats.md#stations). Null: nothing to say.
 */
function waitText(w: WorkerWait, unserved: boolean): string | null {
  const station = stationOfQueue(w.queue);
  if (station !== null && unserved)
    return `station ${station}: no worker there has announced handler ${w.handler} (is the station, or its link to the hub, down?)`;
  // Queued at the hub or running there: either way the run waits for the station.
  if (station !== null) return `station ${station} (handler ${w.handler})`;
  return unserved ? `handler ${w.handler} on queue ${w.queue}: no worker has announced it` : null;
}

/** Says on each waiting task (or item) of `view` whose handler nobody serves that it waits for one (and of a station's, for its station). */
export function markUnserved(
  view: RunView,
  waits: WorkerWait[],
  isUnserved: (queue: string, handler: string) => boolean,
): RunView {
  const said = waits
    .map((w) => ({ w, text: waitText(w, isUnserved(w.queue, w.handler)) }))
    .filter((x): x is { w: WorkerWait; text: string } => x.text !== null);
  if (said.length === 0) return view;
  const tasks = { ...view.tasks };
  // Items by task, each list mapped once: one pass per waiting item made a MAP of 20,000 scheduled items quadratic.
  const itemTexts = new Map<string, Map<string, string>>();
  for (const { w, text } of said) {
    if (w.instance && tasks[w.task]!.items) {
      const texts = itemTexts.get(w.task) ?? new Map<string, string>();
      itemTexts.set(w.task, texts.set(w.instance, text));
    } else tasks[w.task] = { ...tasks[w.task]!, waitingFor: text };
  }
  for (const [task, texts] of itemTexts) {
    const t = tasks[task]!;
    tasks[task] = {
      ...t,
      items: t.items!.map((it) => {
        const text = texts.get(it.instance);
        return text === undefined ? it : { ...it, waitingFor: text };
      }),
    };
  }
  return { ...view, tasks };
}
