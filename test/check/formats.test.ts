/**
 * The deploy gate's report and formats on hand-made findings (the sections' own findings come from src/check/diff.ts
 * and properties.ts too, which these tests do not wait for): the verdict (errors fail it, warnings only with strict),
 * the text report, SARIF's required fields, JUnit's suites and escaping. And the untested section on a first version.
 */
import { describe, expect, it } from 'vitest';
import {
  checkReport,
  junitReport,
  sarifReport,
  textReport,
  untestedFindings,
  type Finding,
} from '../../src/check/index.js';
import { parseDefinition } from '../../src/definition/index.js';
import { expectWellFormedXml } from '../cli/xml-check.js';

const at = (line: number, col = 7) => ({ file: './defs\\orders.yaml', line, col });
const FINDINGS: Finding[] = [
  {
    section: 'change',
    rule: 'task-removed',
    level: 'error',
    message: 'task <ship> & "pack" removed: runs \'waiting\' on it break',
    location: at(9),
    task: 'ship',
  },
  {
    section: 'change',
    rule: 'input-newly-required',
    level: 'warning',
    message: 'input x is required now',
    location: at(3, 3),
  },
  {
    section: 'properties',
    rule: 'may-not-terminate',
    level: 'note',
    message: 'a loop\u0007 may not end',
    location: at(12),
    path: ['a', 'b'],
  },
];

const report = (findings: Finding[], strict = false) =>
  checkReport(
    {
      workflowId: 'orders',
      new: { file: './defs\\orders.yaml', version: 2, source: 'file' },
      against: { file: 'old.yaml', version: 1, source: 'file' },
      strict,
    },
    (['change', 'runs', 'untested', 'properties'] as const).map((section) => ({
      section,
      summary: `${section} summary`,
      findings: findings.filter((f) => f.section === section),
      passed: section === 'runs' ? ['run r1'] : [],
    })),
  );

describe('the report and its formats, on hand-made findings', () => {
  it('an error fails the gate; a warning only with --strict', () => {
    expect(report(FINDINGS).safe).toBe(false);
    expect(report(FINDINGS.slice(1)).safe).toBe(true);
    expect(report(FINDINGS.slice(1), true).safe).toBe(false);
    expect(report(FINDINGS).counts).toEqual({ error: 1, warning: 1, note: 1 });
    expect(report(FINDINGS).sections.map((s) => [s.title, s.ok])).toEqual([
      ['What changed', false],
      ['What it does to runs', true],
      ['What is newly untested', true],
      ['The properties', true],
    ]);
  });

  it('text: sections with ✓/✗, findings at file:line:col, the verdict last', () => {
    const text = textReport(report(FINDINGS));
    expect(text.split('\n').slice(0, 4)).toEqual([
      'ledgerflow check ./defs\\orders.yaml (orders v2) against old.yaml (v1)',
      '✗ What changed: change summary',
      '    ✗ ./defs\\orders.yaml:9:7: task <ship> & "pack" removed: runs \'waiting\' on it break [task-removed]',
      '    ⚠ ./defs\\orders.yaml:3:3: input x is required now [input-newly-required]',
    ]);
    expect(text.trimEnd().split('\n').at(-1)).toBe('✗ unsafe to deploy: 1 error, 1 warning');
  });

  it('SARIF 2.1.0: the fields GitHub code scanning requires, relative forward-slash uris', () => {
    const sarif = sarifReport(report(FINDINGS), '9.9.9') as any;
    expect(sarif.$schema).toBe('https://json.schemastore.org/sarif-2.1.0.json');
    expect(sarif.version).toBe('2.1.0');
    const driver = sarif.runs[0].tool.driver;
    expect(driver).toMatchObject({ name: 'ledgerflow', version: '9.9.9' });
    expect(driver.rules.map((r: any) => r.id)).toEqual(['input-newly-required', 'may-not-terminate', 'task-removed']);
    for (const r of driver.rules)
      expect(r).toMatchObject({
        shortDescription: { text: expect.any(String) },
        helpUri: expect.stringMatching(/^https:/),
      });
    expect(sarif.runs[0].results.map((r: any) => [r.ruleId, r.level, r.locations[0].physicalLocation])).toEqual([
      [
        'task-removed',
        'error',
        { artifactLocation: { uri: 'defs/orders.yaml' }, region: { startLine: 9, startColumn: 7 } },
      ],
      [
        'input-newly-required',
        'warning',
        { artifactLocation: { uri: 'defs/orders.yaml' }, region: { startLine: 3, startColumn: 3 } },
      ],
      [
        'may-not-terminate',
        'note',
        { artifactLocation: { uri: 'defs/orders.yaml' }, region: { startLine: 12, startColumn: 7 } },
      ],
    ]);
    expect(sarif.runs[0].results[0].message.text).toBe(FINDINGS[0]!.message);
    expect(sarif.runs[0].automationDetails).toEqual({ id: 'ledgerflow-check/orders/' });
  });

  it('JUnit: a testsuite per section, a failure per error (a warning too with strict), everything escaped', () => {
    const xml = junitReport(report(FINDINGS));
    expectWellFormedXml(xml);
    expect(xml).toContain('task &lt;ship&gt; &amp; &quot;pack&quot; removed: runs &apos;waiting&apos; on it break');
    expect(xml).not.toContain('\u0007');
    const suites = (x: string) =>
      [...x.matchAll(/<testsuite name="([^"]+)" tests="(\d+)" failures="(\d+)"/g)].map((m) => [m[1], +m[2]!, +m[3]!]);
    expect(suites(xml)).toEqual([
      ['What changed', 2, 1],
      ['What it does to runs', 1, 0],
      ['What is newly untested', 1, 0],
      ['The properties', 1, 0],
    ]);
    expect(suites(junitReport(report(FINDINGS, true)))[0]).toEqual(['What changed', 2, 2]);
    expect(xml).toContain('file="defs/orders.yaml" line="9"');
  });
});

describe('what is newly untested', () => {
  const def = (yaml: string) => {
    const definition = parseDefinition(yaml, 'review.yaml').definition!;
    return { definition, file: 'review.yaml', text: yaml };
  };
  const V1 = 'workflow:\n  id: review\n  version: 1\n  tasks:\n    - { id: review, type: HUMAN }\n';
  const V2 = `${V1.replace('version: 1', 'version: 2')}    - { id: note, type: SET, values: { done: true }, depends_on: [review] }\n`;

  it('a first version: every untested path is newly untested (no expectations file here)', async () => {
    const r = await untestedFindings(def(V1), null);
    expect(r.summary).toMatchObject({ expectationsFile: null, expectations: 0, tested: 0 });
    expect(r.findings.length).toBe(r.summary.paths);
    expect(r.findings.every((f) => f.rule === 'path-untested' && f.level === 'warning')).toBe(true);
  });

  it('nothing changed: the untested paths were untested before, so none is newly untested', async () => {
    const r = await untestedFindings(def(V1), def(V1));
    expect([r.findings, r.summary.untested > 0]).toEqual([[], true]);
  });

  it('a task added: the paths whose uncovered items are of it are newly untested', async () => {
    const r = await untestedFindings(def(V2), def(V1));
    expect(r.findings.length).toBeGreaterThan(0);
    for (const f of r.findings)
      expect([f.task, f.message], f.message).toEqual(['note', expect.stringContaining(' of note')]);
  });
});
