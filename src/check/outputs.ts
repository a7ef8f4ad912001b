/**
 * Outputs removed: a task's declared output, and the workflow's own. An error where something still reads it (a task's
 * template or condition, the workflow's `output:`, a trigger's mapping; for the workflow's own, a parent in the
 * definitions folder whose SUB_WORKFLOW reads `${child.output.<name>}`), else a warning or a note.
 */
import type { OutputSpec } from '../definition/index.js';
import { refText } from '../expressions/index.js';
import type { CheckedDefinition } from './checked.js';
import { finding, listed, type DiffContext } from './context.js';
import type { Finding } from './findings.js';
import { startersOf, type Starter } from './parents.js';
import { readsOf, type Read } from './reads.js';
import { locate, taskPath } from './where.js';

const namesOf = (o: OutputSpec): string[] => [...new Set([...o.names, ...Object.keys(o.values)])];

/** Whether a read of task `task`'s output reads field `name` (of a MAP over a workflow: of any item). */
function readsField(r: Read, task: string, name: string, perItem = false): boolean {
  if (r.ref.kind !== 'task' || r.ref.task !== task || r.ref.field !== 'output') return false;
  const [first, second] = r.ref.path;
  return perItem ? first !== undefined && /^\d+$/.test(first) && second === name : first === name;
}

function taskOutputs(ctx: DiffContext): Finding[] {
  const out: Finding[] = [];
  for (const [old, now] of ctx.pairing.pairs) {
    const is = namesOf(now.output);
    // A task that declares no output any more says nothing of what its handler gives: nothing is known removed.
    if (is.length === 0) continue;
    for (const name of namesOf(old.output).filter((n) => !is.includes(n))) {
      const reads = ctx.reads.filter((r) => readsField(r, now.id, name));
      if (reads.length === 0) {
        out.push(
          finding(
            'output-removed',
            'note',
            `task ${now.id} no longer declares output ${name}; nothing in this file reads it`,
            locate(
              ctx.source,
              { path: [...taskPath(now.index), 'output'], onKey: true },
              { path: taskPath(now.index) },
            ),
            now.id,
          ),
        );
        continue;
      }
      for (const r of reads)
        out.push(
          finding(
            'output-removed',
            'error',
            `task ${now.id} no longer declares output ${name}, but ${r.reader} reads ${refText(r.ref)}: read another output or declare it again`,
            locate(ctx.source, { path: r.path, inString: r.offset }),
            r.task ?? now.id,
          ),
        );
    }
  }
  return out;
}

function parentReads(starters: Starter[], name: string): { starter: Starter; read: Read }[] {
  return starters.flatMap((starter) =>
    readsOf(starter.parent.definition)
      .filter((r) => readsField(r, starter.task.id, name, starter.task.type === 'MAP'))
      .map((read) => ({ starter, read })),
  );
}

function workflowOutputs(ctx: DiffContext, parents: readonly CheckedDefinition[] | undefined): Finding[] {
  const out: Finding[] = [];
  const is = namesOf(ctx.after.def.output);
  const here = locate(ctx.source, { path: ['workflow', 'output'], onKey: true }, { path: ['workflow'], onKey: true });
  const id = ctx.after.def.id;
  const starters = parents === undefined ? [] : startersOf(parents, id);
  for (const name of namesOf(ctx.before.def.output).filter((n) => !is.includes(n))) {
    if (parents === undefined) {
      out.push(
        finding(
          'output-removed',
          'warning',
          `the workflow's output ${name} is removed; no definitions folder was given to look for parents that read it: check the workflows that start ${id}`,
          here,
        ),
      );
      continue;
    }
    const reads = parentReads(starters, name);
    if (reads.length === 0) {
      const none =
        starters.length === 0
          ? `no workflow of the folder starts ${id}`
          : `its parents (${listed(starters.map((s) => s.task.id))}) do not read it`;
      out.push(
        finding(
          'output-removed',
          'warning',
          `the workflow's output ${name} is removed; ${none}: callers outside the folder may`,
          here,
        ),
      );
      continue;
    }
    for (const { starter, read } of reads) {
      // The read is in the parent: its place is where a person fixes it (the parent's file, not this one).
      const where = locate(starter.source, { path: read.path, inString: read.offset });
      out.push(
        finding(
          'output-removed',
          'error',
          `the workflow's output ${name} is removed, but its parent ${starter.parent.definition.id} reads ${refText(read.ref)} in ${read.reader}: keep the output or change the parent`,
          where,
        ),
      );
    }
  }
  return out;
}

export function outputFindings(ctx: DiffContext, parents: readonly CheckedDefinition[] | undefined): Finding[] {
  return [...taskOutputs(ctx), ...workflowOutputs(ctx, parents)];
}
