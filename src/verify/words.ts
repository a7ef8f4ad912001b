/**
 * A path in words, one line per thing that happened: what each attempt did, what each person decided, each signal, each
 * case a decision chose, each new loop iteration, and how the run ended. Starts and backoffs are left out: they follow.
 */
import { RUN_TIMER_TASK } from '../compiler/index.js';
import type { ModelAction, ModelState } from '../coverage/index.js';
import type { Definition } from '../definition/index.js';

const at = (attempt: number) => ` (attempt ${attempt})`;
const who = (task: string, item?: number) => (item === undefined ? task : `${task}[${item}]`);

function actionWords(def: Definition, a: ModelAction): string | null {
  if (a.type === 'hang') {
    if (a.task === RUN_TIMER_TASK) return 'nothing answers any more';
    const t = def.tasks.find((x) => x.id === a.task);
    if (t?.type === 'HUMAN') return `nobody decides on ${a.task}`;
    if (t?.type === 'WAIT') return `no signal ${t.event ?? ''} arrives for ${a.task}`;
    return `${a.task} does not answer${at(a.attempt)}`;
  }
  const e = a.event;
  switch (e.type) {
    case 'task.completed':
      return `${who(e.data.task, e.data.item)} succeeds${e.data.attempt > 1 ? at(e.data.attempt) : ''}`;
    case 'task.failed':
      return `${who(e.data.task, e.data.item)} fails${at(e.data.attempt)}`;
    case 'approval.recorded':
      return `${e.data.task} ${e.data.decision} by ${e.data.by}`;
    case 'signal.received':
      return `signal ${e.data.name} arrives${e.data.by ? ` from ${e.data.by}` : ''}`;
    case 'timer.fired':
      if (e.data.timer === 'timeout') return `${who(e.data.task, e.data.item)} times out${at(e.data.attempt)}`;
      if (e.data.timer === 'approval_timeout') return `${e.data.task} approval times out`;
      if (e.data.timer === 'run_timeout') return "the run's timeout passes";
      if (e.data.timer === 'wait') return `${e.data.task}: its wait ends`;
      return null;
    default:
      return null;
  }
}

/** What the fold decided on its own in a step: decision cases, loop iterations, the run ending. */
function foldWords(def: Definition, before: ModelState, after: ModelState): string[] {
  const out: string[] = [];
  const b = before.run.context.tasks;
  const c = after.run.context.tasks;
  for (const t of def.tasks) {
    const d = c[t.id]!.decision;
    if (t.type === 'DECISION' && d && (b[t.id]!.decision === undefined || b[t.id]!.status !== c[t.id]!.status)) {
      if (b[t.id]!.status !== c[t.id]!.status)
        out.push(d.case === null ? `${t.id} takes no case (value ${JSON.stringify(d.value)})` : `${t.id} = ${d.case}`);
    }
    if (t.type === 'DO_WHILE' && (c[t.id]!.iteration ?? 1) > (b[t.id]!.iteration ?? 1))
      out.push(`${t.id} starts iteration ${c[t.id]!.iteration}`);
  }
  if (before.run.status === 'active' && after.run.status !== 'active')
    out.push(`the run ends ${String(after.run.value).toUpperCase()}`);
  return out;
}

export function pathWords(def: Definition, actions: ModelAction[], states: ModelState[]): string[] {
  // Decisions the run's start already settled (they read only the input).
  const first = states[0]!.run.context.tasks;
  const start = def.tasks.flatMap((t) => {
    const d = first[t.id]!.decision;
    return d
      ? [d.case === null ? `${t.id} takes no case (value ${JSON.stringify(d.value)})` : `${t.id} = ${d.case}`]
      : [];
  });
  return start.concat(
    actions.flatMap((a, i) => {
      const w = actionWords(def, a);
      return [...(w ? [w] : []), ...foldWords(def, states[i]!, states[i + 1]!)];
    }),
  );
}
