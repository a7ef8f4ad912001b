/**
 * `npm run bench -- cli`: what a user waits for at the command line, ÷
 * starting node and doing nothing (`node -e 0`), each the median of its
 * rounds, the three commands taking turns:
 *
 * - `ledgerflow --version`;
 * - `ledgerflow run wf.yaml` of a one-task workflow whose handler is a
 *   JavaScript module named by the definition's `handlers:` (docs/handlers.md),
 *   in a temp dir (its embedded store under ./.ledgerflow there).
 *
 * Both spawn the built bin/ledgerflow.js as a user's shell does (its sh
 * prelude included), so the section runs `npm run build` first (`--no-build`:
 * use dist/ as it is).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, list, median, now, progress, type Bench, discard } from './kit.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'ledgerflow.js');

export async function benchCli(b: Bench): Promise<void> {
  const { say, figures } = b;
  const rounds = b.rounds ?? (b.quick ? 3 : 15);
  if (!process.argv.includes('--no-build')) {
    progress('cli: npm run build');
    const r = spawnSync('npm', ['run', 'build', '--silent'], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`npm run build failed:\n${r.stderr}`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'lf-bench-cli-'));
  try {
    writeFileSync(
      join(dir, 'one.yaml'),
      `workflow:
  id: one-task
  name: One task, a JavaScript handler
  version: 1
  handlers: ./handlers.mjs
  tasks:
    - { id: hello, type: SIMPLE }
`,
    );
    writeFileSync(join(dir, 'handlers.mjs'), 'export default { async hello() { return { greeting: "hello" }; } };\n');
    const time = (cmd: string, args: string[]) => {
      const t = now();
      const r = spawnSync(cmd, args, {
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe'],
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1' },
      });
      const ms = now() - t;
      if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
      return ms;
    };
    const node = () => time(process.execPath, ['-e', '0']);
    const version = () => time(BIN, ['--version']);
    const run = () => time(BIN, ['run', 'one.yaml']);
    node();
    version();
    run(); // warm-up: the file cache
    const sides = { node: [] as number[], version: [] as number[], run: [] as number[] };
    progress(`cli: ${rounds} rounds of node -e 0, ledgerflow --version, ledgerflow run`);
    for (let r = 0; r < rounds; r++) {
      sides.node.push(node());
      sides.version.push(version());
      sides.run.push(run());
    }
    const n = median(sides.node);
    const v = median(sides.version);
    const rn = median(sides.run);
    Object.assign(figures, {
      'cli.node_ms': n,
      'cli.version_ms': v,
      'cli.run_ms': rn,
      'cli.version_ratio': v / n,
      'cli.run_ratio': rn / n,
    });
    b.details.cli = { rounds: sides };
    say(`\nthe command line, median of ${rounds} rounds taking turns (ms):`);
    say(`  baseline: node -e 0                                   ${fmt(n, 1)} ms  ${list(sides.node)}`);
    say(
      `  ledgerflow --version                                  ${fmt(v, 1)} ms  ${list(sides.version)}  = ${fmt(v / n, 2)}× (goal ≤ 2)`,
    );
    say(
      `  ledgerflow run of a one-task workflow, .mjs handler   ${fmt(rn, 1)} ms  ${list(sides.run)}  = ${fmt(rn / n, 2)}× (goal ≤ 5)`,
    );
  } finally {
    discard(dir);
  }
}
