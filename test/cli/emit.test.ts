import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { FileEventStore } from '../../src/store/index.js';
import { cli, expectEveryRunReplays, ROOT, tempDir } from '../helpers/cli.js';

const sample = (type: string): Record<string, unknown> =>
  parse(readFileSync(join(ROOT, 'events', `${type}.yaml`), 'utf8')).sample;
const REVENUE = sample('revenue_milestone');
const LEAD = sample('lead_qualification');

/** Every run the tests start, replayed at the end. */
const produced: { store: string; runId: string }[] = [];

function place(): { cwd: string; store: string } {
  const cwd = tempDir('lf-emit-');
  return { cwd, store: join(cwd, 'store') };
}

async function emit(p: { cwd: string; store: string }, type: string, data: unknown, ...extra: string[]) {
  const r = await cli(['--store', p.store, 'emit', type, '--data', JSON.stringify(data), '--json', ...extra], {
    cwd: p.cwd,
  });
  const out = r.stdout.trim() ? JSON.parse(r.stdout) : null;
  for (const run of out?.runs ?? []) produced.push({ store: p.store, runId: run.runId });
  return { ...r, out };
}

function deadLetters(
  store: string,
): { stage: string; reason: string; problems: string[]; event: { id: string; type: string; data: unknown } }[] {
  const dir = join(store, 'dead-letter');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((f) =>
    readFileSync(join(dir, f), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l)),
  );
}

describe('ledgerflow emit revenue_milestone: metrics → plan update → CFO approval when the change is large', () => {
  it('a 25% overshoot raises the target by 12.5%, waits for the CFO (exit 3), and applies the plan once approved', async () => {
    const p = place();
    const r = await emit(p, 'revenue_milestone', REVENUE, '--id', 'billing-2026-10-EMEA');
    expect(r.code, r.stderr).toBe(3);
    expect(r.out.event).toMatchObject({ id: 'billing-2026-10-EMEA', type: 'revenue_milestone', data: REVENUE });
    expect(r.out.runs).toEqual([
      {
        runId: expect.stringMatching(/^ev-[0-9a-f]{20}$/),
        workflowId: 'revenue_milestone',
        version: 1,
        status: 'WAITING',
        duplicate: false,
      },
    ]);
    const runId = r.out.runs[0].runId;
    // The run records the event that started it (source.event), as NATS triggers do: list finds it by the event id.
    const listed = await cli(['--store', p.store, 'list', '--trigger', 'event:billing-2026-10-EMEA', '--json'], {
      cwd: p.cwd,
    });
    expect(JSON.parse(listed.stdout)).toMatchObject([
      { runId, trigger: { kind: 'event', type: 'revenue_milestone', id: 'billing-2026-10-EMEA' } },
    ]);
    // …and by the event's type, which is what users try first.
    const byType = await cli(['--store', p.store, 'list', '--trigger', 'event:revenue_milestone', '--json'], {
      cwd: p.cwd,
    });
    expect(JSON.parse(byType.stdout).map((row: { runId: string }) => row.runId)).toEqual([runId]);

    const waiting = JSON.parse((await cli(['--store', p.store, 'status', runId, '--json'])).stdout);
    expect(waiting.tasks.compute_metrics.output).toMatchObject({
      attainment_pct: 125,
      variance: 250000,
      variance_pct: 25,
      margin: 350000,
      margin_pct: 28,
      run_rate: 15000000,
      mom_growth_pct: 13.64,
      milestone: 'exceeded',
    });
    expect(waiting.tasks.update_plan.output).toMatchObject({
      next_quarter: '2027-Q1',
      monthly_target: 1125000,
      next_quarter_target: 3375000,
      plan_change_pct: 12.5,
      budget_shift: 35000,
      allocations: { marketing: 15750, sales: 12250, operations: 7000 },
    });
    expect(waiting.tasks.approve_plan_change.status).toBe('PENDING_APPROVAL');
    expect(waiting.tasks.auto_approve_plan.status).toBe('SKIPPED');
    expect(waiting.input).toMatchObject({
      month: '2026-10',
      region: 'EMEA',
      approval_threshold_pct: 10,
      event_id: 'billing-2026-10-EMEA',
    });

    expect((await cli(['--store', p.store, 'approve', runId, 'approve_plan_change', '--as', 'sales_lead'])).code).toBe(
      2,
    );
    // The approval moves the run on in the same command (nothing else holds it); resume then finds it settled.
    expect(
      (
        await cli(
          ['--store', p.store, 'approve', runId, 'approve_plan_change', '--as', 'cfo', '--comment', 'go for Q1'],
          { cwd: p.cwd },
        )
      ).code,
    ).toBe(0);
    const resumed = await cli(['--store', p.store, 'resume', runId, '--json'], { cwd: p.cwd });
    expect(resumed.code, resumed.stderr).toBe(0);
    const done = JSON.parse(resumed.stdout);
    expect(done.output).toEqual({
      plan_id: 'plan-EMEA-2027-Q1',
      next_quarter: '2027-Q1',
      monthly_target: 1125000,
      plan_change_pct: 12.5,
      budget_shift: 35000,
      approved_by: 'cfo',
    });
    const plan = parse(readFileSync(join(p.cwd, '.ledgerflow', 'plans', 'EMEA-2026-10.yaml'), 'utf8'));
    expect(plan).toMatchObject({
      plan_id: 'plan-EMEA-2027-Q1',
      months: ['2027-01', '2027-02', '2027-03'],
      approved_by: 'cfo',
      approval_note: 'go for Q1',
      source_event: 'billing-2026-10-EMEA',
      run_id: runId,
    });
  });

  it('a small change is approved by policy and applied at once (exit 0)', async () => {
    const p = place();
    const r = await emit(p, 'revenue_milestone', { ...REVENUE, revenue: 1_080_000, region: 'APAC' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.out.runs[0]).toMatchObject({ status: 'COMPLETED', duplicate: false });
    expect(r.stderr).toMatch(/◆ review_gate chose default → auto_approve_plan/);
    const plan = parse(readFileSync(join(p.cwd, '.ledgerflow', 'plans', 'APAC-2026-10.yaml'), 'utf8'));
    expect(plan).toMatchObject({
      plan_change_pct: 4,
      monthly_target: 1_040_000,
      approved_by: 'policy',
      approval_note: 'plan change of 4% is within ±10%, approved without review',
    });
  });

  it('the CFO rejecting the change fails the run (exit 1) and no plan is written', async () => {
    const p = place();
    const r = await emit(p, 'revenue_milestone', REVENUE);
    expect(r.code).toBe(3);
    const runId = r.out.runs[0].runId;
    expect(
      (
        await cli([
          '--store',
          p.store,
          'reject',
          runId,
          'approve_plan_change',
          '--as',
          'cfo',
          '--comment',
          'too aggressive',
        ])
      ).code,
    ).toBe(0);
    // The rejection settles the run as it is recorded; resume has nothing left to do.
    const view = JSON.parse((await cli(['--store', p.store, 'status', runId, '--json'])).stdout);
    expect(view.status).toBe('FAILED');
    expect(view.tasks.approve_plan_change.error.message).toBe('rejected by cfo: too aggressive');
    expect(view.tasks.apply_plan.status).toBe('SKIPPED');
    const resumed = await cli(['--store', p.store, 'resume', runId], { cwd: p.cwd });
    expect(resumed.code).toBe(1);
    expect(existsSync(join(p.cwd, '.ledgerflow', 'plans'))).toBe(false);
  });

  it('a month below target passes the schema but not the trigger filter: accepted, nothing started (exit 0)', async () => {
    const p = place();
    const r = await cli(
      ['--store', p.store, 'emit', 'revenue_milestone', '--data', JSON.stringify({ ...REVENUE, revenue: 900_000 })],
      { cwd: p.cwd },
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /accepted; no workflow trigger matched it, so nothing was started \(filters that did not hold: revenue_milestone: event\.data\.revenue >= event\.data\.target\)/,
    );
    expect(existsSync(join(p.store, 'runs')) ? readdirSync(join(p.store, 'runs')) : []).toEqual([]);
  });
});

describe('ledgerflow emit lead_qualification: score → value → sales or nurture', () => {
  it('the sample lead (--sample: the sample: of the event type file) scores 89 (A), is worth 58,800 and becomes an opportunity (exit 0)', async () => {
    const p = place();
    // As docs/library.md says to try it: `ledgerflow emit lead_qualification --sample`.
    const r = await cli(
      ['--store', p.store, 'emit', 'lead_qualification', '--sample', '--time', '2026-11-02T10:00:00Z', '--json'],
      { cwd: p.cwd },
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as {
      event: { data: Record<string, unknown> };
      runs: { runId: string; workflowId: string; status: string }[];
    };
    for (const run of out.runs) produced.push({ store: p.store, runId: run.runId });
    expect(out.event.data).toEqual(LEAD);
    expect(out.runs).toMatchObject([{ workflowId: 'lead_qualification', status: 'COMPLETED' }]);
    const view = JSON.parse((await cli(['--store', p.store, 'status', out.runs[0]!.runId, '--json'])).stdout);
    expect(view.tasks.score_lead.output).toMatchObject({
      score: 89,
      grade: 'A',
      breakdown: { company_size: 30, industry_fit: 15, budget: 20, engagement: 19, source: 5 },
    });
    expect(view.tasks.compute_value.output).toEqual({
      currency: 'EUR',
      win_probability: 0.49,
      expected_value: 58800,
      lifetime_value: 360000,
      expected_lifetime_value: 176400,
      temperature: 'hot',
    });
    expect(view.tasks.nurture_lead.status).toBe('SKIPPED');
    expect(view.output).toMatchObject({ score: 89, grade: 'A', expected_value: 58800, opportunity: 'opp-L-2026-0042' });
    const opp = parse(readFileSync(join(p.cwd, '.ledgerflow', 'leads', 'L-2026-0042.yaml'), 'utf8'));
    expect(opp).toMatchObject({
      stage: 'qualified',
      segment: 'mid_market',
      follow_up_by: '2026-11-03',
      pipeline_value: 58800,
    });
  });

  it('a small, cold lead goes on a nurture track dated from the event time', async () => {
    const p = place();
    const cold = {
      ...LEAD,
      lead_id: 'L-7',
      employees: 8,
      industry: 'arts',
      source: 'website',
      budget: 3000,
      engagement: { website_visits: 0, email_opens: 0, content_downloads: 0, demo_requested: false },
    };
    const r = await emit(p, 'lead_qualification', cold, '--time', '2026-11-02T10:00:00Z');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/◆ route_lead chose default → nurture_lead/);
    const plan = parse(readFileSync(join(p.cwd, '.ledgerflow', 'leads', 'L-7.yaml'), 'utf8'));
    expect(plan).toMatchObject({ track: 'awareness', cadence_days: 30, next_touch_on: '2026-12-02', grade: 'D' });
  });

  it('the same event id emitted twice starts exactly one run; the second says duplicate', async () => {
    const p = place();
    const first = await emit(p, 'lead_qualification', LEAD, '--id', 'crm-42');
    const second = await emit(p, 'lead_qualification', LEAD, '--id', 'crm-42');
    expect(first.code).toBe(0);
    expect(second.code).toBe(0);
    expect(second.out.runs).toEqual([{ ...first.out.runs[0], duplicate: true }]);
    expect(second.stderr).toMatch(/already started by event crm-42: duplicate delivery, not started again/);
    // The store, read here (what `list` and `history` print): one run, started once, its first task run once.
    const store = new FileEventStore(p.store);
    expect((await store.listRuns()).map((x) => x.runId)).toEqual([first.out.runs[0].runId]);
    const history = await store.read(first.out.runs[0].runId);
    expect(history.filter((e) => e.type === 'run.started')).toHaveLength(1);
    expect(
      history.filter((e) => e.type === 'task.started' && (e.data as { task?: string }).task === 'score_lead'),
    ).toHaveLength(1);
  });

  it('a test lead starts nothing', async () => {
    const p = place();
    const r = await emit(p, 'lead_qualification', { ...LEAD, source: 'test' });
    expect(r.code).toBe(0);
    expect(r.out.runs).toEqual([]);
  });
});

describe('ledgerflow emit: bad events are rejected with the reason and kept, exit 2', () => {
  it('data that breaks the schema: every reason on stderr and in the dead-letter file, nothing started', async () => {
    const p = place();
    const bad = { ...LEAD, lead_id: '../../etc', employees: 'many', engagement: { website_visits: 3 } };
    const r = await emit(p, 'lead_qualification', bad, '--id', 'crm-bad');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /✗ event crm-bad \(lead_qualification\) rejected: event crm-bad does not fit the schema of lead_qualification: data\.lead_id: .*pattern/,
    );
    expect(r.stderr).toMatch(/kept in .*store\/dead-letter\/\d{4}-\d{2}-\d{2}\.jsonl/);
    expect(r.out).toMatchObject({
      runs: [],
      rejected: { stage: 'schema', deadLetter: expect.stringMatching(/dead-letter/) },
    });
    const [letter, ...more] = deadLetters(p.store);
    expect(more).toEqual([]);
    expect(letter!.stage).toBe('schema');
    expect(letter!.problems).toEqual([
      'data.lead_id: Invalid string: must match pattern /^[A-Za-z0-9_-]{1,64}$/',
      'data.employees: expected number, received string',
      'data.engagement.email_opens: missing (required)',
      'data.engagement.content_downloads: missing (required)',
      'data.engagement.demo_requested: missing (required)',
    ]);
    expect(letter!.event).toMatchObject({ id: 'crm-bad', type: 'lead_qualification', data: bad });
    expect(existsSync(join(p.store, 'runs'))).toBe(false);
  });

  it('an event type nothing knows is rejected (most likely a typo) and kept', async () => {
    const p = place();
    const r = await cli(['--store', p.store, 'emit', 'revenue_milestne', '--data', '{}'], { cwd: p.cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /unknown event type "revenue_milestne": no events\/revenue_milestne\.yaml schema and no workflow triggers on it; known types: compliance_alerts, incident_reported, lead_qualification, revenue_milestone/,
    );
    expect(deadLetters(p.store).map((l) => [l.stage, l.event.type])).toEqual([['unknown_type', 'revenue_milestne']]);
  });

  it('--sample with --data too, or for a type without a file, is bad usage (what --sample sends: the sample lead test above)', async () => {
    const p = place();
    const both = await cli(['--store', p.store, 'emit', 'lead_qualification', '--sample', '--data', '{}'], {
      cwd: p.cwd,
    });
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--sample and --data both give the payload/);
    const none = await cli(['--store', p.store, 'emit', 'no_such_type', '--sample'], { cwd: p.cwd });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--sample: no event type file .*no_such_type\.yaml; known types: .*lead_qualification/);
  });

  it('--data that is not JSON is bad usage: exit 2, no event, nothing kept', async () => {
    const p = place();
    const r = await cli(['--store', p.store, 'emit', 'revenue_milestone', '--data', '{month: 10'], { cwd: p.cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--data is not JSON/);
    expect(existsSync(p.store)).toBe(false);
  });

  it('a broken event schema file is configuration, not a bad event: exit 2 with the file, nothing kept', async () => {
    const p = place();
    const events = join(p.cwd, 'events');
    mkdirSync(events);
    writeFileSync(join(events, 'revenue_milestone.yaml'), 'type: revenue\nschema: { type: object }\n');
    const r = await cli(['--store', p.store, 'emit', 'revenue_milestone', '--data', JSON.stringify(REVENUE)], {
      cwd: p.cwd,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /events\/revenue_milestone\.yaml: declares type "revenue" but the file is named for "revenue_milestone"/,
    );
    expect(deadLetters(p.store)).toEqual([]);
  });

  it('--definitions and --events point at other folders', async () => {
    const p = place();
    const defs = join(p.cwd, 'defs');
    mkdirSync(defs);
    writeFileSync(
      join(defs, 'ping.yaml'),
      [
        'workflow:',
        '  id: ping',
        '  input: { required: [who] }',
        '  triggers: [{ event: ping, input: { who: "${event.data.who}" } }]',
        '  tasks: [{ id: wait_for_ok, type: HUMAN }]',
        '',
      ].join('\n'),
    );
    mkdirSync(join(p.cwd, 'no-schemas'));
    const r = await emit(p, 'ping', { who: 'ops' }, '--definitions', defs, '--events', join(p.cwd, 'no-schemas'));
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/warning: no schema for event type ping/);
    expect(r.out).toMatchObject({
      runs: [{ workflowId: 'ping', status: 'WAITING' }],
      warnings: [expect.stringMatching(/no schema/)],
    });
  });
});

describe('ledgerflow emit beside a broken definition', () => {
  it('an invalid file and two files repeating one workflow id are skipped and said once each at file:line:col; the valid listener starts', async () => {
    const p = place();
    const defs = join(p.cwd, 'defs');
    mkdirSync(defs);
    const ping = (id: string, version: number) =>
      [
        'workflow:',
        `  id: ${id}`,
        `  version: ${version}`,
        '  input: { required: [who] }',
        '  triggers: [{ event: ping, input: { who: "${event.data.who}" } }]',
        '  tasks: [{ id: wait_for_ok, type: HUMAN }]',
        '',
      ].join('\n');
    writeFileSync(join(defs, 'ping.yaml'), ping('ping', 1));
    writeFileSync(join(defs, 'broken.yaml'), 'workflow:\n  id: broken\n  tasks:\n    - id: a\n      type: NOPE\n');
    writeFileSync(join(defs, 'twin-a.yaml'), ping('twin', 1));
    writeFileSync(join(defs, 'twin-b.yaml'), ping('twin', 1));
    mkdirSync(join(p.cwd, 'no-schemas'));
    const r = await emit(p, 'ping', { who: 'ops' }, '--definitions', defs, '--events', join(p.cwd, 'no-schemas'));
    expect(r.code, r.stderr).toBe(3);
    expect(r.out.runs).toEqual([expect.objectContaining({ workflowId: 'ping', status: 'WAITING' })]);
    const broken = `skipped ${join(defs, 'broken.yaml')}:5:13: error: workflow.tasks[0].type: expected one of`;
    expect(r.stderr).toContain(broken);
    expect(r.stderr.split(`${join(defs, 'broken.yaml')}:`).length - 1).toBe(1);
    for (const twin of ['twin-a.yaml', 'twin-b.yaml']) {
      expect(r.stderr).toContain(`skipped ${join(defs, twin)}:2:7: warning: workflow twin v1 is also defined by`);
    }
    expect(r.out.skipped.map((x: { file: string }) => x.file)).toEqual(
      ['broken.yaml', 'twin-a.yaml', 'twin-b.yaml'].map((f) => join(defs, f)),
    );
  });

  it("of two files with one workflow id, the higher version's triggers are used and the other is said skipped", async () => {
    const p = place();
    const defs = join(p.cwd, 'defs');
    mkdirSync(defs);
    const ping = (version: number) =>
      `workflow:\n  id: ping\n  version: ${version}\n  triggers: [{ event: ping }]\n  tasks: [{ id: wait_for_ok, type: HUMAN }]\n`;
    writeFileSync(join(defs, 'ping-v1.yaml'), ping(1));
    writeFileSync(join(defs, 'ping-v2.yaml'), ping(2));
    mkdirSync(join(p.cwd, 'no-schemas'));
    const r = await emit(p, 'ping', {}, '--definitions', defs, '--events', join(p.cwd, 'no-schemas'));
    expect(r.code, r.stderr).toBe(3);
    expect(r.out.runs).toEqual([expect.objectContaining({ workflowId: 'ping', version: 2 })]);
    expect(r.stderr).toContain(
      `skipped ${join(defs, 'ping-v1.yaml')}:2:7: warning: workflow ping v1 is also defined by ${join(defs, 'ping-v2.yaml')} (v2); the triggers of v2 (${join(defs, 'ping-v2.yaml')}) are used`,
    );
  });
});

describe('replay of every run emit produced', () => {
  it('reaches the state each event recorded, with no divergence (ledgerflow replay exit 0)', async () => {
    const runs = new Set(produced.map((r) => r.runId));
    expect(runs.size, 'replays the runs of the tests above: run the whole file').toBeGreaterThanOrEqual(8);
    // Every run in the stores of this file, replayed here (what `ledgerflow replay` does, without a process a run)…
    expect(await expectEveryRunReplays()).toBeGreaterThanOrEqual(runs.size);
    // …and as a user asks it, of the run that went furthest: started by an event, waited for the CFO, approved, resumed.
    const { store, runId } = produced[0]!;
    const r = await cli(['--store', store, 'replay', runId]);
    expect(r.code, `${runId}: ${r.stdout}`).toBe(0);
    expect(r.stdout).toMatch(/✓ every event leads to the state it recorded/);
  });
});
