/**
 * The workflow's inputs: one newly required (required, no default, where it was absent, optional or defaulted) breaks
 * every start that does not give it: the triggers of the new file and the parents that start it are named. One
 * removed breaks every start that still gives it (an unknown input is refused).
 */
import type { InputDecl } from '../definition/index.js';
import type { CheckedDefinition } from './checked.js';
import { finding, listed, type DiffContext } from './context.js';
import type { Finding } from './findings.js';
import { inStarter, placeText, startersOf } from './parents.js';
import { locate, type Source, type Spot } from './where.js';

const mustBeGiven = (i: InputDecl | undefined): boolean => i !== undefined && i.required && i.default === undefined;

/** Where input `name` is declared: its entry of `input.required` or `input.optional`, else the `input:` key. */
function declared(source: Source, name: string): Spot[] {
  const raw = source.doc?.raw as { workflow?: { input?: Record<string, unknown> } } | null | undefined;
  const spots: Spot[] = [];
  for (const section of ['required', 'optional']) {
    const list = raw?.workflow?.input?.[section];
    if (!Array.isArray(list)) continue;
    const i = list.findIndex(
      (item) => item === name || (item !== null && typeof item === 'object' && Object.hasOwn(item, name)),
    );
    if (i >= 0)
      spots.push(
        typeof list[i] === 'string'
          ? { path: ['workflow', 'input', section, i] }
          : { path: ['workflow', 'input', section, i, name], onKey: true },
      );
  }
  return [...spots, { path: ['workflow', 'input'], onKey: true }, { path: ['workflow'], onKey: true }];
}

function newlyRequired(ctx: DiffContext, parents: readonly CheckedDefinition[] | undefined): Finding[] {
  const out: Finding[] = [];
  const before = new Map(ctx.before.def.inputs.map((i) => [i.name, i]));
  const starters = parents === undefined ? [] : startersOf(parents, ctx.after.def.id);
  for (const input of ctx.after.def.inputs) {
    if (!mustBeGiven(input) || mustBeGiven(before.get(input.name))) continue;
    const triggers = ctx.after.def.triggers.flatMap((t, i) =>
      Object.hasOwn(t.input, input.name)
        ? []
        : [`trigger ${i + 1} (${t.kind === 'event' ? `event ${t.event}` : `schedule ${t.cron}`})`],
    );
    const callers = starters
      .filter((s) => !Object.hasOwn(s.task.input, input.name))
      .map((s) => `${s.parent.definition.id}'s ${s.task.id} (${placeText(inStarter(s, ['input'], true))})`);
    const missing = [...triggers, ...callers];
    const was = before.has(input.name) ? 'was optional' : 'is new';
    const who = missing.length > 0 ? `: ${listed(missing)} ${missing.length === 1 ? 'does' : 'do'} not give it` : '';
    out.push(
      finding(
        'input-newly-required',
        'error',
        `input ${input.name} ${was} and is now required with no default, so every start that does not give it is refused${who}; give it a default or map it in every starter`,
        locate(ctx.source, ...declared(ctx.source, input.name)),
      ),
    );
  }
  return out;
}

function removed(ctx: DiffContext, parents: readonly CheckedDefinition[] | undefined): Finding[] {
  const now = new Set(ctx.after.def.inputs.map((i) => i.name));
  const starters = parents === undefined ? [] : startersOf(parents, ctx.after.def.id);
  return ctx.before.def.inputs
    .filter((i) => !now.has(i.name))
    .map((i) => {
      const callers = starters
        .filter((s) => Object.hasOwn(s.task.input, i.name))
        .map((s) => `${s.parent.definition.id}'s ${s.task.id} (${placeText(inStarter(s, ['input', i.name], true))})`);
      const who = callers.length > 0 ? ` (${listed(callers)} still ${callers.length === 1 ? 'gives' : 'give'} it)` : '';
      return finding(
        'input-removed',
        'warning',
        `input ${i.name} is removed: a start that still gives it is refused as an unknown input${who}; stop giving it`,
        locate(ctx.source, { path: ['workflow', 'input'], onKey: true }, { path: ['workflow'], onKey: true }),
      );
    });
}

export function inputFindings(ctx: DiffContext, parents: readonly CheckedDefinition[] | undefined): Finding[] {
  return [...newlyRequired(ctx, parents), ...removed(ctx, parents)];
}
