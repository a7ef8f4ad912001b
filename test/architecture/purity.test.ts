/**
 * The deterministic core stays pure (ARCHITECTURE.md, "The core"): the modules whose results are
 * recorded in every run's history — definition, expressions, compiler, events, errors, digest and
 * runtime (fold, step, effects, replay and the rules) — import nothing but each other and the
 * packages below, no `node:` module, no store, no executor; and read no clock, no randomness, no
 * timers, no environment. Each failure names the file, the line and what it reached for.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { SRC, importGraph, sourceFiles } from './import-graph.js';

/** The core's modules: folders of src/ (and root files) that must stay pure. */
const CORE = [
  'src/definition/',
  'src/authority/',
  'src/expressions/',
  'src/compiler/',
  'src/events/',
  'src/errors/',
  'src/digest/',
  'src/runtime/',
  'src/weak-memo.ts',
  'src/bounded.ts',
  'src/duration.ts',
];
/** Packages the core may use: none of them does I/O or reads a clock for what the core asks of them. */
const CORE_PACKAGES = ['xstate', 'zod', 'yaml', 'jsep', 'croner', '@noble/hashes'];
/** What a pure function may not reach for: time, chance, timers, the process. */
const IMPURE: [RegExp, string][] = [
  [/\bDate\.now\s*\(/, 'Date.now()'],
  [/\bnew Date\(\s*\)/, 'new Date() (the current time)'],
  [/\bMath\.random\s*\(/, 'Math.random()'],
  [/\bperformance\.now\s*\(/, 'performance.now()'],
  [/\b(setTimeout|setInterval|setImmediate|queueMicrotask)\s*\(/, 'a timer'],
  [/\bprocess\./, 'process (environment, clock, exit)'],
  [/\brequire\s*\(/, 'require()'],
];

const inCore = (file: string) => CORE.some((c) => (c.endsWith('/') ? file.startsWith(c) : file === c));
const files = sourceFiles(SRC, join(SRC, '..'));
const { graph } = importGraph(files);

/** Lines of code (comments dropped: a comment may name what the code must not do). */
function codeLines(text: string): [number, string][] {
  return text
    .split('\n')
    .map((l, i): [number, string] => [i + 1, l.replace(/\/\/.*$/, '')])
    .filter(([, l]) => !/^\s*(\/\*|\*)/.test(l));
}

function coreViolations(all: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  const g = all === files ? graph : importGraph(all).graph;
  for (const [file, text] of all) {
    if (!inCore(file)) continue;
    for (const e of g.get(file) ?? [])
      if (!inCore(e.to)) out.push(`${file}:${e.line} imports ${e.to}, outside the core`);
    for (const [line, code] of codeLines(text)) {
      const m =
        /^\s*(?:import|export)\b[^'"]*?\bfrom\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/.exec(
          code,
        );
      const spec = m?.[1] ?? m?.[2] ?? m?.[3];
      const pkg = spec !== undefined && !spec.startsWith('.') ? spec : undefined;
      if (pkg !== undefined) {
        const name = pkg.startsWith('@') ? pkg.split('/').slice(0, 2).join('/') : pkg.split('/')[0]!;
        if (pkg.startsWith('node:')) out.push(`${file}:${line} imports ${pkg}`);
        else if (!CORE_PACKAGES.includes(name))
          out.push(`${file}:${line} imports the package ${pkg}, not one the core may use`);
      }
      for (const [re, what] of IMPURE) if (re.test(code)) out.push(`${file}:${line} reads ${what}`);
    }
  }
  return out;
}

describe('the deterministic core', () => {
  it('has its modules (the check below sees them)', () => {
    const core = [...files.keys()].filter(inCore);
    for (const dir of CORE)
      expect(
        core.some((f) => f.startsWith(dir)),
        dir,
      ).toBe(true);
    expect(core).toContain('src/runtime/step.ts');
    expect(core).toContain('src/runtime/fold.ts');
  });

  it('imports no store, executor, node: module or other package, and reads no clock, randomness, timer or process', () => {
    expect(
      coreViolations(files),
      'the core decides; executors (src/local, src/cluster, src/executor) do the I/O: move this out, or pass the value in',
    ).toEqual([]);
  });

  it('the checker finds each kind of impurity', () => {
    const fixture = new Map([
      [
        'src/runtime/a.ts',
        "import { x } from '../store/index.js';\nimport * as c from 'node:crypto';\nimport { nats } from 'nats';\nconst t = Date.now();\n// Date.now() in a comment is fine\nsetTimeout(() => {}, 1);\n",
      ],
      ['src/store/index.ts', 'export const x = 1;\n'],
      ['src/runtime/b.ts', "import { z } from 'zod';\nimport type { A } from './a.js';\n"],
    ]);
    expect(coreViolations(fixture)).toEqual([
      'src/runtime/a.ts:1 imports src/store/index.ts, outside the core',
      'src/runtime/a.ts:2 imports node:crypto',
      'src/runtime/a.ts:3 imports the package nats, not one the core may use',
      'src/runtime/a.ts:4 reads Date.now()',
      'src/runtime/a.ts:6 reads a timer',
    ]);
  });
});
