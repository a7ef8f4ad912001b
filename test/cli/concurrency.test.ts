/**
 * Concurrency limits and priority from the command line, as
 * docs/limits.md#concurrency-limits-and-priority and docs/runs.md#queued-runs-concurrency-limits
 * tell a user: on the embedded file store.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileEventStore } from '../../src/store/index.js';
import { cli, expectEveryRunReplays, spawnCli, tempDir } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

afterAll(async () => {
  expect(await expectEveryRunReplays()).toBeGreaterThan(0);
});

/** The doc's invoice workflow: `concurrency` as given, one HUMAN task. */
function invoice(dir: string, concurrency = '{ limit: 2 }', extra = ''): string {
  const file = join(dir, 'invoice.yaml');
  writeFileSync(
    file,
    `workflow:
  id: invoice
  input:
    required: [customer]
  concurrency: ${concurrency}
${extra}  tasks:
    - { id: review, type: HUMAN, approvers: [ops] }
`,
  );
  return file;
}

const runIdOf = (stdout: string) => /run (\S+) started/.exec(stdout)![1]!;
const runCount = (store: string) =>
  existsSync(join(store, 'runs')) ? readdirSync(join(store, 'runs')).filter((f) => f.endsWith('.jsonl')).length : 0;
async function statusOf(store: string, runId: string): Promise<string> {
  const r = await cli(['--store', store, 'status', runId, '--json']);
  return (JSON.parse(r.stdout) as { status: string }).status;
}
async function types(store: string, runId: string): Promise<string[]> {
  return (await new FileEventStore(store).read(runId)).map((e) => e.type);
}

describe('concurrency: limit, key, on_limit and priority on the embedded store', () => {
  it('limit 2 with a HUMAN task: the third run is QUEUED (exit 3), listed as such, and approving the first admits it', async () => {
    const dir = tempDir();
    const store = join(dir, 'store');
    const file = invoice(dir);
    const a = await cli(['--store', store, 'run', file, '--customer', 'acme']);
    const b = await cli(['--store', store, 'run', file, '--customer', 'acme']);
    const c = await cli(['--store', store, 'run', file, '--customer', 'acme']);
    expect([a.code, b.code, c.code]).toEqual([3, 3, 3]);
    const third = runIdOf(c.stdout);
    expect(c.stdout).toContain(`run ${third} is QUEUED: invoice has 2 run(s) going (concurrency.limit)`);
    expect(await statusOf(store, third)).toBe('QUEUED');
    const listed = JSON.parse((await cli(['--store', store, 'list', '--status', 'QUEUED', '--json'])).stdout) as
      | { runs: { runId: string }[] }
      | { runId: string }[];
    const rows = Array.isArray(listed) ? listed : listed.runs;
    expect(rows.map((r) => r.runId)).toEqual([third]);
    // A QUEUED run has not begun: its approval is refused (exit 2, kept in its history), and it stays QUEUED.
    const early = await cli(['--store', store, 'approve', third, 'review', '--as', 'ops']);
    expect(early.code).toBe(2);
    expect(early.stderr).toMatch(/QUEUED for a concurrency slot and has not begun/);
    expect(await statusOf(store, third)).toBe('QUEUED');

    const approve = await cli(['--store', store, 'approve', runIdOf(a.stdout), 'review', '--as', 'ops']);
    expect(approve.code).toBe(0);
    expect(await statusOf(store, runIdOf(a.stdout))).toBe('COMPLETED');
    expect(await statusOf(store, third)).toBe('WAITING');
    expect(await types(store, third)).toEqual(['run.started', 'run.queued', 'approval.refused', 'run.admitted']);
    const history = await cli(['--store', store, 'history', third]);
    expect(history.stdout).toContain('run.queued');
    expect(history.stdout).toContain('run.admitted');
    // Admitted, it takes the approval it refused while queued.
    expect((await cli(['--store', store, 'approve', third, 'review', '--as', 'ops'])).code).toBe(0);
    expect(await statusOf(store, third)).toBe('COMPLETED');
  }, 180_000);

  it('per key: each customer has its own limit', async () => {
    const dir = tempDir();
    const store = join(dir, 'store');
    const file = invoice(dir, '{ limit: 1, key: "${workflow.input.customer}" }');
    const codes = [];
    for (const customer of ['acme', 'acme', 'globex']) {
      const r = await cli(['--store', store, 'run', file, '--customer', customer, '--json']);
      codes.push((JSON.parse(r.stdout) as { status: string }).status);
    }
    expect(codes).toEqual(['WAITING', 'QUEUED', 'WAITING']);
  }, 180_000);

  it('on_limit: refuse: the start beyond the limit is exit 2 with LF_CONCURRENCY_LIMIT and writes nothing', async () => {
    const dir = tempDir();
    const store = join(dir, 'store');
    const file = invoice(dir, '{ limit: 1, on_limit: refuse }');
    expect((await cli(['--store', store, 'run', file, '--customer', 'acme'])).code).toBe(3);
    const refused = await cli(['--store', store, 'run', file, '--customer', 'acme', '--json']);
    expect(refused.code).toBe(2);
    expect((JSON.parse(refused.stdout) as { error: { code: string } }).error.code).toBe('LF_CONCURRENCY_LIMIT');
    expect(refused.stderr).toContain('nothing was started');
    expect(runCount(store)).toBe(1);
  }, 180_000);

  it('queued runs start in priority order, then arrival; a cancelled queued run is never admitted', async () => {
    const dir = tempDir();
    const store = join(dir, 'store');
    const file = invoice(dir, '{ limit: 1 }', '  priority: 20\n');
    const holder = runIdOf((await cli(['--store', store, 'run', file, '--customer', 'a'])).stdout);
    const early = runIdOf((await cli(['--store', store, 'run', file, '--customer', 'b'])).stdout);
    const urgent = runIdOf((await cli(['--store', store, 'run', file, '--customer', 'c', '--priority', '90'])).stdout);
    const late = runIdOf((await cli(['--store', store, 'run', file, '--customer', 'd'])).stdout);
    const dropped = runIdOf((await cli(['--store', store, 'run', file, '--customer', 'e', '--priority', '99'])).stdout);
    const cancel = await cli(['--store', store, 'cancel', dropped]);
    expect(cancel.code).toBe(0);
    expect(await types(store, dropped)).toEqual(['run.started', 'run.queued', 'run.cancelled']);
    const order = [];
    let current = holder;
    for (let i = 0; i < 3; i++) {
      expect((await cli(['--store', store, 'approve', current, 'review', '--as', 'ops'])).code).toBe(0);
      const r = await cli(['--store', store, 'list', '--status', 'WAITING', '--json']);
      const listed = JSON.parse(r.stdout) as { runs: { runId: string }[] } | { runId: string }[];
      current = (Array.isArray(listed) ? listed : listed.runs)[0]!.runId;
      order.push(current);
    }
    expect(order).toEqual([urgent, early, late]);
    expect(await statusOf(store, dropped)).toBe('CANCELLED');
  }, 180_000);

  it('--priority outside 0..99 is exit 2 naming the flag, nothing written', async () => {
    const dir = tempDir();
    const store = join(dir, 'store');
    const file = invoice(dir);
    for (const bad of ['100', '-1', 'high', '2.5']) {
      const r = await cli(['--store', store, 'run', file, '--customer', 'acme', '--priority', bad]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('--priority');
    }
    expect(runCount(store)).toBe(0);
  }, 180_000);

  it('bad keys are reported at their file:line:col with the fix', async () => {
    const dir = tempDir();
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      `workflow:
  id: bad
  input:
    required: [customer]
  concurrency:
    limit: 0
    key: "\${workflow.input.custmer}"
    on_limit: maybe
  priority: 100
  tasks:
    - { id: a, type: HUMAN }
`,
    );
    const r = await cli(['validate', file]);
    expect(r.code).toBe(2);
    const out = r.stdout + r.stderr;
    expect(out).toContain(
      `${file}:6:12: error: workflow.concurrency.limit: expected a whole number of runs of at least 1`,
    );
    expect(out).toContain(
      `${file}:7:11: error: unknown input "custmer" in concurrency.key; declared inputs: customer; did you mean "customer"?`,
    );
    expect(out).toContain(`${file}:8:15: error: workflow.concurrency.on_limit: expected one of queue, refuse`);
    expect(out).toContain(`${file}:9:13: error: workflow.priority: expected a whole number from 0 to 99`);
    for (const [yaml, text] of [
      ['limit: 1.5', 'workflow.concurrency.limit: expected an integer'],
      ['limit: -2', 'workflow.concurrency.limit: expected a whole number of runs'],
    ] as const) {
      writeFileSync(
        file,
        `workflow:\n  id: bad\n  concurrency: { ${yaml} }\n  priority: -1\n  tasks:\n    - { id: a, type: HUMAN }\n`,
      );
      const again = await cli(['validate', file]);
      expect(again.stdout + again.stderr).toContain(text);
      expect(again.stdout + again.stderr).toContain(`${file}:4:13: error: workflow.priority`);
    }
  }, 180_000);

  it('kill -9 of the process holding the only slot: the slot stays held until `resume` finishes that run, whose settle admits and runs the queued one', async () => {
    const dir = tempDir();
    const store = join(dir, 'store');
    writeFileSync(
      join(dir, 'handlers.mjs'),
      `import { existsSync } from 'node:fs';
const gate = ${JSON.stringify(join(dir, 'open'))};
export default {
  work: async () => { while (!existsSync(gate)) await new Promise((r) => setTimeout(r, 20)); return { done: true }; },
};
`,
    );
    const file = join(dir, 'slow.yaml');
    writeFileSync(
      file,
      `workflow:
  id: slow
  handlers: ./handlers.mjs
  concurrency: { limit: 1 }
  tasks:
    - { id: work, type: SIMPLE, retry_policy: { max_attempts: 1 } }
`,
    );
    const child = spawnCli(['--store', store, 'run', file]);
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    const exited = new Promise((r) => child.on('close', r));
    const fs = new FileEventStore(store);
    const holder = await waitFor(
      'the first run to start its task',
      async () => {
        const runs = await fs.listRuns();
        const r = runs[0];
        return r && (await fs.read(r.runId)).some((e) => e.type === 'task.started') ? r.runId : undefined;
      },
      { timeout: 20_000, detail: () => out },
    );
    child.kill('SIGKILL');
    await exited;

    const queued = await cli(['--store', store, 'run', file]);
    expect(queued.code).toBe(3);
    const waiting = runIdOf(queued.stdout);
    expect(await statusOf(store, waiting)).toBe('QUEUED');
    // Still QUEUED after a resume of the queued run: the killed run holds the slot until it settles.
    expect((await cli(['--store', store, 'resume', waiting])).code).toBe(3);
    expect(await statusOf(store, waiting)).toBe('QUEUED');

    writeFileSync(join(dir, 'open'), '');
    const resumed = await cli(['--store', store, 'resume', holder]);
    expect(resumed.code).toBe(0);
    expect(await statusOf(store, holder)).toBe('COMPLETED');
    // The resume's settle admitted the queued run, and the same process ran it with its handlers.
    expect(await statusOf(store, waiting)).toBe('COMPLETED');
    expect((await types(store, waiting)).slice(0, 3)).toEqual(['run.started', 'run.queued', 'run.admitted']);
  }, 180_000);
});
