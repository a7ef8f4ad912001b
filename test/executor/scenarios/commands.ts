/** The executor contract (../contract.ts): COMMAND tasks: programs run without a shell, their failures, their timeouts. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { processGone } from '../../helpers/processes.js';
import { waitFor } from '../../helpers/wait.js';
import { dataOf, readIfThere, type ScenarioKit, workflowYaml } from './kit.js';

export function commandScenarios({ open, replays }: ScenarioKit): void {
  describe('COMMAND tasks', () => {
    const pids = join(mkdtempSync(join(tmpdir(), 'lf-contract-cmd-')), 'pids');
    const commands = workflowYaml(
      'ct-commands',
      'Commands',
      `
  input: { required: [name] }
  output: { line: "\${shout.output.line}", count: "\${count.output.n}" }
  tasks:
    - id: shout
      type: COMMAND
      command: [node, -e, "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>console.log(JSON.stringify({ line: process.argv[1].toUpperCase() + ' ' + JSON.parse(s).suffix, run: process.env.LF_RUN_ID, key: process.env.LF_IDEMPOTENCY_KEY, mode: process.env.MODE })))", "\${workflow.input.name}"]
      env: { MODE: "m-\${workflow.input.name}" }
      input: { suffix: "!" }
    - id: count
      type: SIMPLE
      depends_on: [shout]
      input: { line: "\${shout.output.line}" }
`,
    );
    const failing = workflowYaml(
      'ct-command-failures',
      'Commands that fail',
      `
  input: { required: [kind] }
  tasks:
    - id: route
      type: DECISION
      decision_param: "\${workflow.input.kind}"
      decision_cases: { exit: { next: [flaky] }, missing: { next: [scan] }, hang: { next: [hang] } }
    - id: flaky
      type: COMMAND
      command: [sh, -c, 'echo "attempt $LF_ATTEMPT: upstream refused" >&2; exit 7']
      retry_policy: { max_attempts: 2, initial_delay: 0 }
    - id: scan
      type: COMMAND
      command: [no-such-scanner-lf, --all]
      retry_policy: { max_attempts: 3, initial_delay: 0 }
    - id: hang
      type: COMMAND
      command: [sh, -c, 'sleep 300 & echo "$$ $!" > "$0"; wait', "${pids}"]
      timeout: 1s
`,
    );

    it('runs the command resolved from templates, its input on stdin and the LF_ variables set, next to a handler task; a NUL from a template fails it, not retried', async () => {
      const s = await open({ workflows: [commands], handlers: { count: (i) => ({ n: String(i.line).length }) } });
      const runId = await s.start('ct-commands', { name: 'ada; rm -rf /' });
      const done = await s.until(runId, 'settled');
      expect(done.status).toBe('COMPLETED');
      expect(done.tasks.shout!.output).toEqual({
        line: 'ADA; RM -RF / !',
        run: runId,
        key: `${runId}/shout/1`,
        mode: 'm-ada; rm -rf /',
      });
      expect(done.output).toEqual({ line: 'ADA; RM -RF / !', count: 15 });

      const nul = await s.until(await s.start('ct-commands', { name: 'a\0b' }), 'settled');
      expect(nul.status).toBe('FAILED');
      expect(nul.tasks.shout).toMatchObject({
        status: 'FAILED',
        attempts: 1,
        error: { code: 'LF_NUL_CHARACTER', retryable: false },
      });
      expect(nul.tasks.shout!.error!.message).toMatch(
        /^task shout: command\[3\] resolves to a value with a NUL character/,
      );
      await replays(s, runId, nul.runId);
    });

    it('a non-zero exit is retried with the stderr tail of each attempt; a missing program fails at once; a timed-out command dies with its grandchild', async () => {
      const s = await open({ workflows: [failing], handlers: {} });
      const exit = await s.until(await s.start('ct-command-failures', { kind: 'exit' }), 'settled');
      expect(exit.tasks.flaky).toMatchObject({
        status: 'FAILED',
        attempts: 2,
        error: { code: 'LF_COMMAND_EXIT', retryable: true },
      });
      expect(
        dataOf(await s.history(exit.runId), 'task.failed').map(
          (d) => (d as { error: { message: string } }).error.message,
        ),
      ).toEqual([
        'command sh exited with code 7; stderr (last 2000 bytes at most): attempt 1: upstream refused',
        'command sh exited with code 7; stderr (last 2000 bytes at most): attempt 2: upstream refused',
      ]);
      const missing = await s.until(await s.start('ct-command-failures', { kind: 'missing' }), 'settled');
      expect(missing.tasks.scan).toMatchObject({
        status: 'FAILED',
        attempts: 1,
        error: { code: 'LF_COMMAND_NOT_FOUND', retryable: false },
      });
      expect(missing.tasks.scan!.error!.message).toMatch(/program "no-such-scanner-lf" was not found on PATH/);

      const hang = await s.until(await s.start('ct-command-failures', { kind: 'hang' }), 'settled');
      expect(hang.tasks.hang!.status).toBe('TIMED_OUT');
      const [shell, sleeper] = (await waitFor('the pids the command wrote', () => readIfThere(pids)))
        .split(' ')
        .map(Number);
      await waitFor('the command and its grandchild to be gone', () => processGone(shell!) && processGone(sleeper!), {
        timeout: 15_000,
      });
      await replays(s, exit.runId, missing.runId, hang.runId);
    });
  });
}
