/**
 * `ledgerflow demo` (`npm start`) as a new user meets it: from a directory
 * that is not the package, on the embedded store with no server, it emits
 * the three sample events, runs the batch validation over the sample
 * folders, approves the revenue plan change as cfo, and every run completes
 * and replays; a second start works the same in a store of its own.
 */
import { existsSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, ROOT, tempDir } from '../helpers/cli.js';
import { revenuePayload } from '../../src/demo/index.js';
import { loadHandlerModule } from '../../src/handlers/index.js';

interface Report {
  ok: boolean;
  store: string;
  outputRoot: string;
  notes: string[];
  files: string[];
  commands: string[];
  runs: {
    runId: string;
    workflowId: string;
    status: string;
    startedBy: string;
    events: number;
    tasks: { id: string; status: string; decision?: string }[];
    approvals: { task: string; decision: string; by: string; comment: string | null }[];
    output: Record<string, unknown>;
    folders?: { folder: string; status: string }[];
  }[];
}

describe('ledgerflow demo', () => {
  it('runs every sample workflow to COMPLETED in a fresh store under the cwd, cfo approving the plan change; each run replays', async () => {
    const cwd = tempDir('lf-demo-');
    const r = await cli(['demo', '--json'], { cwd });
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.ok).toBe(true);
    expect(report.store.startsWith(join(cwd, '.ledgerflow', 'demo'))).toBe(true);

    const byWorkflow = new Map(report.runs.map((run) => [run.workflowId, run]));
    expect([...byWorkflow.keys()].sort()).toEqual([
      'batch-inventory-validation',
      'compliance_alerts',
      'file_agent_tour',
      'lead_qualification',
      'revenue_milestone',
    ]);
    for (const run of report.runs) expect(run.status, run.workflowId).toBe('COMPLETED');
    for (const type of ['revenue_milestone', 'lead_qualification', 'compliance_alerts'])
      expect(byWorkflow.get(type)!.startedBy).toContain(`event ${type}`);

    // The revenue sample's change is beyond the threshold: the CFO's approval was pending, given by cfo with a comment, and the plan applied.
    const revenue = byWorkflow.get('revenue_milestone')!;
    expect(revenue.tasks.find((t) => t.id === 'review_gate')!.decision).toBe('needs_approval');
    expect(revenue.approvals).toEqual([
      { task: 'approve_plan_change', decision: 'approved', by: 'cfo', comment: expect.stringMatching(/\S/) },
    ]);
    expect(revenue.output.approved_by).toBe('cfo');
    expect(report.notes).toEqual([]);
    expect(r.stderr).toContain('[revenue_milestone] ⏸ approve_plan_change waiting for approval');

    // The batch summary, per folder, from the sample depots (copied under the demo's output root, receipts there).
    const batch = byWorkflow.get('batch-inventory-validation')!;
    expect(Object.fromEntries(batch.folders!.map((f) => [basename(f.folder), f.status]))).toEqual({
      alpha: 'PASS',
      bravo: 'FAIL_SOFT',
      charlie: 'FAIL_STRICT',
      delta: 'PASS',
    });
    expect(batch.output.counts).toEqual({ PASS: 2, FAIL_SOFT: 1, FAIL_STRICT: 1 });
    for (const f of batch.folders!) expect(f.folder.startsWith(report.outputRoot)).toBe(true);
    expect(report.files).toEqual(
      expect.arrayContaining([
        join('depots', 'alpha', 'VALIDATION.RECEIPT.yaml'),
        join('.ledgerflow', 'plans', 'EMEA-2026-10.yaml'),
        join('inventory-reports', `batch-${batch.runId}.yaml`),
      ]),
    );
    for (const f of report.files) expect(existsSync(join(report.outputRoot, f)), f).toBe(true);
    // One task done by the shell script agent through the 1N/0UT files (docs/agents.md), both files in done/.
    const tour = byWorkflow.get('file_agent_tour')!;
    expect(tour.output).toEqual({ files: readdirSync(join(ROOT, 'definitions', 'samples', 'depots', 'alpha')).length });
    expect(report.files).toEqual(
      expect.arrayContaining([
        join('agent', '1N.3OX', 'done', `task-${tour.runId}-count_files.yaml`),
        join('agent', '0UT.3OX', 'done', `result-${tour.runId}-count_files.yaml`),
        join('agent', 'agent.sh'),
      ]),
    );
    expect(r.stderr).toContain('agent: sh agent.sh answers the task files in 1N.3OX/');
    // Nothing was written in the cwd besides the demo's store.
    expect(readdirSync(cwd)).toEqual(['.ledgerflow']);

    const replay = await cli(['--store', report.store, 'replay', '--all', '--json'], { cwd });
    expect(replay.code, replay.stdout).toBe(0);
    expect(JSON.parse(replay.stdout)).toMatchObject({ runs: 5, diverged: 0, problems: [], corrupt: [] });
    expect(report.commands).toContain(
      `npx ledgerflow --store ${join('.ledgerflow', 'demo', basename(report.store))} list`,
    );

    // A second start works the same, in a store of its own; without --json the summary is text.
    const again = await cli(['demo'], { cwd });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('5 of 5 runs completed');
    expect(again.stdout).toContain('approval: approve_plan_change approved by cfo');
    expect(readdirSync(join(cwd, '.ledgerflow', 'demo'))).toHaveLength(2);
  }, 120_000);

  it('refuses a --store that is not empty (exit 2), writing nothing there', async () => {
    const cwd = tempDir('lf-demo-');
    const store = join(cwd, 'used');
    mkdirSync(store);
    writeFileSync(join(store, 'keep.txt'), 'mine');
    const r = await cli(['demo', '--store', store], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('fresh store');
    expect(readdirSync(store)).toEqual(['keep.txt']);
  });
});

describe('the revenue payload the demo sends', () => {
  /** The plan change the real handlers compute for a payload. */
  async function planChange(data: Record<string, unknown>): Promise<number> {
    const handlers = await loadHandlerModule(join(ROOT, 'definitions', 'handlers', 'revenue.ts'));
    const ctx = { log: () => {} } as never;
    const metrics = await handlers.compute_metrics!({ ...data }, ctx);
    const plan = (await handlers.update_plan!({ metrics, month: data.month, target: data.target }, ctx)) as {
      plan_change_pct: number;
    };
    return plan.plan_change_pct;
  }
  const sample = {
    month: '2026-10',
    revenue: 1_250_000,
    target: 1_000_000,
    currency: 'EUR',
    region: 'EMEA',
    operating_costs: 900_000,
  };

  it('is the sample when its plan change is beyond the CFO threshold, else a variant that is, with a note', async () => {
    expect(revenuePayload(sample)).toEqual({ data: sample });
    expect(await planChange(sample)).toBeGreaterThan(10);
    const small = { ...sample, revenue: 1_050_000 };
    expect(await planChange(small)).toBeLessThanOrEqual(10);
    const variant = revenuePayload(small);
    expect(variant.note).toContain('variant');
    expect(await planChange(variant.data)).toBeGreaterThan(10);
  });
});
