/**
 * docs/runs.md (resume): a SUB_WORKFLOW task with no retry whose child run goes on while the process driving the
 * parent is lost again and again (a `serve` killed, the parent resumed) is re-attached to its child each time,
 * never failed with LF_ATTEMPT_LOST; the child's outcome ends it. Real CLI processes on the embedded store.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';

const PARENT = `workflow:
  id: parent
  version: 1
  tasks:
    - id: child
      type: SUB_WORKFLOW
      workflow: child.yaml
    - id: after
      type: COMMAND
      depends_on: [child]
      command: [echo, done]
`;
const CHILD = `workflow:
  id: child
  version: 1
  tasks:
    - id: first
      type: COMMAND
      command: [echo, one]
    - id: sign
      type: HUMAN
      depends_on: [first]
`;

describe('a SUB_WORKFLOW attempt whose child run goes on', () => {
  it("is re-attached to its child after every loss of the parent's process, never LF_ATTEMPT_LOST; the child's completion completes the parent", async () => {
    const dir = tempDir('lf-reattach-');
    writeFileSync(join(dir, 'parent.yaml'), PARENT);
    writeFileSync(join(dir, 'child.yaml'), CHILD);
    const lf = (...args: string[]) => cli(['--store', 'store', ...args], { cwd: dir });
    const run = await lf('run', 'parent.yaml', '--id', 'p1');
    expect(run.code, run.stderr).toBe(3);
    // Five losses of the process driving the parent (more than the 3 restarts an attempt otherwise gets).
    for (let i = 0; i < 5; i++) {
      const resumed = await lf('resume', 'p1', '--json');
      expect(resumed.code, resumed.stdout + resumed.stderr).toBe(3);
      expect(JSON.parse(resumed.stdout).tasks.child).toMatchObject({ status: 'IN_PROGRESS', attempts: 1 });
    }
    const history = await lf('history', 'p1');
    expect(history.stdout).not.toContain('LF_ATTEMPT_LOST');
    expect(history.stdout.match(/child attempt 1 runs again \(restart \d+\)/g)).toHaveLength(5);
    // The child moves on: its approval completes it, and the parent with it.
    const approved = await lf('approve', 'p1-child-1', 'sign', '--as', 'alice');
    expect(approved.code, approved.stderr).toBe(0);
    const last = await lf('resume', 'p1', '--json');
    expect(last.code, last.stderr).toBe(0);
    expect(JSON.parse(last.stdout)).toMatchObject({
      status: 'COMPLETED',
      tasks: { child: { status: 'COMPLETED', attempts: 1 }, after: { status: 'COMPLETED' } },
    });
  });
});
