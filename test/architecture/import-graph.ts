/**
 * The import graph of src/, read without TypeScript's compiler API (TypeScript 7 ships none): every
 * `import … from '…'`, `export … from '…'`, side-effect `import '…'` and dynamic `import('…')` with a
 * relative specifier, resolved to a file. Type-only imports count as arrows too: a loop of types is
 * still two modules that cannot be understood one without the other.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';

export interface Edge {
  from: string;
  to: string;
  line: number;
  typeOnly: boolean;
  dynamic: boolean;
}
export type Graph = Map<string, Edge[]>;

const STATIC = /^[ \t]*(import|export)[ \t]+(type[ \t]+)?(?:[^'";]*?[ \t\n]from[ \t]*)?['"]([^'"\n]+)['"]/gm;
const DYNAMIC = /\bimport\(\s*['"]([^'"\n]+)['"]\s*\)/g;
const SOURCE = /\.(ts|tsx|mts)$/;

/** Files under `root` (posix paths relative to `base`), tests and declaration files left out. */
export function sourceFiles(root: string, base: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (SOURCE.test(name) && !name.endsWith('.d.ts'))
        out.set(relative(base, path).split('\\').join('/'), readFileSync(path, 'utf8'));
    }
  };
  walk(root);
  return out;
}

/** A comment line (`//`, `/*`, ` * `) may quote an import; it is no arrow. */
function withoutCommentLines(text: string): string {
  return text
    .split('\n')
    .map((l) => (/^\s*(\/\/|\/\*|\*)/.test(l) ? '' : l))
    .join('\n');
}

function resolveSpecifier(from: string, spec: string, files: ReadonlySet<string>): string | null {
  const target = posix.normalize(posix.join(posix.dirname(from), spec));
  const stem = target.replace(/\.(js|mjs|jsx)$/, '');
  for (const candidate of [
    target,
    `${stem}.ts`,
    `${stem}.tsx`,
    `${stem}.mts`,
    `${stem}/index.ts`,
    `${stem}/index.tsx`,
  ]) {
    if (files.has(candidate)) return candidate;
  }
  return null;
}

/** The graph of `files` (path → text); a relative specifier that names no file is reported, not dropped. */
export function importGraph(files: ReadonlyMap<string, string>): { graph: Graph; unresolved: string[] } {
  const names = new Set(files.keys());
  const graph: Graph = new Map();
  const unresolved: string[] = [];
  for (const [from, raw] of files) {
    const text = withoutCommentLines(raw);
    const lineOf = (index: number) => text.slice(0, index).split('\n').length;
    const edges: Edge[] = [];
    const add = (spec: string, index: number, typeOnly: boolean, dynamic: boolean) => {
      // Packages, and assets the web bundle loads (app.css), are no module of src/.
      if (!spec.startsWith('.') || !/\.(js|jsx|mjs|ts|tsx)$/.test(spec)) return;
      const to = resolveSpecifier(from, spec, names);
      if (to === null) unresolved.push(`${from}:${lineOf(index)} ${spec}`);
      else edges.push({ from, to, line: lineOf(index), typeOnly, dynamic });
    };
    for (const m of text.matchAll(STATIC)) add(m[3]!, m.index, m[2] !== undefined, false);
    for (const m of text.matchAll(DYNAMIC)) add(m[1]!, m.index, false, true);
    graph.set(from, edges);
  }
  return { graph, unresolved };
}

/** Arrows into `src/cli/` from a file outside it: the CLI is the top of the house. */
export function arrowsIntoCli(graph: Graph, cliDir = 'src/cli/'): Edge[] {
  return [...graph.values()].flat().filter((e) => !e.from.startsWith(cliDir) && e.to.startsWith(cliDir));
}

/**
 * Every import loop, one per strongly connected component (Tarjan), written as a path of files that
 * returns to its start, each arrow with the line that makes it: `a.ts:3 → b.ts:9 → a.ts`.
 */
export function importCycles(graph: Graph): string[] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const { to } of graph.get(v) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(v, Math.min(low.get(v)!, low.get(to)!));
      } else if (onStack.has(to)) low.set(v, Math.min(low.get(v)!, index.get(to)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      const selfLoop = (graph.get(v) ?? []).some((e) => e.to === v);
      if (component.length > 1 || selfLoop) components.push(component);
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return components.map((component) => cyclePath(graph, new Set(component)));
}

/** One loop through a component, found by a breadth-first walk from its first file (sorted) back to it. */
function cyclePath(graph: Graph, component: ReadonlySet<string>): string {
  const start = [...component].sort()[0]!;
  const via = new Map<string, Edge>();
  const queue = [start];
  let closing: Edge | undefined;
  while (queue.length > 0 && !closing) {
    const v = queue.shift()!;
    for (const e of graph.get(v) ?? []) {
      if (!component.has(e.to)) continue;
      if (e.to === start) {
        closing = e;
        break;
      }
      if (!via.has(e.to)) {
        via.set(e.to, e);
        queue.push(e.to);
      }
    }
  }
  const edges: Edge[] = [closing!];
  for (let at = closing!.from; at !== start; at = via.get(at)!.from) edges.unshift(via.get(at)!);
  const arrow = (e: Edge) => `${e.from}:${e.line}${e.typeOnly ? ' (type)' : e.dynamic ? ' (dynamic)' : ''}`;
  return `${edges.map(arrow).join(' → ')} → ${start}`;
}

export const SRC = join(dirname(new URL(import.meta.url).pathname), '..', '..', 'src');
