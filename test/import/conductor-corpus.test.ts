/**
 * docs/conductor.md#coverage, measured: the real Conductor workflows in test/fixtures/conductor-corpus (Apache-2.0, from
 * Conductor's own repositories) imported as a folder; the count the page gives imports and validates, and each refused
 * one names the task, its type and why.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, ROOT } from '../helpers/cli.js';

const CORPUS = join(ROOT, 'test', 'fixtures', 'conductor-corpus');

interface Report {
  imported: { file: string; workflowId: string }[];
  refused: { file: string; reasons: { task: string; type: string; why: string }[] }[];
}

describe('the real Conductor workflows of docs/conductor.md#coverage', () => {
  it('imports and validates the count the page gives (at least 90%), and names what stops the rest', async () => {
    const r = await cli(['import', 'conductor', CORPUS, '--json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as Report;
    const total = report.imported.length + report.refused.length;
    const page = readFileSync(join(ROOT, 'docs', 'conductor.md'), 'utf8');
    const stated = /\*\*(\d+) of (\d+) import and validate \((\d+)%\)\*\*/.exec(page);
    expect(stated, 'docs/conductor.md#coverage states "**N of M import and validate (P%)**"').not.toBeNull();
    expect([report.imported.length, total, Math.floor((100 * report.imported.length) / total)]).toEqual(
      stated!.slice(1).map(Number),
    );
    expect(report.imported.length / total).toBeGreaterThanOrEqual(0.9);
    for (const refused of report.refused)
      for (const reason of refused.reasons) {
        expect(reason.task).not.toBe('');
        expect(reason.type).not.toBe('');
        expect(reason.why.length).toBeGreaterThan(20);
      }
    // What still stops the rest, as the page's table says: one secret a TRANSFORM would record in the log.
    expect(report.refused.map((f) => f.reasons.map((x) => [x.task, x.type]))).toEqual([
      [['prepare_deep_dive_fanout', 'JSON_JQ_TRANSFORM']],
    ]);
    expect(report.refused[0]!.reasons[0]!.why).toContain('LF_SECRET_NOT_ALLOWED');
    // The forkTaskType forks of the two AI agents and the BLOCKING_SYSTEM_TASK import now.
    const ids = report.imported.map((f) => f.workflowId);
    expect(ids).toEqual(expect.arrayContaining(['deep_research_agent', 'test_blocking_system_task_workflow']));
  });
});
