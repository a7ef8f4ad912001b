/**
 * `ledgerflow stats <workflow>` on the embedded store, as docs/metrics.md#per-workflow-figures
 * tells it: a definition with seed 003's monitoring block (execution_time,
 * task_success_rate, retry_count), three runs of the real CLI — two whose
 * scan_files fails its first attempt and completes on its second, one whose
 * scan_files fails all three — then the figures, checked against what
 * `list --json` says of the same runs.
 */
import { cpSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, ROOT, tempDir } from '../helpers/cli.js';
import { expectSeedFigures, STATS_SHAPE, STATS_WF as WF, statsShape } from '../helpers/stats.js';

const DEF = join(ROOT, 'test', 'fixtures', 'stats', 'inventory-stats.yaml');

let dir: string;
let beforeFailed: string;
let durations: number[];
const lf = (...args: string[]) => cli(['--store', join(dir, 'store'), ...args], { cwd: dir });

describe('ledgerflow stats (embedded store)', () => {
  beforeAll(async () => {
    dir = tempDir('lf-stats-');
    for (const _ of [1, 2]) {
      const r = await lf('run', DEF);
      expect(r.code, r.stderr).toBe(0);
    }
    beforeFailed = new Date().toISOString();
    const failed = await lf('run', DEF, '--succeed_on', '5');
    expect(failed.code, failed.stderr).toBe(1);
    const listed = JSON.parse((await lf('list', '--workflow', WF, '--json')).stdout) as { durationMs: number }[];
    durations = listed.map((r) => r.durationMs);
  }, 60_000);

  it("--json: runs, execution_time from the runs' durations, task_success_rate and retry_count per task, the definition's metrics first", async () => {
    const r = await lf('stats', WF, '--json');
    expect(r.code, r.stderr).toBe(0);
    expectSeedFigures(JSON.parse(r.stdout), durations);
    expect(statsShape(JSON.parse(r.stdout))).toEqual(STATS_SHAPE);
  });

  it('the table shows the figures monitoring.metrics lists, per task, and not the others', async () => {
    const r = await lf('stats', WF);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`${WF}  (every version, every run)`);
    expect(lines.find((l) => l.startsWith('runs '))).toMatch(
      /^runs\s+3\s+2 completed, 1 failed, 0 cancelled, 0 not settled$/,
    );
    expect(lines.find((l) => l.startsWith('execution_time'))).toMatch(
      /^execution_time\s+p50 \S+\s+p95 \S+\s+mean \S+\s+max \S+\s+\(3 settled runs\)$/,
    );
    expect(lines.find((l) => l.startsWith('task_success_rate'))).toMatch(
      /^task_success_rate\s+87\.5%\s+7 of 8 settled tasks completed$/,
    );
    expect(lines.find((l) => l.startsWith('  scan_files') && l.includes('%'))).toMatch(
      /^ {2}scan_files\s+66\.7%\s+2\/3$/,
    );
    expect(lines.find((l) => l.startsWith('retry_count'))).toMatch(
      /^retry_count\s+4\s+attempts beyond the first, in 3 runs$/,
    );
    expect(r.stdout).not.toContain('failure_rate');
    expect(lines.at(-1)).toBe(
      "figures: the definition's monitoring.metrics (execution_time, task_success_rate, retry_count); --json has every figure",
    );
  });

  it('--since counts the runs started since then; --version one version', async () => {
    const since = JSON.parse((await lf('stats', WF, '--since', beforeFailed, '--json')).stdout);
    expect(since).toMatchObject({
      since: beforeFailed,
      runs: { total: 1, failed: 1 },
      retry_count: { total: 2 },
      task_success_rate: { tasks: { scan_files: { completed: 0, settled: 1, rate: 0 } } },
    });
    const lastHour = JSON.parse((await lf('stats', WF, '--since', '1h', '--json')).stdout);
    expect(lastHour.runs.total).toBe(3);
    const v1 = JSON.parse((await lf('stats', WF, '--version', '1', '--json')).stdout);
    expect(v1).toMatchObject({ version: 1, runs: { total: 3 } });
  });

  it('leaves out a run whose log cannot be read once the index has looked at it, and says so on stderr', async () => {
    const copy = join(tempDir('lf-stats-corrupt-'), 'store');
    cpSync(join(dir, 'store'), copy, { recursive: true });
    const first = readdirSync(join(copy, 'runs')).find((f) => f.endsWith('.jsonl'))!;
    writeFileSync(join(copy, 'runs', first), 'garbage{\n');
    // A settled run's log changed by hand is seen by a whole look (docs/metrics.md), as by `list --all`.
    expect((await cli(['--store', copy, 'list', '--all'], { cwd: dir })).code).toBe(0);
    const r = await cli(['--store', copy, 'stats', WF, '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).runs.total).toBe(2);
    expect(r.stderr).toContain(`warning: run ${first.replace(/\.jsonl$/, '')} is corrupt and was left out`);
  });

  it('refuses, exit 2, a workflow or version with no runs and a --since that is not a time', async () => {
    const none = await lf('stats', 'no-such-workflow');
    expect(none.code).toBe(2);
    expect(none.stderr).toContain(
      `no run of workflow no-such-workflow is recorded in this store (workflows with runs: ${WF})`,
    );
    const v9 = await lf('stats', WF, '--version', '9');
    expect(v9.code).toBe(2);
    expect(v9.stderr).toContain(`workflow ${WF} has no run of version 9 (versions with runs: 1)`);
    const bad = await lf('stats', WF, '--since', 'yesterday');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--since "yesterday" is not a time');
  });
});

describe('a run that settles in its first commit', () => {
  it('has its duration in list and counts as settled in stats (docs/runs.md: durationMs is null only until it settles)', async () => {
    const d = tempDir('lf-stats-one-commit-');
    writeFileSync(join(d, 'z.yaml'), 'workflow:\n  id: z\n  tasks:\n    - { id: one, type: SET, values: { x: 1 } }\n');
    const at = (...args: string[]) => cli(['--store', join(d, 'store'), ...args], { cwd: d });
    expect((await at('run', 'z.yaml', '--id', 'z1')).code).toBe(0);
    const first = await at('list', '--json');
    expect((await at('reindex')).code).toBe(0);
    for (const listed of [first, await at('list', '--json')]) {
      const [z1] = JSON.parse(listed.stdout) as {
        status: string;
        completedAt: string | null;
        durationMs: number | null;
      }[];
      expect([z1!.status, z1!.completedAt !== null, typeof z1!.durationMs]).toEqual(['COMPLETED', true, 'number']);
    }
    expect((await at('stats', 'z')).stdout).toMatch(/execution_time\s+p50 \d+ms.*\(1 settled runs?\)/);
  });
});

describe('ledgerflow stats: the columns', () => {
  it("keeps a long task id apart from its figure (revenue_milestone's `approve_plan_change`), every figure in one column", async () => {
    const own = tempDir('lf-stats-');
    writeFileSync(
      join(own, 'plan.yaml'),
      `workflow:
  id: plan
  version: 1
  tasks:
    - { id: approve_plan_change, type: COMMAND, command: [echo, ok] }
    - { id: a_task_with_an_even_longer_name_than_that, type: COMMAND, command: [echo, ok], depends_on: [approve_plan_change] }
`,
    );
    const run = await cli(['--store', join(own, 'store'), 'run', 'plan.yaml'], { cwd: own });
    expect(run.code, run.stderr).toBe(0);
    const r = await cli(['--store', join(own, 'store'), 'stats', 'plan'], { cwd: own });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    const plan = lines.find((l) => l.startsWith('  approve_plan_change'))!;
    const longer = lines.find((l) => l.startsWith('  a_task_with_an_even_longer_name_than_that'))!;
    expect(plan).toMatch(/^ {2}approve_plan_change {2,}100\.0% +1\/1$/);
    expect(longer).toMatch(/^ {2}a_task_with_an_even_longer_name_than_that {2}100\.0% +1\/1$/);
    // One column: every figure starts where the others do.
    const at = (l: string | undefined) => l!.search(/\d+(\.\d)?%|\d+ +\d/);
    expect(new Set([plan, longer, lines.find((l) => l.startsWith('task_success_rate'))].map(at)).size).toBe(1);
  });
});
