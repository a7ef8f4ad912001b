/**
 * The layering rule of ARCHITECTURE.md: src/cli/ is the top of the house (nothing outside it imports
 * it), and no import loop anywhere in src/ (type-only and dynamic imports count). Each failure names
 * the files and lines to change.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { SRC, arrowsIntoCli, importCycles, importGraph, sourceFiles } from './import-graph.js';

const files = sourceFiles(SRC, join(SRC, '..'));
const { graph, unresolved } = importGraph(files);

describe('layering of src/', () => {
  it('reads every relative import of src/ to a file (the check below sees the whole graph)', () => {
    expect(graph.size).toBeGreaterThan(200);
    expect(unresolved).toEqual([]);
    // A multi-line import, a type-only one and a dynamic one are all read.
    expect(graph.get('src/cli/program.ts')!.length).toBeGreaterThan(5);
  });

  it('no module outside src/cli/ imports from src/cli/ (the CLI is a command table over the library)', () => {
    const arrows = arrowsIntoCli(graph).map((e) => `${e.from}:${e.line} imports ${e.to}`);
    expect(
      arrows,
      "move what these files need out of src/cli/ into the module it belongs to and import it from that module's index.ts",
    ).toEqual([]);
  });

  it('the two executors share through executor/ only: nothing in src/cluster/ imports src/local/ (one copy of each commit: executor/run-commits.ts)', () => {
    const arrows = [...graph].flatMap(([from, edges]) =>
      from.startsWith('src/cluster/')
        ? edges.filter((e) => e.to.startsWith('src/local/')).map((e) => `${from}:${e.line} imports ${e.to}`)
        : [],
    );
    expect(
      arrows,
      'what the NATS executor needs of the in-process one belongs in src/executor/, which both import',
    ).toEqual([]);
  });

  it("what every command loads before its own files (main.ts's static imports) holds none of the library: `--version` and `--help` start without it", () => {
    const loaded = new Set(['src/cli/main.ts']);
    for (const file of loaded) for (const e of graph.get(file) ?? []) if (!e.typeOnly && !e.dynamic) loaded.add(e.to);
    expect(loaded.size).toBeGreaterThan(10);
    const library = ['src/definition/', 'src/compiler/', 'src/store/', 'src/runtime/', 'src/local/', 'src/cluster/'];
    const packages =
      /^[ \t]*import[ \t]+(?!type[ \t])[^'";]*?from[ \t]*['"](yaml|zod|xstate|hono|@nats-io\/[^'"]+)['"]/gm;
    const found = [...loaded].flatMap((file) => [
      ...(library.some((dir) => file.startsWith(dir)) ? [file] : []),
      ...[...files.get(file)!.matchAll(packages)].map((m) => `${file} imports the package ${m[1]}`),
    ]);
    expect(
      found,
      'import these where the command that needs them runs (its file in src/cli/commands/, loaded lazily), or move the small part the flags need into a module of its own (src/duration.ts)',
    ).toEqual([]);
  });

  it('src/ has no import loop (type-only and dynamic imports count)', () => {
    expect(
      importCycles(graph),
      'each line is a loop of files (file:line of each arrow); move the shared part into a file both import',
    ).toEqual([]);
  });
});

describe('the checker itself', () => {
  const files = new Map([
    ['src/a/index.ts', "import { b } from '../b/index.js';\nexport const a = 1;\n"],
    ['src/b/index.ts', "import type {\n  C,\n} from './c.js';\nexport const b = 2;\n"],
    [
      'src/b/c.ts',
      "// import { nothing } from '../a/index.js';\nexport type C = number;\nexport const load = () => import('../a/index.js');\n",
    ],
    ['src/server/x.ts', "export { run } from '../cli/commands/run.js';\n"],
    ['src/cli/commands/run.ts', 'export const run = 1;\n'],
  ]);
  const fixture = importGraph(files);

  it('finds a loop through a multi-line type-only import and a dynamic import, and names its files and lines', () => {
    expect(importCycles(fixture.graph)).toEqual([
      'src/a/index.ts:1 → src/b/index.ts:1 (type) → src/b/c.ts:3 (dynamic) → src/a/index.ts',
    ]);
  });

  it('finds an arrow into src/cli/ and ignores an import quoted in a comment', () => {
    expect(arrowsIntoCli(fixture.graph).map((e) => `${e.from}:${e.line} → ${e.to}`)).toEqual([
      'src/server/x.ts:1 → src/cli/commands/run.ts',
    ]);
    expect(fixture.graph.get('src/b/c.ts')!.map((e) => e.line)).toEqual([3]);
  });
});
