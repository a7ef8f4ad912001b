/**
 * The dependency map of workflows: which workflow starts which, and how — a SUB_WORKFLOW or MAP task's child runs, an
 * EMIT task whose event an event trigger listens to, a failure workflow. Pure: the definitions in, the edges out; an
 * EMIT whose event is a template (`${...}`) is only known when it runs, so it is listed as dynamic rather than guessed.
 */
import { isFailureStep, type Definition } from '../definition/index.js';
import { failureHandlerId } from '../runtime/index.js';

export type EdgeKind = 'sub_workflow' | 'map' | 'emit' | 'failure_workflow';

export interface MapEdge {
  from: string;
  to: string;
  kind: EdgeKind;
  /** The task that starts it (the failure workflow: none). */
  task?: string;
  /** An EMIT's event type. */
  event?: string;
  /** A failure handler ledgerflow makes from the built-in failure steps (no definition of its own). */
  builtIn?: string[];
}

export interface MapWorkflow {
  id: string;
  version: number;
  domain?: string;
  /** Event types its triggers listen to. */
  listens: string[];
  /** Its schedules' cron expressions. */
  schedules: string[];
}

export interface WorkflowMap {
  workflows: MapWorkflow[];
  edges: MapEdge[];
  /** An EMIT whose event no known workflow listens to (a typo, or one heard outside ledgerflow). */
  unheard: Array<{ from: string; task: string; event: string }>;
  /** An EMIT whose event type is a template: which workflows it starts is known only when it runs. */
  dynamic: Array<{ from: string; task: string; event: string }>;
  /** A child workflow no definition here defines (a SUB_WORKFLOW, MAP or failure workflow naming an unknown id). */
  missing: Array<{ from: string; to: string; task?: string }>;
}

/** The map of the latest version of each workflow given (the first of an id wins: pass them newest first). */
export function workflowMap(definitions: readonly Definition[]): WorkflowMap {
  const latest = new Map<string, Definition>();
  for (const d of definitions) if (!latest.has(d.id)) latest.set(d.id, d);
  const listeners = new Map<string, string[]>();
  for (const d of latest.values()) {
    for (const t of d.triggers)
      if (t.kind === 'event') listeners.set(t.event, [...(listeners.get(t.event) ?? []), d.id]);
  }
  const map: WorkflowMap = { workflows: [], edges: [], unheard: [], dynamic: [], missing: [] };
  const child = (from: string, to: string, kind: EdgeKind, task?: string) => {
    if (latest.has(to)) map.edges.push({ from, to, kind, ...(task ? { task } : {}) });
    else map.missing.push({ from, to, ...(task ? { task } : {}) });
  };
  for (const d of [...latest.values()].sort((a, b) => (a.id < b.id ? -1 : 1))) {
    map.workflows.push({
      id: d.id,
      version: d.version,
      ...(d.domain ? { domain: d.domain } : {}),
      listens: d.triggers.flatMap((t) => (t.kind === 'event' ? [t.event] : [])),
      schedules: d.triggers.flatMap((t) => (t.kind === 'schedule' ? [t.cron] : [])),
    });
    for (const t of d.tasks) {
      if (t.type === 'SUB_WORKFLOW') child(d.id, t.workflow, 'sub_workflow', t.id);
      else if (t.type === 'MAP' && t.workflow) child(d.id, t.workflow, 'map', t.id);
      else if (t.type === 'EMIT') {
        if (t.event.includes('${')) {
          map.dynamic.push({ from: d.id, task: t.id, event: t.event });
          continue;
        }
        const to = listeners.get(t.event) ?? [];
        if (to.length === 0) map.unheard.push({ from: d.id, task: t.id, event: t.event });
        for (const id of to) map.edges.push({ from: d.id, to: id, kind: 'emit', task: t.id, event: t.event });
      }
    }
    const failure = d.failureWorkflow;
    // Steps naming tasks run inside the run (no other workflow); built-in steps run as a handler ledgerflow makes.
    if (failure && failure.steps.some(isFailureStep))
      map.edges.push({
        from: d.id,
        to: failureHandlerId(d),
        kind: 'failure_workflow',
        builtIn: failure.steps.filter(isFailureStep),
      });
    else if (failure && failure.steps.length === 0) child(d.id, failure.id, 'failure_workflow');
  }
  return map;
}

const KIND_WORDS: Readonly<Record<EdgeKind, string>> = {
  sub_workflow: 'sub-workflow',
  map: 'MAP items',
  emit: 'emits',
  failure_workflow: 'on failure',
};

/** The map as lines for a terminal: each workflow, then what it starts. Text from definitions goes through `show` (inert). */
export function workflowMapText(map: WorkflowMap, show: (s: string) => string = (s) => s): string {
  const lines: string[] = [];
  for (const w of map.workflows) {
    const starts = [...w.listens.map((e) => `event ${show(e)}`), ...w.schedules.map((c) => `schedule ${show(c)}`)];
    lines.push(
      `${show(w.id)} v${w.version}${w.domain ? ` (domain ${show(w.domain)})` : ''}${starts.length ? `  ← ${starts.join(', ')}` : ''}`,
    );
    for (const e of map.edges.filter((x) => x.from === w.id)) {
      lines.push(
        `  → ${show(e.to)}  ${KIND_WORDS[e.kind]}${e.event ? ` ${show(e.event)}` : ''}${e.task ? ` (task ${show(e.task)})` : ''}${e.builtIn ? ` (built-in steps ${e.builtIn.join(', ')})` : ''}`,
      );
    }
    for (const e of map.unheard.filter((x) => x.from === w.id))
      lines.push(`  → nobody  emits ${show(e.event)} (task ${show(e.task)}): no workflow here listens to it`);
    for (const e of map.dynamic.filter((x) => x.from === w.id))
      lines.push(`  → ?  emits ${show(e.event)} (task ${show(e.task)}): the event type is known when it runs`);
    for (const e of map.missing.filter((x) => x.from === w.id))
      lines.push(
        `  → ${show(e.to)}  not defined here${e.task ? ` (task ${show(e.task)})` : ' (its failure workflow)'}`,
      );
  }
  if (map.workflows.length === 0) lines.push('no workflows');
  return lines.join('\n');
}
