/**
 * A run nobody drives, on the embedded store, as a new user meets it
 * (docs/runs.md#a-run-nobody-drives): left by `start --detach` or by a `run`
 * killed with -9. `status` (text and --json) and `watch` say that no process
 * drives it and what would (`serve`, `resume <id>`); `watch` says it once and
 * keeps waiting, and follows the run once `resume` drives it; once a `serve`
 * drives it, `status` says nothing of the kind. The dashboard says why its
 * own service could not drive a run.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, spawnCli, statusWhen, tempDir } from '../helpers/cli.js';
import { startUiProcess } from '../server/ui-helpers.js';
import { waitFor } from '../helpers/wait.js';

const TWO = `workflow:
  id: two
  version: 1
  tasks:
    - id: a
      type: COMMAND
      command: [echo, '{"a": 1}']
    - id: b
      type: COMMAND
      depends_on: [a]
      command: [echo, '{"b": 2}']
`;

/** A task that runs until the test writes its release file (a handler: the kill -9 test's process must hold it). */
const HELD = `workflow:
  id: held
  version: 1
  handlers: ./held.mjs
  tasks:
    - { id: hold, type: SIMPLE }
    - { id: after, type: SIMPLE, depends_on: [hold] }
`;
const HELD_HANDLERS = `import { appendFileSync, existsSync } from 'node:fs';
const until = async (f) => { while (!existsSync(f)) await new Promise((r) => setTimeout(r, 20)); };
export default {
  hold: async (_i, ctx) => { appendFileSync(process.env.MARKS, 'hold ' + process.pid + '\\n'); await until(process.env.RELEASE); return { held: true }; },
  after: async () => ({ done: true }),
};
`;

interface View {
  status: string;
  undriven?: string;
  tasks: Record<string, { status: string; waitingFor?: string }>;
}

function project(): string {
  const dir = tempDir('lf-undriven-');
  mkdirSync(join(dir, 'definitions'));
  writeFileSync(join(dir, 'definitions', 'two.yaml'), TWO);
  writeFileSync(join(dir, 'definitions', 'held.yaml'), HELD);
  writeFileSync(join(dir, 'definitions', 'held.mjs'), HELD_HANDLERS);
  return dir;
}

describe('a run nobody drives (embedded store)', () => {
  it('start --detach: status and watch say no process drives it and what would; watch keeps waiting and follows the resume that drives it', async () => {
    const dir = project();
    const started = await cli(['start', 'two', '--detach'], { cwd: dir });
    expect(started.code, started.stderr).toBe(0);
    const runId = started.stdout.split('\n')[0]!.trim();

    const text = await cli(['status', runId], { cwd: dir });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('RUNNING');
    expect(text.stdout).toContain('no process drives this run');
    expect(text.stdout).toContain('`ledgerflow serve`');
    expect(text.stdout).toContain(`\`ledgerflow resume ${runId}\``);
    expect(text.stdout).toMatch(/a\s+SCHEDULED.*waits for a process to drive the run/);

    const json = JSON.parse((await cli(['status', runId, '--json'], { cwd: dir })).stdout) as View;
    expect(json.status).toBe('RUNNING');
    expect(json.undriven).toContain(`ledgerflow resume ${runId}`);
    expect(json.tasks.a!.waitingFor).toMatch(/process to drive the run/);
    expect(json.tasks.b!.waitingFor).toBeUndefined();

    // watch: says it once, and waits (a serve or resume may come).
    const watch = spawnCli(['watch', runId], { cwd: dir });
    let out = '';
    watch.stdout!.on('data', (d) => (out += d));
    watch.stderr!.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => watch.once('close', r));
    await waitFor('watch to say nothing drives the run', () => out.includes('no process drives this run'), {
      timeout: 20_000,
      detail: () => out,
    });
    expect(watch.exitCode).toBeNull();

    const resumed = await cli(['resume', runId], { cwd: dir });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(await exited, out).toBe(0);
    expect(out).toContain('→ COMPLETED');
    expect(out.split('no process drives this run').length - 1, out).toBe(1);

    const after = JSON.parse((await cli(['status', runId, '--json'], { cwd: dir })).stdout) as View;
    expect(after.status).toBe('COMPLETED');
    expect(after.undriven).toBeUndefined();
  }, 60_000);

  it('schedules trigger with no serve: says no process drives the run it started, and status says so too', async () => {
    const dir = project();
    writeFileSync(
      join(dir, 'definitions', 'nightly.yaml'),
      'workflow:\n  id: nightly\n  triggers:\n    - schedule: "0 2 * * *"\n  tasks:\n    - { id: say, type: COMMAND, command: [echo, "{}"] }\n',
    );
    const r = await cli(['schedules', 'trigger', 'nightly'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const runId = /started run (\S+)/.exec(r.stdout)?.[1] ?? '';
    expect(r.stderr).toContain(
      `no process drives it: \`ledgerflow serve\` on this store does, or \`ledgerflow resume ${runId}\``,
    );
    const view = JSON.parse((await cli(['status', runId, '--json'], { cwd: dir })).stdout) as View;
    expect(view.undriven).toContain(`ledgerflow resume ${runId}`);
  }, 60_000);

  it('a run killed with -9 says it until a serve drives it; then it does not', async () => {
    const dir = project();
    const marks = join(dir, 'marks');
    const release = join(dir, 'release');
    const env = { MARKS: marks, RELEASE: release };
    const run = spawnCli(['start', 'held', '--id', 'k1'], { cwd: dir, env });
    await waitFor('the task to start', () => existsSync(marks) || run.exitCode !== null, { timeout: 20_000 });
    run.kill('SIGKILL');
    await new Promise((r) => run.once('close', r));

    const killed = JSON.parse((await cli(['status', 'k1', '--json'], { cwd: dir })).stdout) as View;
    expect(killed.status).toBe('RUNNING');
    expect(killed.undriven).toContain('ledgerflow resume k1');
    expect(killed.tasks.hold!.waitingFor).toMatch(/process to drive the run/);

    const serve = spawnCli(['serve'], { cwd: dir, env });
    let serveOut = '';
    serve.stderr!.on('data', (d) => (serveOut += d));
    serve.stdout!.on('data', (d) => (serveOut += d));
    try {
      await waitFor(
        'serve to drive the run',
        async () => {
          const v = JSON.parse((await cli(['status', 'k1', '--json'], { cwd: dir })).stdout) as View;
          return v.undriven === undefined && v.tasks.hold!.waitingFor === undefined;
        },
        { timeout: 30_000, interval: 200, detail: () => serveOut },
      );
      writeFileSync(release, '');
      await statusWhen((...args) => cli(args, { cwd: dir }), 'k1', 'COMPLETED');
    } finally {
      const gone = new Promise((r) => serve.once('close', r));
      serve.kill('SIGTERM');
      await gone;
    }
  }, 90_000);

  it('the dashboard says why its own service could not drive a run (its handler module is gone)', async () => {
    const dir = project();
    const marks = join(dir, 'marks');
    const env = { MARKS: marks, RELEASE: join(dir, 'release') };
    // Recorded with its handler module, then left (detached), and the module removed before anything drives it.
    const started = await cli(['start', 'held', '--detach', '--id', 'd1'], { cwd: dir, env });
    expect(started.code, started.stderr).toBe(0);
    rmSync(join(dir, 'definitions', 'held.mjs'));
    const ui = await startUiProcess([], [], { cwd: dir, env });
    try {
      const auth = { authorization: `Bearer ${ui.token}` };
      const detail = await waitFor(
        'the run page to say why the run is not driven',
        async () => {
          const r = await fetch(`${ui.base}/api/runs/d1`, { headers: auth });
          const body = (await r.json()) as { run: View };
          return body.run.undriven ? body.run : false;
        },
        { timeout: 30_000, interval: 200, detail: () => ui.stderr() },
      );
      expect(detail.status).toBe('RUNNING');
      expect(detail.undriven).toContain('could not drive this run');
      expect(detail.undriven).toContain('held.mjs');
      expect(detail.tasks.hold!.waitingFor).toMatch(/process to drive the run/);
    } finally {
      await ui.stop();
    }
    expect(existsSync(marks) ? readFileSync(marks, 'utf8') : '').toBe('');
  }, 60_000);
});
