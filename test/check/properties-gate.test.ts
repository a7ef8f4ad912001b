/**
 * docs/check.md "The properties": a property the new version breaks is an error with its counter-example, at its
 * entry under `properties:`; one the replaced version broke too is a warning, said so; with no version to compare
 * with, every broken property is an error.
 */
import { describe, expect, it } from 'vitest';
import { runGate, type CheckedDefinition } from '../../src/check/index.js';
import { parseDefinition } from '../../src/definition/index.js';

const version = (n: number, pay: string): CheckedDefinition => {
  const text = `workflow:
  id: payout
  version: ${n}
  properties:
    always_before:
      pay: [approve]
  tasks:
    - id: check
      type: SIMPLE
    - id: approve
      type: HUMAN
      depends_on: [check]
      timeout: 1d
      on_timeout: reject
    - id: pay
      type: SIMPLE
      depends_on: [${pay}]
`;
  const file = `payout.v${n}.yaml`;
  const { definition } = parseDefinition(text, file);
  if (!definition) throw new Error('the example does not parse');
  return { definition, file, text };
};
// v1 pays after the approval; v2 pays as soon as the check is done: the approval no longer gates it.
const SAFE = version(1, 'approve');
const BROKEN = version(2, 'check');

const gate = (after: CheckedDefinition, before: CheckedDefinition | null) =>
  runGate({
    after,
    before,
    versions: {
      new: { file: after.file, version: after.definition.version, source: 'file' },
      against: before ? { file: before.file, version: before.definition.version, source: 'file' } : null,
    },
    store: null,
    map: {},
    history: 0,
    strict: false,
    warn: () => undefined,
  });
const properties = async (after: CheckedDefinition, before: CheckedDefinition | null) => {
  const report = await gate(after, before);
  return { report, section: report.sections.find((s) => s.section === 'properties')! };
};

describe('check: the properties of the new version', () => {
  it('a property the change breaks is an error at its entry under properties:, with the path that breaks it', async () => {
    const { report, section } = await properties(BROKEN, SAFE);
    expect(report.safe).toBe(false);
    expect(section.findings).toHaveLength(1);
    const f = section.findings[0]!;
    expect(f).toMatchObject({
      rule: 'property-always-before',
      level: 'error',
      task: 'pay',
      location: { file: 'payout.v2.yaml', line: 6, col: 7 },
    });
    expect(f.path?.[0]).toBe('check succeeds');
    expect(f.path?.some((s) => s.includes('pay'))).toBe(true);
  });

  it('one the replaced version broke too warns and does not block', async () => {
    const { report, section } = await properties(BROKEN, version(1, 'check'));
    expect(section.findings.map((f) => [f.rule, f.level])).toEqual([['property-always-before', 'warning']]);
    expect(section.findings[0]!.message).toMatch(/\(broken before this change too\)$/);
    expect(section.summary).toBe('0 errors, 1 warning (1 property broken before this change too)');
    expect(report.safe).toBe(true);
  });

  it('with no version to compare with, a broken property is an error; a version that keeps it passes', async () => {
    expect((await properties(BROKEN, null)).section.findings.map((f) => f.level)).toEqual(['error']);
    const kept = await properties(SAFE, BROKEN);
    expect([kept.section.summary, kept.report.safe]).toEqual(['every property holds', true]);
  });
});
