/**
 * The README is what a newcomer runs first: its tour (the fenced block after
 * `<!-- tour -->`) runs, command by command exactly as written, from the clone
 * on a fresh store, and each exits 0; its workflow example (after
 * `<!-- example -->`) validates without a warning; and it stays short.
 * Needs dist/ (`npm run build`): `npx ledgerflow` in the clone is bin/ledgerflow.js.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDefinition } from '../../src/definition/index.js';
import { BIN, ROOT, tempDir } from '../helpers/cli.js';
import { markedBlock } from './markdown.js';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

function sh(command: string, env: NodeJS.ProcessEnv, cwd = ROOT): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('sh', ['-c', command], { cwd, env, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: `${stdout}\n${stderr}` });
    });
  });
}

describe('README.md', () => {
  it('is at most 250 lines; its first screen shows a workflow and the commands that run it, then where to look', () => {
    const lines = README.split('\n');
    expect(lines.length).toBeLessThanOrEqual(250);
    const firstScreen = lines.slice(0, 50).join('\n');
    expect(firstScreen).toMatch(/```yaml\nworkflow:/);
    expect(firstScreen).toContain('npx ledgerflow run release.yaml');
    const table = lines.findIndex((l) => l.startsWith('**Where to look:**'));
    expect(table).toBeGreaterThan(lines.findIndex((l) => l.startsWith('npx ledgerflow history')));
    const links = lines.slice(table, table + 30).join('\n');
    for (const page of [
      'docs/getting-started.md',
      'docs/language.md',
      'docs/cli.md',
      'docs/troubleshooting.md',
      'CONTRIBUTING.md',
    ]) {
      expect(links).toContain(`](${page})`);
    }
  });

  it('runs its first workflow as its first screen says: saved as release.yaml, run (waits, exit 3), approved (completes), its history', async () => {
    // A project with ledgerflow installed (npx finds node_modules/.bin/ledgerflow), as in a clone.
    const dir = tempDir('lf-first-');
    mkdirSync(join(dir, 'node_modules', '.bin'), { recursive: true });
    symlinkSync(join(ROOT, 'bin', 'ledgerflow.js'), join(dir, 'node_modules', '.bin', 'ledgerflow'));
    writeFileSync(join(dir, 'release.yaml'), `${markedBlock(README, 'first').join('\n')}\n`);
    const env: NodeJS.ProcessEnv = { ...process.env, LEDGERFLOW_STORE: join(dir, 'store'), NO_COLOR: '1' };
    delete env.LEDGERFLOW_NATS_URL;
    const commands = markedBlock(README, 'first-run')
      .map((l) => l.replace(/\s+#.*$/, '').trim())
      .filter((l) => l !== '');
    expect(commands).toHaveLength(3);
    const [run, approve, history] = [
      await sh(commands[0]!, env, dir),
      await sh(commands[1]!, env, dir),
      await sh(commands[2]!, env, dir),
    ];
    expect(run.code, run.out).toBe(3);
    expect(run.out).toContain('waiting for approval of sign_off');
    expect(approve.code, approve.out).toBe(0);
    expect(approve.out).toContain('run r1 COMPLETED');
    expect(history.code, history.out).toBe(0);
    expect(history.out).toMatch(/approval\.recorded\s+sign_off approved by alice/);
    expect(history.out).toMatch(/task\.completed\s+publish attempt 1\s+→ COMPLETED/);
  });

  it('keeps the set-up: `npm install && npm start` runs the main job, `npm test` every test', () => {
    const setUp = README.slice(README.indexOf('## Set-up'));
    expect(setUp).toMatch(/^npm install && npm start$/m);
    expect(setUp).toMatch(/^npm test$/m);
  });

  it('runs every command of its tour on a fresh store, each exiting 0', async () => {
    const commands = markedBlock(README, 'tour').filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));
    expect(commands.length).toBeGreaterThanOrEqual(5);
    const dir = tempDir('lf-tour-');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      LEDGERFLOW_STORE: join(dir, 'store'),
      LEDGERFLOW_OUTPUT_ROOT: dir,
      NO_COLOR: '1',
    };
    delete env.LEDGERFLOW_NATS_URL;
    // The first as written: `npx ledgerflow` in the clone runs its bin/ledgerflow.js. The rest with that bin in
    // npx's place, as written otherwise: npx's own start-up (npm reading the clone's package tree) costs a CPU-second
    // a command, several times the command's own, and tells nothing more about the command.
    expect(commands.every((c) => c.startsWith('npx ledgerflow '))).toBe(true);
    for (const [i, command] of commands.entries()) {
      const r = await sh(i === 0 ? command : command.replace(/^npx ledgerflow /, `'${BIN}' `), env);
      expect(r.code, `\`${command}\` exited ${r.code}:\n${r.out.slice(-4000)}`).toBe(0);
    }
  }, 240_000);

  it('gives a workflow example that validates without a warning', () => {
    const yaml = markedBlock(README, 'example').join('\n');
    const { definition, diagnostics } = parseDefinition(yaml, 'README.md');
    expect(diagnostics.map((d) => `${d.line}:${d.col}: ${d.severity}: ${d.message}`)).toEqual([]);
    expect(definition?.id).toBe('expense-claim');
  });
});
