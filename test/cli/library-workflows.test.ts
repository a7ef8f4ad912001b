/**
 * The template library's new workflows doing their real work through the CLI:
 * the batch validation over the sample depots (one summary, a receipt per
 * folder), and compliance alerts by severity (a critical one pauses the run it
 * names, for real, once the commander approves; high writes an alert record;
 * low appends to the log).
 */
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, expectEveryRunReplays, ROOT, tempDir } from '../helpers/cli.js';

const SAMPLES = join(ROOT, 'definitions', 'samples');
const BATCH = join(ROOT, 'definitions', 'batch-inventory-validation.yaml');

afterAll(async () => {
  expect(await expectEveryRunReplays()).toBeGreaterThan(3);
});

describe('batch-inventory-validation', () => {
  it('validates every depot with one policy load and writes one summary, and each depot its own receipt', async () => {
    const cwd = tempDir();
    cpSync(join(SAMPLES, 'depots'), join(cwd, 'depots'), { recursive: true });
    const r = await cli(
      [
        '--store',
        join(cwd, 'store'),
        'run',
        BATCH,
        '--parent_folder',
        'depots',
        '--policy_file',
        join(SAMPLES, 'INVENTORY.POLICY.yaml'),
        '--json',
      ],
      { cwd },
    );
    expect(r.code, r.stderr).toBe(0);
    const view = JSON.parse(r.stdout);
    expect(view.tasks.load_policy.attempts).toBe(1);
    expect(view.output).toMatchObject({
      overall_status: 'FAIL_STRICT',
      folders: 4,
      counts: { PASS: 2, FAIL_SOFT: 1, FAIL_STRICT: 1 },
    });
    const report = parse(readFileSync(join(cwd, view.output.report), 'utf8'));
    expect(
      report.per_folder.map((f: { folder: string; status: string; files: number }) => [f.folder, f.status, f.files]),
    ).toEqual([
      ['depots/alpha', 'PASS', 4],
      ['depots/bravo', 'FAIL_SOFT', 3],
      ['depots/charlie', 'FAIL_STRICT', 4],
      ['depots/delta', 'PASS', 5],
    ]);
    expect(report.per_folder[2].violations).toEqual(['LICENSE missing', '.env is forbidden']);
    for (const d of ['alpha', 'bravo', 'charlie', 'delta']) {
      expect(parse(readFileSync(join(cwd, 'depots', d, 'VALIDATION.RECEIPT.yaml'), 'utf8')).receipt.folder).toBe(
        `depots/${d}`,
      );
    }
    // Again: the receipts are not part of what is validated.
    const again = await cli(
      [
        '--store',
        join(cwd, 'store'),
        'run',
        BATCH,
        '--parent_folder',
        'depots',
        '--policy_file',
        join(SAMPLES, 'INVENTORY.POLICY.yaml'),
        '--json',
      ],
      { cwd },
    );
    expect(JSON.parse(again.stdout).output).toMatchObject({ counts: { PASS: 2, FAIL_SOFT: 1, FAIL_STRICT: 1 } });
  }, 60_000);
});

describe('compliance_alerts', () => {
  it('critical: the commander approves, and the run the alert names is paused (run.paused in its log)', async () => {
    const cwd = tempDir();
    const store = join(cwd, 'store');
    // --store only: the CLI hands its store to the handlers (LEDGERFLOW_STORE), so the pause lands in the same one.
    const env = {};
    // A run that waits for a person: the affected one.
    writeFileSync(join(cwd, 'strict.yaml'), 'required_files: [README.md, SECURITY.md]\n');
    cpSync(join(SAMPLES, '0UT.3OX'), join(cwd, '0UT.3OX'), { recursive: true });
    const affected = await cli(
      [
        '--store',
        store,
        'run',
        join(ROOT, 'definitions/inventory-validation.yaml'),
        '--target_folder',
        '0UT.3OX',
        '--policy_file',
        'strict.yaml',
        '--json',
      ],
      { cwd, env },
    );
    expect(affected.code).toBe(3);
    const affectedId = JSON.parse(affected.stdout).runId;

    const data = {
      alert_id: 'CA-9',
      severity: 'critical',
      rule: 'SEC-7',
      summary: 'secrets found in a delivery',
      affected_run: affectedId,
    };
    const emitted = await cli(
      ['--store', store, 'emit', 'compliance_alerts', '--id', 'alert-9', '--data', JSON.stringify(data), '--json'],
      { cwd, env },
    );
    expect(emitted.code, emitted.stderr).toBe(3);
    const runId = JSON.parse(emitted.stdout).runs.find(
      (x: { workflowId: string }) => x.workflowId === 'compliance_alerts',
    ).runId;
    expect(
      (await cli(['--store', store, 'approve', runId, 'approve_pause', '--as', 'commander'], { cwd, env })).code,
    ).toBe(0);
    const resumed = await cli(['--store', store, 'resume', runId, '--json'], { cwd, env });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout).tasks.pause_affected_run.output).toMatchObject({
      paused: true,
      run_status: 'PAUSED',
      approved_by: 'commander',
    });
    const status = JSON.parse((await cli(['--store', store, 'status', affectedId, '--json'], { cwd, env })).stdout);
    expect(status.status).toBe('PAUSED');
    const history = JSON.parse((await cli(['--store', store, 'history', affectedId, '--json'], { cwd, env })).stdout);
    expect(history.at(-1)).toMatchObject({
      type: 'run.paused',
      data: { by: `compliance_alerts/${runId}`, reason: expect.stringContaining('CA-9') },
    });
    expect(parse(readFileSync(join(cwd, 'compliance/alerts/CA-9.yaml'), 'utf8'))).toMatchObject({
      paused: true,
      affected_run: affectedId,
    });
  }, 60_000);

  it('high writes an alert record; low appends one line to the log, once per run', async () => {
    const cwd = tempDir();
    const env = { LEDGERFLOW_STORE: join(cwd, 'store') };
    const sample = parse(readFileSync(join(ROOT, 'events/compliance_alerts.yaml'), 'utf8')).sample;
    const high = await cli(
      [
        'emit',
        'compliance_alerts',
        '--id',
        'a-high',
        '--time',
        '2026-11-22T08:00:00.000Z',
        '--data',
        JSON.stringify(sample),
        '--json',
      ],
      { cwd, env },
    );
    expect(high.code, high.stderr).toBe(0);
    const record = parse(readFileSync(join(cwd, 'compliance/alerts/CA-2026-0117.yaml'), 'utf8'));
    expect(record).toMatchObject({
      severity: 'high',
      rule: 'RETENTION-90D',
      owner: 'compliance-desk',
      response_due: '2026-11-23T08:00:00.000Z',
      source_event: 'a-high',
    });
    expect(existsSync(join(cwd, 'compliance/compliance.log'))).toBe(false);

    for (const id of ['a-low-1', 'a-low-2']) {
      const low = await cli(
        [
          'emit',
          'compliance_alerts',
          '--id',
          id,
          '--time',
          '2026-11-22T09:00:00.000Z',
          '--data',
          JSON.stringify({ alert_id: id, severity: 'low', rule: 'NAMING-3', summary: 'file names\nwith spaces' }),
        ],
        { cwd, env },
      );
      expect(low.code, low.stderr).toBe(0);
    }
    const lines = readFileSync(join(cwd, 'compliance/compliance.log'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^2026-11-22T09:00:00.000Z LOW NAMING-3 a-low-1: file names with spaces \[run .+\]$/);
    // A severity the schema does not know never starts a run.
    const bad = await cli(['emit', 'compliance_alerts', '--data', JSON.stringify({ ...sample, severity: 'urgent' })], {
      cwd,
      env,
    });
    expect(bad.code).toBe(2);
  }, 60_000);
});
