/**
 * docs/library-api.md: a process of one's own that drives many runs is started as
 * `node --no-allocation-site-pretenuring --max-semi-space-size=64 app.js`, the flags the command gives
 * itself. This Node takes both, and an app importing the built package runs its workflows under them.
 * Needs dist/ (`npm test` builds first).
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BIN, NODE_FLAGS, nodeFlagsFor, ROOT, tempDir } from '../helpers/cli.js';

describe('the node flags the library docs give an app', () => {
  it('an app started with them runs a thousand runs of a workflow to COMPLETED', async () => {
    const dir = tempDir('lf-flags-');
    const app = join(dir, 'app.mjs');
    writeFileSync(
      app,
      `
import { Engine, MemoryEventStore, parseDefinition } from ${JSON.stringify(pathToFileURL(join(ROOT, 'dist', 'index.js')).href)};
const { definition } = parseDefinition('workflow:\\n  id: two\\n  version: 1\\n  tasks:\\n    - { id: a, type: SIMPLE }\\n    - { id: b, type: SIMPLE, depends_on: [a] }\\n', 'two.yaml');
const engine = new Engine({ store: new MemoryEventStore() });
const handlers = { a: async () => ({ n: 1 }), b: async (input) => ({ n: 2 }) };
const views = await Promise.all(Array.from({ length: 1000 }, () => engine.run(definition, {}, { handlers })));
console.log(JSON.stringify({ completed: views.filter((v) => v.status === 'COMPLETED').length }));
`,
    );
    const out = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--no-allocation-site-pretenuring', '--max-semi-space-size=64', app],
        { cwd: dir },
        (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
      );
    });
    expect(JSON.parse(out)).toEqual({ completed: 1000 });
  });

  /** The node flags the bin, run as a program (its sh line, as npm's link and PATH run it), started node with for `args`. */
  const flagsOfBin = async (args: string[]): Promise<{ flags: string[]; rest: string }> => {
    // The command prints the flags its node was started with when asked (process.execArgv, through NODE_OPTIONS), so
    // a flag this Node refuses, or a bin whose line test/helpers/cli.ts no longer reads, fails here rather than in
    // every CLI test.
    const dir = tempDir('lf-flags-');
    const probe = join(dir, 'probe.cjs');
    writeFileSync(probe, 'process.stdout.write(JSON.stringify(process.execArgv));\n');
    const out = await new Promise<string>((resolve, reject) => {
      execFile(
        BIN,
        args,
        { cwd: dir, env: { ...process.env, NODE_OPTIONS: `--require ${probe}` } },
        (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
      );
    });
    return { flags: JSON.parse(out.slice(0, out.indexOf(']') + 1)), rest: out.slice(out.indexOf(']') + 1) };
  };

  it('bin/ledgerflow.js run as a program (its sh line) starts node with the flags the tests give their commands', async () => {
    const { flags, rest } = await flagsOfBin(['--version']);
    expect(NODE_FLAGS).toContain('--min-semi-space-size=16');
    expect(NODE_FLAGS).toContain('--max-semi-space-size=64');
    expect(flags).toEqual(NODE_FLAGS);
    expect(rest.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('serve and ui, which hold runs for days, get a young generation stopping at 16 MB; the engine keeps 64', async () => {
    // Their peak memory holding thousands of runs grew by 90–100 MB with a 64 MB young generation (bin/ledgerflow.js).
    for (const args of [
      ['serve', '--help'],
      ['--store', 'x', 'ui', '--help'],
    ]) {
      const { flags, rest } = await flagsOfBin(args);
      expect(flags, args.join(' ')).toEqual(['--max-semi-space-size=16', '--min-semi-space-size=16']);
      expect(flags).toEqual(nodeFlagsFor(args));
      expect(rest).toContain('Usage: ledgerflow');
    }
    const engine = await flagsOfBin(['engine', '--help']);
    expect(engine.flags).toEqual(NODE_FLAGS);
  });
});
