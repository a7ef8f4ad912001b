/**
 * Every bundled definition, path by path: the paths are generated when this
 * file is collected, and each runs as its own test against the real runtime
 * (memory store, scripted handlers, virtual time), as `ledgerflow test` does.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDefinitionFile } from '../../src/files/index.js';
import {
  catalogItems,
  expectationsFileFor,
  generatePaths,
  itemKey,
  parseExpectations,
  runExpectation,
  runPath,
} from '../../src/coverage/index.js';
import { compile } from '../../src/compiler/index.js';
import { ROOT } from '../helpers/cli.js';

const DEFINITIONS = join(ROOT, 'definitions');
const files = readdirSync(DEFINITIONS)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

describe('bundled definitions', () => {
  it('are all here', () =>
    expect(files).toEqual([
      'batch-inventory-validation.yaml',
      'compliance-audit.yaml',
      'compliance_alerts.yaml',
      'daily-operations.yaml',
      'data-migration.yaml',
      'department-ops.yaml',
      'file-routing.yaml',
      'folder-audit.yaml',
      'folder-report.yaml',
      'incident-response.yaml',
      'inventory-validation-ps1.yaml',
      'inventory-validation-sh.yaml',
      'inventory-validation.yaml',
      'lead_qualification.yaml',
      'multi-agent-research.yaml',
      'project-setup.yaml',
      'research-coordination.yaml',
      'revenue_milestone.yaml',
      'station-deployment.yaml',
      'station-rollback.yaml',
    ]));
});

for (const file of files) {
  const path = join(DEFINITIONS, file);
  const { definition, warnings } = loadDefinitionFile(path);
  const report = generatePaths(definition);
  const expFile = expectationsFileFor(path);
  const expectations = existsSync(expFile) ? parseExpectations(readFileSync(expFile, 'utf8'), definition, expFile) : [];

  describe(file, () => {
    for (const p of report.paths) {
      it(p.name, async () => {
        const r = await runPath(definition, p);
        expect(r.failure).toBeNull();
        expect(r.status).toBe(p.outcome);
      });
    }

    for (const e of expectations) {
      it(`expectation: ${e.name}`, async () => {
        const r = await runExpectation(definition, e);
        expect(r.failures).toEqual([]);
      });
    }

    it('covers every state, transition and decision case, or says why it cannot', () => {
      const { coverage, uncovered } = report;
      for (const [kind, tally] of [
        ['state', coverage.states],
        ['transition', coverage.transitions],
        ['decisionCase', coverage.decisionCases],
      ] as const) {
        expect(tally.covered + uncovered.filter((u) => u.kind === kind).length, kind).toBe(tally.total);
      }
      for (const u of uncovered) expect(u.reason.length, `${u.kind} ${u.item} of ${u.task}`).toBeGreaterThan(20);
      // An item a definition bug makes unreachable is also a validation warning, in the same words.
      for (const u of uncovered.filter((x) => x.code)) {
        const warning = warnings.find((w) => w.code === u.code && u.reason.startsWith(w.message));
        expect(warning, u.reason).toBeDefined();
      }
      // What paths cover is what the compiled config has, and never something ruled out as impossible.
      const catalog = catalogItems(compile(definition));
      const applicable = new Set(catalog.applicable.map(itemKey));
      for (const p of report.paths)
        for (const k of p.covers) expect(applicable.has(k), `${p.name} covers ${k}`).toBe(true);
      expect(report.paths.length).toBeGreaterThan(0);
      expect(expectations.length, `${expFile} ships with the definition`).toBeGreaterThan(0);
    });
  });
}
