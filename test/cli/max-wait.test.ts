/**
 * `run --max-wait <d>` bounds how long `run` waits for what is not up to it,
 * whatever the run waits for (docs/runs.md, the options of `run`): a circuit
 * breaker open for longer than that (it once waited out a 30 s open window
 * with --max-wait 2s), an operator's open breaker, a retry's backoff. The
 * run is left RUNNING (exit 3) and `resume` continues it; a wait shorter than
 * --max-wait is still waited out.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';

/** A COMMAND that fails the first time (no `ok` file yet) and succeeds after. */
function workflow(dir: string, id: string, extra: string): string {
  const file = join(dir, `${id}.yaml`);
  writeFileSync(
    file,
    `workflow:
  id: ${id}
  tasks:
    - id: charge
      type: COMMAND
      command: [sh, -c, 'if [ -f ok-${id} ]; then echo "{}"; else touch ok-${id}; exit 1; fi']
${extra}`,
  );
  return file;
}

interface View {
  status: string;
  tasks: Record<string, { status: string; waitingFor?: string }>;
}
const runIdOf = (out: string) => /run (\S+) started/.exec(out)?.[1] ?? '';

describe('run --max-wait bounds the wait whatever the run waits for', () => {
  it('a breaker open for 30 s: run --max-wait 2s returns (exit 3) long before it closes; the task waits for the breaker; resume continues', async () => {
    const dir = tempDir('lf-max-wait-');
    const file = workflow(
      dir,
      'charge_a',
      `      retry_policy: { max_attempts: 3, backoff: fixed, initial_delay: 10ms }
      breaker: { failures: 1, window: 1m, open_for: 30s }
`,
    );
    const t0 = Date.now();
    const r = await cli(['--store', 's', 'run', file, '--max-wait', '2s'], { cwd: dir });
    const took = Date.now() - t0;
    expect(r.code, r.stdout + r.stderr).toBe(3);
    // The breaker holds the retry for 30 s: returning once --max-wait has passed, well before it closes, is the point.
    expect(took, r.stdout + r.stderr).toBeGreaterThanOrEqual(2000);
    expect(took, r.stdout + r.stderr).toBeLessThan(20_000);
    const runId = runIdOf(r.stdout + r.stderr);
    const view = JSON.parse((await cli(['--store', 's', 'status', runId, '--json'], { cwd: dir })).stdout) as View;
    expect(view.status).toBe('RUNNING');
    expect(view.tasks.charge!.status).toBe('SCHEDULED');
    // What it waits for: the breaker, and (nothing drives it now) a process to drive it.
    expect(view.tasks.charge!.waitingFor).toMatch(/breaker.*process to drive the run/);
    // The operator closes it; resume runs the retry.
    expect((await cli(['--store', 's', 'breaker', 'close', 'task/charge_a/charge'], { cwd: dir })).code).toBe(0);
    const resumed = await cli(['--store', 's', 'resume', runId], { cwd: dir });
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
  }, 60_000);

  it("an operator's open breaker (open until closed): run --max-wait 2s returns", async () => {
    const dir = tempDir('lf-max-wait-');
    const file = workflow(dir, 'charge_b', '      breaker: { failures: 5, window: 1m, open_for: 30s }\n');
    expect((await cli(['--store', 's', 'breaker', 'open', 'task/charge_b/charge'], { cwd: dir })).code).toBe(0);
    const t0 = Date.now();
    const r = await cli(['--store', 's', 'run', file, '--max-wait', '2s'], { cwd: dir });
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(Date.now() - t0, r.stdout + r.stderr).toBeLessThan(20_000);
  }, 60_000);

  it('a retry backoff of 30 s: run --max-wait 2s returns (exit 3)', async () => {
    const dir = tempDir('lf-max-wait-');
    const file = workflow(
      dir,
      'charge_c',
      '      retry_policy: { max_attempts: 2, backoff: fixed, initial_delay: 30s }\n',
    );
    const t0 = Date.now();
    const r = await cli(['--store', 's', 'run', file, '--max-wait', '2s'], { cwd: dir });
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(Date.now() - t0, r.stdout + r.stderr).toBeLessThan(20_000);
  }, 60_000);

  it('a breaker open for 2 s within --max-wait 60s is waited out: the retry runs and the run completes (exit 0)', async () => {
    const dir = tempDir('lf-max-wait-');
    const file = workflow(
      dir,
      'charge_d',
      `      retry_policy: { max_attempts: 3, backoff: fixed, initial_delay: 10ms }
      breaker: { failures: 1, window: 1m, open_for: 2s }
`,
    );
    const r = await cli(['--store', 's', 'run', file, '--max-wait', '60s'], { cwd: dir });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toContain('COMPLETED');
  }, 60_000);
});
