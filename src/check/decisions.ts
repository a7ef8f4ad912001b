/**
 * A decision's cases, compared by name: a case added, removed (an error when runs of the old version could have
 * taken it: they may be routed to it when they reach the decision), or changed (its condition, its targets, or what
 * the decision reads to choose).
 */
import { tasksThatNeverRun, type DecisionTask, type TaskDef } from '../definition/index.js';
import { finding, listed, type DiffContext } from './context.js';
import type { Finding } from './findings.js';
import { locate, taskPath, type Spot } from './where.js';

interface Case {
  name: string;
  next: string[];
  condition?: string;
}

const casesOf = (d: DecisionTask): Case[] => [
  ...d.cases,
  ...(d.defaultNext === undefined ? [] : [{ name: 'default', next: d.defaultNext }]),
];

const caseSpot = (t: TaskDef, name?: string): Spot => ({
  path: [...taskPath(t.index), 'decision_cases', ...(name === undefined ? [] : [name])],
  onKey: true,
});

function caseChange(ctx: DiffContext, was: Case, is: Case): string | null {
  const mapped = was.next.map((id) => ctx.pairing.newId.get(id) ?? id);
  const parts: string[] = [];
  if ((was.condition ?? '') !== (is.condition ?? ''))
    parts.push(`its condition was "${was.condition ?? '(none)'}" and is "${is.condition ?? '(none)'}"`);
  if (mapped.join('\n') !== is.next.join('\n'))
    parts.push(`it went to ${listed(mapped) || 'nothing'} and goes to ${listed(is.next) || 'nothing'}`);
  return parts.length === 0 ? null : parts.join(', ');
}

function decisionFindings(ctx: DiffContext, old: DecisionTask, now: DecisionTask, neverRuns: boolean): Finding[] {
  const out: Finding[] = [];
  const was = casesOf(old);
  const is = casesOf(now);
  const here = (name?: string) => locate(ctx.source, caseSpot(now, name), caseSpot(now), { path: taskPath(now.index) });
  if ((old.decisionParam ?? '') !== (now.decisionParam ?? ''))
    out.push(
      finding(
        'decision-case-changed',
        'warning',
        `decision ${now.id} chose by "${old.decisionParam ?? '(conditions)'}" and now by "${now.decisionParam ?? '(conditions)'}": check every case still matches what it reads`,
        locate(ctx.source, { path: [...taskPath(now.index), 'decision_param'] }, caseSpot(now)),
        now.id,
      ),
    );
  for (const c of is) {
    const before = was.find((w) => w.name === c.name);
    if (!before) {
      out.push(
        finding(
          'decision-case-added',
          'note',
          `decision ${now.id} has a new case ${c.name} (to ${listed(c.next) || 'nothing'})`,
          here(c.name),
          now.id,
        ),
      );
      continue;
    }
    const change = caseChange(ctx, before, c);
    if (change !== null)
      out.push(
        finding(
          'decision-case-changed',
          'warning',
          `decision ${now.id}, case ${c.name}: ${change}; runs that reach it after the deploy are routed the new way`,
          here(c.name),
          now.id,
        ),
      );
  }
  for (const c of was) {
    if (is.some((i) => i.name === c.name)) continue;
    // A case runs could have taken: its decision runs, and its condition is not plainly false.
    const takeable = !neverRuns && c.condition?.trim() !== 'false';
    out.push(
      finding(
        'decision-case-removed',
        takeable ? 'error' : 'warning',
        takeable
          ? `decision ${now.id} lost case ${c.name} (to ${listed(c.next) || 'nothing'}), which runs of the old version could take: keep the case, or migrate those runs first`
          : `decision ${now.id} lost case ${c.name}, which no run of the old version could take`,
        here(),
        now.id,
      ),
    );
  }
  return out;
}

export function decisionChangeFindings(ctx: DiffContext): Finding[] {
  const decisions = ctx.pairing.pairs.filter(
    (p): p is [DecisionTask, DecisionTask] => p[0].type === 'DECISION' && p[1].type === 'DECISION',
  );
  if (decisions.length === 0) return [];
  const never = tasksThatNeverRun(ctx.before.def);
  return decisions.flatMap(([old, now]) => decisionFindings(ctx, old, now, never.has(old.id)));
}
