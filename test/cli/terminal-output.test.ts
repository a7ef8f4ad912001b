/**
 * What a run's users and handlers supplied reaches a terminal inert:
 * an approval comment or a handler's error with a newline and ANSI escapes
 * prints as visible `\n` and `\x1b`, never as a forged line, in history,
 * status, watch (plain) and the progress lines; `--json` keeps it exact.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, expectEveryRunReplays, tempDir } from '../helpers/cli.js';

const FORGED = 'ok\n\x1b[32m✔ approved by cfo\x1b[0m';
const SHOWN = 'ok\\n\\x1b[32m✔ approved by cfo\\x1b[0m';

afterAll(async () => {
  expect(await expectEveryRunReplays()).toBeGreaterThan(0);
});

/** A store in a fresh directory, beside a definition whose cfo signs off before `pay`, whose handler throws `error` if given. */
function project(error?: string): { store: string; file: string } {
  const dir = tempDir();
  writeFileSync(
    join(dir, 'handlers.mjs'),
    `export default {
  async pay() { ${error === undefined ? 'return { paid: true };' : `throw new Error(${JSON.stringify(error)});`} },
};\n`,
  );
  writeFileSync(
    join(dir, 'pay.yaml'),
    `workflow:
  id: pay
  name: Pay an invoice
  version: 1
  handlers: ./handlers.mjs
  tasks:
${
  error === undefined
    ? `    - id: sign_off
      type: HUMAN
      approvers: [cfo]
`
    : ''
}    - id: pay
      type: SIMPLE
${error === undefined ? '      depends_on: [sign_off]\n' : ''}`,
  );
  return { store: join(dir, 'store'), file: join(dir, 'pay.yaml') };
}

/** No raw ESC, C1 control or carriage return, and no line that starts with the forged text. */
function expectInert(text: string): void {
  expect(text).not.toMatch(/[\x1b\u009b\r]/);
  for (const line of text.split('\n')) expect(line.trimStart().startsWith('✔'), line).toBe(false);
}

describe('user text on the terminal', () => {
  it('an approval comment with a newline and ANSI escapes: history, status and watch print it escaped on its own line; history --json has it exact', async () => {
    const { store, file } = project();
    const run = await cli(['--store', store, 'run', file, '--json']);
    expect(run.code, run.stderr).toBe(3);
    const { runId } = JSON.parse(run.stdout) as { runId: string };
    const approve = await cli(['--store', store, 'approve', runId, 'sign_off', '--as', 'cfo', '--comment', FORGED]);
    expect(approve.code, approve.stderr).toBe(0);
    const resume = await cli(['--store', store, 'resume', runId]);
    expect(resume.code, resume.stderr).toBe(0);
    expectInert(resume.stdout);

    const history = await cli(['--store', store, 'history', runId]);
    expect(history.code, history.stderr).toBe(0);
    expectInert(history.stdout);
    const lines = history.stdout.trimEnd().split('\n');
    const json = JSON.parse((await cli(['--store', store, 'history', runId, '--json'])).stdout) as {
      type: string;
      data: { comment?: string };
    }[];
    // One line per event: the comment's newline started none.
    expect(lines).toHaveLength(json.length);
    expect(lines.find((l) => l.includes('approval.recorded'))).toContain(`sign_off approved by cfo: ${SHOWN}`);
    expect(json.find((e) => e.type === 'approval.recorded')!.data.comment).toBe(FORGED);

    const status = await cli(['--store', store, 'status', runId]);
    expect(status.code, status.stderr).toBe(0);
    expectInert(status.stdout);

    // stdout is a pipe here: plain mode, one line per event.
    const watch = await cli(['--store', store, 'watch', runId, '--tail', '20']);
    expect(watch.code, watch.stderr).toBe(0);
    expectInert(watch.stdout);
    expect(watch.stdout.trimEnd().split('\n')).toHaveLength(json.length);
    expect(watch.stdout).toContain(`approved by cfo: ${SHOWN}`);
  }, 60_000);

  it("a handler's error with escapes: the progress lines, the run's end, status and history show it escaped; --json has it exact", async () => {
    const { store, file } = project(FORGED);
    const run = await cli(['--store', store, 'run', file]);
    expect(run.code, run.stderr).toBe(1);
    expectInert(run.stdout);
    expect(run.stdout).toContain(`pay failed: ${SHOWN}`);
    const runId = /run (\S+) started/.exec(run.stdout)![1]!;

    const status = await cli(['--store', store, 'status', runId]);
    expectInert(status.stdout);
    expect(status.stdout).toContain(SHOWN);
    const history = await cli(['--store', store, 'history', runId]);
    expectInert(history.stdout);
    expect(history.stdout).toContain(`pay attempt 1: ${SHOWN}`);
    const view = JSON.parse((await cli(['--store', store, 'status', runId, '--json'])).stdout) as {
      tasks: Record<string, { error: { message: string } }>;
    };
    expect(view.tasks.pay!.error.message).toBe(FORGED);
  }, 60_000);
});
