/**
 * Why an item no generated path covers cannot be covered. Where the cause is a bug in the definition it is the same
 * text (and code) as the validation warning that reports it: a case routing to an unknown task
 * (LF_UNKNOWN_CASE_TARGET), a task that can never run (LF_TASK_NEVER_RUNS).
 */
import { effectiveDependencies, neverRunsMessage, tasksThatNeverRun, type Definition } from '../definition/index.js';
import type { DecisionPlan } from './outputs.js';
import type { Item } from './items.js';

export interface Uncovered extends Item {
  reason: string;
  /** The validation warning that reports the same problem, if it is one. */
  code?: string;
}

/** Cases chosen on some path whose targets do not exist: the path checks the run fails, but the branch never runs. */
export interface BrokenCase {
  decision: string;
  case: string;
  unknown: string[];
  path: string;
}

export function explainUncovered(
  def: Definition,
  items: Item[],
  plan: DecisionPlan,
  broken: BrokenCase[],
  ranTasks: Set<string>,
): Uncovered[] {
  const never = tasksThatNeverRun(def);
  const deps = effectiveDependencies(def);
  const missing = new Map(plan.missing.map((m) => [`${m.decision}/${m.case}`, m.reason]));
  const brokenBy = new Map(broken.map((b) => [`${b.decision}/${b.case}`, b]));

  /** The task upstream of `id` whose own reason explains why `id` never runs. */
  const rootOf = (id: string, seen = new Set<string>()): string | null => {
    if (seen.has(id)) return null;
    seen.add(id);
    for (const d of deps.get(id) ?? []) {
      if (!never.has(d)) continue;
      if (never.get(d)) return d;
      const r = rootOf(d, seen);
      if (r) return r;
    }
    return null;
  };

  const taskReason = (task: string): { reason: string; code?: string } | null => {
    const t = def.tasks.find((x) => x.id === task)!;
    if (never.has(task)) {
      const own = never.get(task);
      if (own) return { reason: neverRunsMessage(task, own), code: 'LF_TASK_NEVER_RUNS' };
      const root = rootOf(task);
      return {
        reason: `task ${task} can never run: it waits for ${root ?? 'a task'} that can never run (see the warning on ${root ?? 'it'})`,
      };
    }
    if (!ranTasks.has(task)) {
      const gates = def.tasks
        .flatMap((d) => (d.type === 'DECISION' ? [d] : []))
        .map((d) => ({
          d,
          cases: [
            ...d.cases.filter((c) => c.next.includes(task)).map((c) => c.name),
            ...(d.defaultNext?.includes(task) ? ['default'] : []),
          ],
        }))
        .filter((g) => g.cases.length > 0);
      const unchosen = gates.filter((g) => g.cases.every((c) => missing.has(`${g.d.id}/${c}`)));
      if (unchosen.length > 0) {
        const g = unchosen[0]!;
        return {
          reason: `task ${task} runs only when ${g.d.id} chooses ${g.cases.join(' or ')}, which no generated path does (see that case); script it in an expectation`,
        };
      }
      return { reason: `no generated path runs ${t.id}; script it in an expectation` };
    }
    return null;
  };

  return items.map((i): Uncovered => {
    if (i.kind === 'decisionCase') {
      const b = brokenBy.get(`${i.task}/${i.item}`);
      if (b) {
        const targets = b.unknown.map((u) => `"${u}"`).join(', ');
        return {
          ...i,
          code: 'LF_UNKNOWN_CASE_TARGET',
          reason: `decision case ${i.item} of ${i.task} routes to unknown task ${targets}; choosing this case at run time fails the run (path "${b.path}" checks that it does)`,
        };
      }
      const m = missing.get(`${i.task}/${i.item}`);
      if (m) return { ...i, reason: m };
      const r = taskReason(i.task!);
      return {
        ...i,
        reason: r?.reason ?? `no generated path makes ${i.task} choose ${i.item}; script it in an expectation`,
        ...(r?.code ? { code: r.code } : {}),
      };
    }
    if (i.task === null) {
      return {
        ...i,
        reason: i.item.includes('completed')
          ? 'no generated path completes the run: every path fails it (check the warnings: a required task that cannot succeed?)'
          : 'no generated path fails the run',
      };
    }
    const r = taskReason(i.task);
    if (r) return { ...i, ...r };
    return {
      ...i,
      reason: `no generated path takes it: paths act on one task at a time, in definition order, with at most one task off the happy path, so an outcome that needs parallel tasks to interleave otherwise is not generated; script it in an expectation if it matters`,
    };
  });
}
