/**
 * Readable path names, read off what the path does: the decision cases it takes, what happens to the one task off the
 * happy path, the approvals given, and how the run ends — `decision_gate=PASS → generate_receipt ✓`, `scan_files
 * retries then succeeds`, `scan_files fails after 3 attempts → run FAILED`.
 */
import { durationText, RUN_TIMER_TASK, type CompiledWorkflow } from '../compiler/index.js';
import type { HumanTask, WaitTask } from '../definition/index.js';
import type { ModelAction, ModelState } from './model.js';

type Outcome = 'ok' | 'fail' | 'timeout';

/** How each attempt of a task ended on the path, in order. */
function attemptOutcomes(actions: ModelAction[], task: string): Outcome[] {
  const out: Outcome[] = [];
  for (const a of actions) {
    if (a.type !== 'log' || !('task' in a.event.data) || a.event.data.task !== task) continue;
    const e = a.event;
    if (e.type === 'task.completed') out.push('ok');
    else if (e.type === 'task.failed') out.push('fail');
    else if (e.type === 'timer.fired' && e.data.timer === 'timeout') out.push('timeout');
  }
  return out;
}

/** A MAP's story: what happened to the items that did not simply succeed (`each[1] retries then succeeds`). */
function mapStory(task: string, actions: ModelAction[], failedAt: string | null): string {
  const byItem = new Map<number, Outcome[]>();
  for (const a of actions) {
    if (
      a.type !== 'log' ||
      !('task' in a.event.data) ||
      a.event.data.task !== task ||
      !('item' in a.event.data) ||
      a.event.data.item === undefined
    )
      continue;
    const e = a.event;
    const item = (e.data as { item: number }).item;
    const o: Outcome | null =
      e.type === 'task.completed'
        ? 'ok'
        : e.type === 'task.failed'
          ? 'fail'
          : e.type === 'timer.fired' && e.data.timer === 'timeout'
            ? 'timeout'
            : null;
    if (o) byItem.set(item, [...(byItem.get(item) ?? []), o]);
  }
  const told = [...byItem]
    .filter(([, o]) => o.length > 1 || o[0] !== 'ok')
    .map(([i, o]) => simpleStory(`${task}[${i}]`, o, false));
  if (told.length === 0) return failedAt ?? `${task} maps every item`;
  return told.join(', ');
}

function simpleStory(task: string, o: Outcome[], optional: boolean): string {
  const last = o.at(-1);
  const before = o.slice(0, -1);
  const opt = optional ? ' (optional)' : '';
  const all = (k: Outcome) => before.every((x) => x === k);
  if (last === 'ok') {
    if (before.length === 1 && before[0] === 'fail') return `${task} retries then succeeds`;
    if (all('fail')) return `${task} fails ${before.length} times, then succeeds`;
    if (all('timeout'))
      return `${task} times out${before.length > 1 ? ` ${before.length} times` : ''}, then succeeds on retry`;
  } else if (last === 'fail' && all('fail')) {
    return o.length === 1
      ? `${task} fails (${optional ? 'optional, ' : ''}no retries)`
      : `${task} fails${opt} after ${o.length} attempts`;
  } else if (last === 'timeout' && all('timeout')) {
    return o.length === 1
      ? `${task} times out (${optional ? 'optional, ' : ''}no retries)`
      : `${task} times out${opt} on all ${o.length} attempts`;
  }
  const words = { ok: 'succeeds', fail: 'fails', timeout: 'times out' };
  return `${task}${opt}: ${o.map((x) => words[x]).join(', ')}`;
}

export function pathName(
  compiled: CompiledWorkflow,
  actions: ModelAction[],
  states: ModelState[],
  happyCases: Map<string, string>,
): string {
  const def = compiled.definition;
  const final = states.at(-1)!;
  const ctx = final.run.context;
  const focus = final.focus;
  // Each part with the step it happened at, so the name reads in the order of the run.
  const parts: { at: number; text: string }[] = [];
  const settledAt = (task: string) =>
    states.findIndex((s) => !['PENDING', 'SCHEDULED'].includes(s.run.context.tasks[task]!.status));
  const known = new Set(def.tasks.map((t) => t.id));
  let lastDecision: { at: number; targets: string[] } | null = null;

  for (const t of def.tasks) {
    const st = ctx.tasks[t.id]!;
    // A MAP that ran no item: over an empty list, or over something that is not a list.
    if (t.type === 'MAP' && st.items?.length === 0 && focus !== t.id) {
      parts.push({
        at: settledAt(t.id),
        text: st.error?.code === 'LF_MAP_ITEMS_NOT_A_LIST' ? `${t.id} items are not a list` : `${t.id} over no items`,
      });
    }
    if (t.type === 'DECISION' && st.decision?.case) {
      const c = st.decision.case;
      const at = settledAt(t.id);
      const unknown = st.decision.next.filter((n) => !known.has(n));
      if (focus === null || c !== happyCases.get(t.id) || unknown.length > 0) {
        parts.push({ at, text: `${t.id}=${c}${unknown.length ? ` → unknown task ${unknown.join(', ')}` : ''}` });
        if (!lastDecision || at >= lastDecision.at)
          lastDecision = { at, targets: st.decision.next.filter((n) => known.has(n)) };
      }
    }
    // A loop that ran more than once, or to its limit, says so.
    if (t.type === 'DO_WHILE' && typeof st.output === 'object' && st.output !== null) {
      const n = (st.output as { iteration?: number }).iteration ?? 1;
      const at = states.findIndex((s) => ['COMPLETED', 'FAILED'].includes(s.run.context.tasks[t.id]!.status));
      if (st.error?.code === 'LF_LOOP_LIMIT') parts.push({ at, text: `${t.id} reaches its limit (${n} iterations)` });
      else if (n > 1 && st.status === 'COMPLETED') parts.push({ at, text: `${t.id} runs ${n} iterations` });
    }
    // Approvals are the happy path: worth naming only on a path that is about decisions and approvals.
    if (t.type === 'HUMAN' && focus === null) {
      const approval = actions.findIndex(
        (a) => a.type === 'log' && a.event.type === 'approval.recorded' && a.event.data.task === t.id,
      );
      if (approval >= 0) parts.push({ at: approval + 1, text: `${t.id} approved` });
    }
  }
  if (focus === RUN_TIMER_TASK) {
    parts.push({
      at: actions.findIndex((a) => a.type === 'hang') + 1,
      text: `no task finishes within the run's timeout (${durationText(def.timeoutMs ?? 0)})`,
    });
  } else if (focus !== null) {
    const t = def.tasks.find((x) => x.id === focus)!;
    const at = actions.findIndex(
      (a) =>
        (a.type === 'hang' && a.task === focus) ||
        (a.type === 'log' && 'task' in a.event.data && a.event.data.task === focus && a.event.type !== 'task.started'),
    );
    const st = ctx.tasks[focus]!;
    const text =
      t.type === 'WAIT'
        ? `${focus} gets no signal ${(t as WaitTask).event} in time (${st.status === 'SKIPPED' ? 'skipped' : 'timed out'})`
        : t.type === 'HUMAN'
          ? st.decidedBy === 'timeout'
            ? `${focus} approval times out (on_timeout: ${(t as HumanTask).onTimeout})`
            : `${focus} rejected`
          : t.type === 'MAP'
            ? mapStory(
                focus,
                actions,
                st.error?.code === 'LF_MAP_ITEMS_NOT_A_LIST' ? `${focus} items are not a list` : null,
              )
            : simpleStory(focus, attemptOutcomes(actions, focus), t.optional);
    parts.push({ at: at + 1, text });
  }
  parts.sort((a, b) => a.at - b.at);
  const status = final.run.status === 'active' ? 'still running' : String(final.run.value);
  const texts = parts.map((p) => p.text);
  if (status === 'failed') texts.push('run FAILED');
  else if (status !== 'completed') texts.push(`run ${status}`);
  else if (texts.length === 0) texts.push('every task succeeds ✓');
  else if (
    focus === null ||
    focus === RUN_TIMER_TASK ||
    def.tasks.find((t) => t.id === focus)?.type === 'HUMAN' ||
    ctx.tasks[focus]!.status !== 'COMPLETED'
  ) {
    // Say what the run ended with: the tasks the last decision chose, when it is the last thing named.
    const done =
      lastDecision && parts.at(-1)!.at === lastDecision.at
        ? lastDecision.targets.filter((n) => ctx.tasks[n]?.status === 'COMPLETED')
        : [];
    if (done.length > 0) texts.push(`${done.join(', ')} ✓`);
    else if (focus !== null && ctx.tasks[focus]?.status !== 'COMPLETED') texts.push('run COMPLETED');
    else texts[texts.length - 1] += ' ✓';
  }
  return texts.join(' → ');
}
