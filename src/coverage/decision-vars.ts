/**
 * The values a decision reads (outputs.ts searches them for each case): the task output paths and input paths its
 * references name, traced through SET variables, and a walk over a condition's syntax tree to find them.
 */
import type { Definition } from '../definition/index.js';
import { findRefs, type CompiledCondition, type Ref } from '../expressions/index.js';

type Node = CompiledCondition['ast'];

/** A value a decision reads: a task output path or a workflow input path. */
export interface Var {
  kind: 'output' | 'input';
  /** Task id, or input name. */
  owner: string;
  path: string[];
}
export const varKey = (v: Var): string => `${v.kind}:${v.owner}:${v.path.join('.')}`;

export function varOfRef(ref: Ref, def: Definition, depth = 0): Var | null {
  if (ref.kind === 'task' && ref.field === 'output') return { kind: 'output', owner: ref.task, path: ref.path };
  if (ref.kind === 'input' && ref.name !== null) return { kind: 'input', owner: ref.name, path: ref.path };
  if (ref.kind === 'variable' && ref.name !== null && depth < 8) return varOfVariable(def, ref.name, ref.path, depth);
  return null;
}

/**
 * A workflow variable traced to what sets it: the last SET task (in definition order) whose value for the name is
 * exactly one reference to a task output or an input. Anything else (a literal, text around a reference) is not varied.
 */
function varOfVariable(def: Definition, name: string, path: string[], depth: number): Var | null {
  for (let i = def.tasks.length - 1; i >= 0; i--) {
    const t = def.tasks[i]!;
    if (t.type !== 'SET' || !Object.hasOwn(t.values, name)) continue;
    const value = t.values[name];
    if (typeof value !== 'string') return null;
    const refs = findRefs(value);
    if (refs.length !== 1 || refs[0]!.text !== value.trim()) return null;
    const inner = varOfRef(refs[0]!.ref, def, depth + 1);
    return inner ? { ...inner, path: [...inner.path, ...path] } : null;
  }
  return null;
}

/** `x.output.a` written as a chain of property reads on a reference. */
export function varOfNode(n: Node, def: Definition): Var | null {
  if (n.t === 'ref') return varOfRef(n.ref, def);
  if (n.t === 'get') {
    const inner = varOfNode(n.obj, def);
    return inner ? { ...inner, path: [...inner.path, n.key] } : null;
  }
  return null;
}

export function walk(n: Node, visit: (n: Node) => void): void {
  visit(n);
  switch (n.t) {
    case 'get':
      walk(n.obj, visit);
      break;
    case 'arr':
      n.items.forEach((i) => walk(i, visit));
      break;
    case 'not':
    case 'neg':
      walk(n.arg, visit);
      break;
    case 'bin':
    case 'and':
    case 'or':
      walk(n.l, visit);
      walk(n.r, visit);
      break;
    case 'if':
      walk(n.test, visit);
      walk(n.then, visit);
      walk(n.else, visit);
      break;
    case 'call':
      n.args.forEach((a) => walk(a, visit));
      break;
    default:
      break;
  }
}
