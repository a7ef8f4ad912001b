/**
 * The bundled research, incident and operations workflows for real: the
 * built CLI on the file store, with their own handlers and the sample files
 * under definitions/samples/, from the repository root (where their default
 * inputs point), writing their reports under a temporary output root. The
 * numbers checked are what the handlers compute from the samples, so a change
 * to a handler or a sample that changes a report shows here.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDefinitionFile } from '../../src/files/index.js';
import { cli, expectEveryRunReplays, ROOT, tempDir } from '../helpers/cli.js';

const DEFS = join(ROOT, 'definitions');
const json = (s: string) => JSON.parse(s);
const yamlOf = (file: string) => parse(readFileSync(file, 'utf8'));

/** A store and an output root of its own; the CLI runs from the repository root. */
function sandbox() {
  const store = tempDir();
  const out = tempDir();
  const lf = (args: string[]) =>
    cli(
      [
        ...args,
        '--store',
        store,
        ...(['run', 'resume', 'emit', 'signal', 'approve', 'reject'].includes(args[0]!) ? ['--output-root', out] : []),
      ],
      { cwd: ROOT },
    );
  return { out, lf };
}

afterAll(async () => {
  expect(await expectEveryRunReplays()).toBeGreaterThanOrEqual(11);
});

describe('research-coordination', () => {
  it('forks three agents over the sample corpus, joins their reports and aggregates them into one', async () => {
    const { out, lf } = sandbox();
    const r = await lf(['run', join(DEFS, 'research-coordination.yaml'), '--label', 'q4', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const view = json(r.stdout);
    // The JOIN holds each agent's report under its task id.
    expect(Object.keys(view.tasks.join_findings.output)).toEqual([
      'research_git_hooks',
      'research_file_watchers',
      'research_bft',
    ]);
    expect(view.tasks.research_git_hooks.output.keyword_counts).toEqual({
      'pre-commit': 2,
      'pre-receive': 3,
      'commit-msg': 1,
      hooksPath: 1,
      'no-verify': 1,
      enforcement: 2,
    });
    expect(view.output).toMatchObject({ topics: 3, documents: 6, findings: 9, strongest_topic: 'bft', gaps: [] });
    const report = yamlOf(join(out, 'research-reports', 'q4.yaml'));
    expect(report.ranking.map((x: { topic: string; evidence: number }) => [x.topic, x.evidence])).toEqual([
      ['bft', 15],
      ['file-watchers', 12],
      ['git-hooks', 10],
    ]);
    expect(report.by_topic['file-watchers'].findings[0]).toBe(
      'Polling compares a snapshot of sizes, modification times or hashes with the previous snapshot. (file-watchers/polling.md:3)',
    );
    expect(report.shared_terms).toContainEqual({ term: 'commit', topics: ['git-hooks', 'bft'] });
  }, 60_000);
});

describe('incident-response', () => {
  const sample = yamlOf(join(ROOT, 'events', 'incident_reported.yaml')).sample as Record<string, unknown>;

  it('starts from the sample event, pages for a critical incident, waits for the acknowledgement signal, then writes the postmortem', async () => {
    const { out, lf } = sandbox();
    const emitted = await lf(['emit', 'incident_reported', '--data', JSON.stringify(sample), '--json']);
    expect(emitted.code, emitted.stderr).toBe(3); // waiting for the acknowledgement
    const [run] = json(emitted.stdout).runs as { runId: string; workflowId: string; status: string }[];
    expect(run).toMatchObject({ workflowId: 'incident-response', status: 'WAITING' });
    const waiting = json((await lf(['status', run!.runId, '--json'])).stdout);
    expect(waiting.tasks.triage.output).toMatchObject({ severity: 'critical', score: 75, responder: 'alice' });
    expect(waiting.tasks.route.output.case).toBe('critical');
    expect(waiting.tasks.await_ack.status).toBe('WAITING');
    expect(waiting.tasks.alert_oncall.status).toBe('SKIPPED');
    expect(yamlOf(join(out, 'incidents', 'INC-2026-1122-01', 'deploy-freeze.yaml'))).toMatchObject({
      service: 'checkout',
      frozen: true,
    });
    expect(yamlOf(join(out, 'incidents', 'INC-2026-1122-01', 'notification.yaml'))).toMatchObject({
      channel: 'page',
      to: 'alice',
      acknowledge_with: expect.stringContaining(`ledgerflow signal ${run!.runId} incident_acknowledged`),
    });

    const ack = await lf([
      'signal',
      run!.runId,
      'incident_acknowledged',
      '--data',
      '{"by":"alice","at":"2026-11-22T09:09:30Z","note":"rolling back"}',
    ]);
    expect(ack.code, ack.stderr).toBe(0);
    const done = await lf(['resume', run!.runId, '--json']);
    expect(done.code, done.stderr).toBe(0);
    const view = json(done.stdout);
    expect(view.output).toEqual({
      severity: 'critical',
      acknowledged_by: 'alice',
      minutes_to_acknowledge: 7.5,
      escalated_to: [],
      deploys_frozen: true,
      probable_cause: 'payment-gateway timeout after Nms order=N',
    });
    const pm = yamlOf(join(out, 'incidents', 'INC-2026-1122-01', 'postmortem.yaml'));
    expect(pm.errors).toBe(7);
    expect(pm.timeline.map((t: { at: string }) => t.at)).toEqual([
      '2026-11-22T09:01:12Z',
      '2026-11-22T09:01:52Z',
      '2026-11-22T09:02:00Z',
      '2026-11-22T09:09:30Z',
    ]);
    expect(pm.actions).toHaveLength(2);
  }, 60_000);

  it('escalates to the secondary and the manager when nobody acknowledges before the wait times out', async () => {
    const { out, lf } = sandbox();
    // The bundled wait is 15 minutes; a copy waits 1 s, with the same handlers.
    const dir = tempDir();
    const text = readFileSync(join(DEFS, 'incident-response.yaml'), 'utf8');
    expect(text).toContain('timeout: 15m');
    const copy = join(dir, 'incident-response.yaml');
    writeFileSync(
      copy,
      text
        .replace('timeout: 15m', 'timeout: 1s')
        .replace('handlers: ./handlers/incident.ts', `handlers: ${join(DEFS, 'handlers', 'incident.ts')}`),
    );
    const input = join(dir, 'input.json');
    writeFileSync(
      input,
      JSON.stringify({
        ...sample,
        incident_id: 'INC-2',
        service: 'search',
        title: 'Search results stale',
        error_rate_pct: 6,
        latency_p99_ms: 2500,
        affected_users: 150,
      }),
    );
    const r = await lf(['run', copy, '--input-file', input, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const view = json(r.stdout);
    expect(view.tasks.triage.output.severity).toBe('high');
    expect(view.tasks.await_ack.status).toBe('SKIPPED');
    expect(view.tasks.escalate.output).toMatchObject({
      escalated: true,
      escalated_to: ['alice', 'commander'],
      missed_by: 'bob',
    });
    expect(view.output).toMatchObject({
      severity: 'high',
      acknowledged_by: null,
      escalated_to: ['alice', 'commander'],
      deploys_frozen: false,
    });
    expect(yamlOf(join(out, 'incidents', 'INC-2', 'postmortem.yaml')).actions).toContain(
      'review the on-call rota: nobody acknowledged before escalation',
    );
  }, 60_000);

  it('only logs a low incident: nobody is paged, nothing waits', async () => {
    const { out, lf } = sandbox();
    const dir = tempDir();
    const input = join(dir, 'input.json');
    writeFileSync(
      input,
      JSON.stringify({
        ...sample,
        incident_id: 'INC-3',
        service: 'reporting',
        title: 'Export row without currency',
        error_rate_pct: 0.5,
        latency_p99_ms: 800,
        affected_users: 0,
      }),
    );
    const r = await lf(['run', join(DEFS, 'incident-response.yaml'), '--input-file', input, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const view = json(r.stdout);
    expect(view.tasks.route.output.case).toBe('default');
    expect(view.tasks.await_ack.status).toBe('SKIPPED');
    expect(view.tasks.escalate.output.escalated).toBe(false);
    expect(yamlOf(join(out, 'incidents', 'INC-3', 'notification.yaml'))).toMatchObject({ channel: 'log', to: null });
    expect(existsSync(join(out, 'incidents', 'INC-3', 'deploy-freeze.yaml'))).toBe(false);
    expect(view.output).toMatchObject({ severity: 'low', probable_cause: null });
  }, 60_000);
});

describe('multi-agent-research', () => {
  it('drafts, reviews and refines until the score reaches the threshold, then publishes the answer', async () => {
    const { out, lf } = sandbox();
    const r = await lf(['run', join(DEFS, 'multi-agent-research.yaml'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const view = json(r.stdout);
    expect(view.output).toEqual({
      verdict: 'accepted',
      score: 100,
      rounds: 3,
      answer_file: 'research-reports/answer.yaml',
    });
    const answer = yamlOf(join(out, 'research-reports', 'answer.yaml'));
    expect(answer.scores).toEqual([45, 80, 100]);
    expect(answer.open_requests).toEqual([]);
    expect(answer.answer.at(-1)).toMatch(/^In short: /);
    expect(answer.references.length).toBe(answer.answer.length - 1); // every claim cited
  }, 60_000);

  it('stops after max_rounds short of the threshold and flags the best draft for a person', async () => {
    const { out, lf } = sandbox();
    const r = await lf([
      'run',
      join(DEFS, 'multi-agent-research.yaml'),
      '--max_rounds',
      '2',
      '--label',
      'short',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const view = json(r.stdout);
    expect(view.output).toMatchObject({ verdict: 'needs_review', score: 80, rounds: 2 });
    expect(view.tasks.publish_answer.status).toBe('SKIPPED');
    expect(yamlOf(join(out, 'research-reports', 'short.yaml'))).toMatchObject({
      verdict: 'needs_review',
      scores: [45, 80],
      open_requests: ['cover:signatures', 'summarise'],
    });
  }, 60_000);
});

describe('daily-operations', () => {
  it('is scheduled for 09:00 Berlin time', () => {
    const { definition } = loadDefinitionFile(join(DEFS, 'daily-operations.yaml'));
    expect(definition.triggers).toEqual([
      {
        kind: 'schedule',
        cron: '0 9 * * *',
        timezone: 'Europe/Berlin',
        catchUp: 'latest',
        input: { root: 'definitions/samples/operations' },
      },
    ]);
  });

  it('runs department-ops per department as child runs and writes the morning briefing', async () => {
    const { out, lf } = sandbox();
    // The input its schedule trigger gives it.
    const input = join(tempDir(), 'input.json');
    writeFileSync(
      input,
      JSON.stringify(loadDefinitionFile(join(DEFS, 'daily-operations.yaml')).definition.triggers[0]!.input),
    );
    const r = await lf(['run', join(DEFS, 'daily-operations.yaml'), '--input-file', input, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const view = json(r.stdout);
    expect(view.output).toMatchObject({
      overall: 'red',
      departments: 3,
      red: 1,
      amber: 1,
      green: 1,
      briefing: `operations-reports/${view.runId}.yaml`,
    });
    const items = view.tasks.check_departments.items as {
      status: string;
      output: { department: string; status: string; score: number };
    }[];
    expect(items.map((i) => [i.output.department, i.output.status, i.output.score])).toEqual([
      ['finance', 'green', 100],
      ['logistics', 'red', 20],
      ['support', 'amber', 90],
    ]);
    const children = (
      json((await lf(['list', '--json'])).stdout) as { workflowId: string; parent?: { runId: string } }[]
    ).filter((c) => c.workflowId === 'department-ops');
    expect(children).toHaveLength(3);
    expect(children.every((c) => c.parent?.runId === view.runId)).toBe(true);
    const briefing = yamlOf(join(out, 'operations-reports', `${view.runId}.yaml`));
    expect(briefing.lines).toEqual([
      'Finance: GREEN (100/100, 0 issues)',
      'Logistics: RED (20/100, 8 issues)',
      'Customer support: AMBER (90/100, 2 issues)',
    ]);
    // Most urgent first: Logistics's four critical issues before its warnings, then Support's.
    expect(briefing.actions.slice(0, 4).map((a: { priority: string }) => a.priority)).toEqual([
      'before noon',
      'before noon',
      'before noon',
      'before noon',
    ]);
    expect(briefing.actions[1]).toEqual({
      department: 'Logistics',
      owner: 'alice',
      priority: 'before noon',
      action: 'Reorder: pallet-wrap: 12 on hand, reorder point 30, 1.5 days of cover; order 48',
    });
    expect(
      briefing.actions
        .filter((a: { department: string }) => a.department === 'Customer support')
        .map((a: { action: string }) => a.action),
    ).toEqual(['Clear: SUP-301 (normal) open 10 h, SLA 8 h', 'Fill: late shift 1 short']);
  }, 90_000);

  it('department-ops on its own rates a department from its files', async () => {
    const { lf } = sandbox();
    const r = await lf([
      'run',
      join(DEFS, 'department-ops.yaml'),
      '--folder',
      'definitions/samples/operations/finance',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const view = json(r.stdout);
    expect(view.output).toMatchObject({ department: 'finance', status: 'green', score: 100, issues: [] });
    expect(view.tasks.raise_actions.status).toBe('SKIPPED');
    expect(view.variables).toEqual({ follow_up: 'none' });
  }, 60_000);
});
