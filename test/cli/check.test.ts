/**
 * docs/check.md as a user does it: the refund workflow's runs wait for review under version 1; `check refund-v2.yaml
 * --against definitions/refund.yaml` says they cannot take over (exit 1, the first divergence at file:line:col);
 * with `--map cool_off=grace` they take over with the map (exit 0, warnings) and `--history` replays the settled run;
 * the SARIF report has what GitHub code scanning requires, the JUnit report is well-formed XML with a testsuite per
 * section; without --against the other version in ./definitions is taken; bad usage is exit 2. Over NATS the same
 * runs section against the deployed version, in the same --json shape.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseDefinition } from '../../src/definition/index.js';
import { noNats, uniqueId, useCluster } from '../helpers/cluster.js';
import { cli, ROOT, tempDir } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { expectWellFormedXml } from './xml-check.js';

/** The YAML blocks of docs/check.md, by the file named in their first line. */
function docsFiles(): Record<string, string> {
  const text = readFileSync(join(ROOT, 'docs', 'check.md'), 'utf8');
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/```yaml\n# (\S+)\n([\s\S]*?)```/g)) out[m[1]!] = m[2]!;
  return out;
}

interface Finding {
  section: string;
  rule: string;
  level: string;
  message: string;
  location: { file: string; line: number; col: number };
  runId?: string;
}
interface Report {
  workflowId: string;
  safe: boolean;
  against: { file: string | null; version: number; source: string } | null;
  sections: { section: string; ok: boolean; summary: string; findings: Finding[]; passed: string[] }[];
}

/** A JSON value's shape: its keys and the types of their values, all the way down (arrays by their first element). */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.length > 0 ? [shape(v[0])] : [];
  if (v === null) return 'null';
  if (typeof v === 'object')
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>)
        .sort()
        .map(([k, x]) => [k, shape(x)]),
    );
  return typeof v;
}

let embeddedJson: Report | undefined;

describe('check on the embedded store, from the docs', () => {
  let dir = '';
  const at = () => ({ cwd: dir, env: { LEDGERFLOW_STORE: join(dir, 'store') } });
  const waiting: string[] = [];
  let settled = '';
  beforeAll(async () => {
    dir = tempDir('lf-check-');
    mkdirSync(join(dir, 'definitions'));
    mkdirSync(join(dir, 'expectations'));
    const files = docsFiles();
    expect(Object.keys(files).slice(0, 3)).toEqual([
      'definitions/refund.yaml',
      'refund-v2.yaml',
      'expectations/refund-v2.yaml',
    ]);
    for (const file of Object.keys(files).slice(0, 3)) writeFileSync(join(dir, file), files[file]!);
    for (let i = 0; i < 3; i++) {
      const r = await cli(['run', 'definitions/refund.yaml', '--json'], at());
      waiting.push(JSON.parse(r.stdout).runId);
    }
    // One settles (approved): --history replays it.
    settled = waiting.pop()!;
    const approved = await cli(['approve', settled, 'review', '--as', 'ops'], at());
    expect(approved.code, approved.stderr).toBe(0);
  }, 60_000);

  it('check refund-v2.yaml --against definitions/refund.yaml: the waiting runs cannot take over (exit 1)', async () => {
    const r = await cli(['check', 'refund-v2.yaml', '--against', 'definitions/refund.yaml'], at());
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toContain(
      'ledgerflow check refund-v2.yaml (refund v2) against definitions/refund.yaml (v1)\n✓ What changed: v1 → v2',
    );
    expect(r.stdout).toContain(
      '✗ What it does to runs: 2 unsettled runs: 0 take over as is, 0 with the task map, 2 cannot\n',
    );
    for (const id of waiting)
      expect(r.stdout).toContain(
        `    ✗ refund-v2.yaml:1:1: run ${id} (WAITING, v1): refund v2 cannot take it over: event 2 (timer.fired): the candidate definition cannot accept this event: the definition has no task "cool_off" [run-cannot-take-over]\n`,
      );
    expect(r.stdout).toContain(
      '✓ What is newly untested: 2 paths, 1 expectation in expectations/refund-v2.yaml: 1 tested, 1 newly untested\n',
    );
    expect(r.stdout).toContain(
      '    ⚠ refund-v2.yaml:6:7: path "review rejected → run FAILED" is tested by no expectation: ',
    );
    // The rename is named as such; review's wait with no timeout was broken in v1 too, so it warns and does not block.
    expect(r.stdout).toContain(
      '    ⚠ refund-v2.yaml:5:7: a likely rename of cool_off to grace (the same dependencies and the same settings): migrate runs with `--map cool_off=grace` [task-renamed]\n',
    );
    expect(r.stdout).toContain('✓ The properties: 0 errors, 1 warning (1 property broken before this change too)\n');
    expect(r.stdout).toContain('(broken before this change too) [property-wait-times-out]\n');
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('✗ unsafe to deploy: 2 errors, 3 warnings');
  }, 30_000);

  it('--map takes them over with the map (exit 0), --history replays the settled run; the SARIF file is what GitHub takes', async () => {
    const r = await cli(
      [
        'check',
        'refund-v2.yaml',
        '--against',
        'definitions/refund.yaml',
        '--map',
        'cool_off=grace',
        '--history',
        '5',
        '--format',
        'sarif',
        '--output',
        'check.sarif',
      ],
      at(),
    );
    expect(r.code, r.stderr).toBe(0);
    // The text report on stdout, the SARIF in the file.
    expect(r.stdout).toContain(
      '✓ What it does to runs: 2 unsettled runs: 0 take over as is, 2 with the task map, 0 cannot; 1 settled run replayed: 1 part from their history\n',
    );
    for (const id of waiting)
      expect(r.stdout).toContain(
        `    ⚠ refund-v2.yaml:5:7: run ${id} (WAITING, v1): takes over only with the task map (cool_off=grace); migrate it with \`ledgerflow migrate refund --to refund-v2.yaml --map cool_off=grace\` [run-takes-over-with-map]\n`,
      );
    // The command the hint names works as printed (refund-v2.yaml is not in ./definitions: a version number would not).
    const hinted = /migrate it with `ledgerflow (migrate [^`]+)`/.exec(r.stdout)![1]!.split(' ');
    const dry = await cli([...hinted, '--dry-run'], at());
    expect(dry.code, dry.stderr + dry.stdout).toBe(0);
    expect(r.stdout).toContain(`settled run ${settled}: replayed under refund v2 it parts at event 2 (timer.fired)`);
    expect(r.stdout).toContain(
      '✓ safe to deploy: 0 errors, 6 warnings (warnings do not fail the gate; --strict makes them)',
    );

    const sarif = JSON.parse(readFileSync(join(dir, 'check.sarif'), 'utf8'));
    expect(sarif).toMatchObject({ $schema: 'https://json.schemastore.org/sarif-2.1.0.json', version: '2.1.0' });
    expect(sarif.runs).toHaveLength(1);
    const driver = sarif.runs[0].tool.driver;
    expect(driver).toMatchObject({ name: 'ledgerflow', informationUri: expect.stringMatching(/^https:\/\//) });
    expect(typeof driver.version).toBe('string');
    const ruleIds = driver.rules.map((x: { id: string }) => x.id);
    expect(ruleIds).toEqual([
      'path-untested',
      'property-wait-times-out',
      'run-takes-over-with-map',
      'settled-run-diverges',
      'task-added',
      'task-renamed',
    ]);
    for (const rule of driver.rules) {
      expect(rule.shortDescription.text.length).toBeGreaterThan(0);
      expect(rule.helpUri).toMatch(/^https:\/\//);
    }
    const results = sarif.runs[0].results as Record<string, any>[];
    expect(results).toHaveLength(7);
    for (const res of results) {
      expect(ruleIds).toContain(res.ruleId);
      expect(driver.rules[res.ruleIndex].id).toBe(res.ruleId);
      expect(['error', 'warning', 'note']).toContain(res.level);
      expect(res.message.text.length).toBeGreaterThan(0);
      const loc = res.locations[0].physicalLocation;
      expect(loc.artifactLocation.uri).toBe('refund-v2.yaml');
      expect(loc.region.startLine).toBeGreaterThanOrEqual(1);
      expect(loc.region.startColumn).toBeGreaterThanOrEqual(1);
    }
    expect(results.filter((x) => x.ruleId === 'run-takes-over-with-map').map((x) => x.level)).toEqual([
      'warning',
      'warning',
    ]);

    // --strict: the same warnings fail the gate.
    const strict = await cli(
      ['check', 'refund-v2.yaml', '--against', 'definitions/refund.yaml', '--map', 'cool_off=grace', '--strict'],
      at(),
    );
    expect([strict.code, strict.stdout.includes('✗ unsafe to deploy: 0 errors, 5 warnings')], strict.stdout).toEqual([
      1,
      true,
    ]);
  }, 30_000);

  it('without --against the other version in ./definitions is taken; the JUnit report is well-formed, a testsuite per section', async () => {
    copyFileSync(join(dir, 'refund-v2.yaml'), join(dir, 'definitions', 'refund-v2.yaml'));
    mkdirSync(join(dir, 'definitions', 'expectations'), { recursive: true });
    copyFileSync(
      join(dir, 'expectations', 'refund-v2.yaml'),
      join(dir, 'definitions', 'expectations', 'refund-v2.yaml'),
    );
    const junit = await cli(['check', 'definitions/refund-v2.yaml', '--format', 'junit'], at());
    expect(junit.code, junit.stderr).toBe(1);
    const xml = junit.stdout;
    expectWellFormedXml(xml);
    const suites = [...xml.matchAll(/<testsuite name="([^"]+)" tests="(\d+)" failures="(\d+)"/g)].map((m) => [
      m[1],
      Number(m[2]),
      Number(m[3]),
    ]);
    expect(suites).toEqual([
      ['What changed', 2, 0],
      ['What it does to runs', 2, 2],
      ['What is newly untested', 2, 0],
      ['The properties', 1, 0],
    ]);
    expect(xml).toMatch(
      /^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="ledgerflow check refund" tests="7" failures="2"/,
    );
    expect(xml).toContain('<failure message="run ');
    expect(xml).toContain('path &quot;review rejected → run FAILED&quot;');

    const json = await cli(['check', 'definitions/refund-v2.yaml', '--json'], at());
    expect(json.code, json.stderr).toBe(1);
    const report = JSON.parse(json.stdout) as Report;
    expect(report).toMatchObject({
      workflowId: 'refund',
      safe: false,
      against: { file: 'definitions/refund.yaml', version: 1, source: 'definitions' },
    });
    const runs = report.sections.find((s) => s.section === 'runs')!;
    expect(runs.findings.map((f) => [f.rule, f.level, f.runId, f.location])).toEqual(
      waiting.map((id) => [
        'run-cannot-take-over',
        'error',
        id,
        { file: 'definitions/refund-v2.yaml', line: 1, col: 1 },
      ]),
    );
    embeddedJson = report;
  }, 30_000);

  it('bad usage is exit 2 and says what to fix', async () => {
    writeFileSync(
      join(dir, 'other.yaml'),
      'workflow:\n  id: other\n  version: 1\n  tasks:\n    - { id: a, type: SET, values: { x: 1 } }\n',
    );
    for (const [args, why] of <Array<[string[], string]>>[
      [['check', 'refund-v2.yaml', '--format', 'pdf'], '--format is one of text, json, sarif, junit'],
      [['check', 'refund-v2.yaml', '--against', 'other.yaml'], '--against other.yaml is workflow other, not refund'],
      [['check', 'missing.yaml'], 'cannot read definition missing.yaml'],
      [['check', 'refund-v2.yaml', '--map', 'cool_off=nope'], '--map cool_off=nope: refund v2 has no task "nope"'],
      [['check', 'refund-v2.yaml', '--history', 'all'], '--history is a number of settled runs'],
    ]) {
      const r = await cli(args, at());
      expect([r.code, r.stderr.includes(why)], `${args.join(' ')}: ${r.stderr}`).toEqual([2, true]);
    }
  }, 30_000);
});

describe.skipIf(noNats)('check over NATS: the deployed version, the same runs section and --json shape', () => {
  const c = useCluster({ server: 'shared', engines: 1 });

  it('runs waiting under the deployed v1 cannot take over v2; the report has the embedded store’s shape', async () => {
    const id = uniqueId('refund_');
    const files = docsFiles();
    const v1 = parseDefinition(files['definitions/refund.yaml']!.replace('id: refund', `id: ${id}`), 'refund.yaml');
    await c.client.deploy(v1.definition!);
    const { runId } = await c.client.start(id, {});
    await waitFor(
      `run ${runId} waiting for review`,
      async () => (await c.runs.status(runId))?.tasks.review?.status === 'PENDING_APPROVAL',
      { timeout: 30_000 },
    );
    const d = tempDir('lf-check-nats-');
    writeFileSync(join(d, 'refund-v2.yaml'), files['refund-v2.yaml']!.replace('id: refund', `id: ${id}`));
    const r = await cli(['--nats', c.url, 'check', 'refund-v2.yaml', '--json'], { cwd: d });
    expect(r.code, r.stderr).toBe(1);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.against).toEqual({ file: null, version: 1, source: 'deployed' });
    const runs = report.sections.find((s) => s.section === 'runs')!;
    expect(runs.summary).toBe('1 unsettled run: 0 take over as is, 0 with the task map, 1 cannot');
    expect(runs.findings).toEqual([
      expect.objectContaining({
        rule: 'run-cannot-take-over',
        level: 'error',
        runId,
        location: { file: 'refund-v2.yaml', line: 1, col: 1 },
        message: expect.stringContaining('event 2 (timer.fired)'),
      }),
    ]);
    // One shape on both stores (when the embedded test ran in this process).
    if (embeddedJson) {
      const embeddedRuns = embeddedJson.sections.find((s) => s.section === 'runs')!;
      expect(shape(runs.findings[0])).toEqual(shape(embeddedRuns.findings[0]));
      expect(report.sections.map((s) => [s.section, Object.keys(s).sort()])).toEqual(
        embeddedJson.sections.map((s) => [s.section, Object.keys(s).sort()]),
      );
      expect(shape({ ...report, against: { ...report.against, file: 'x' } })).toEqual(
        shape({ ...embeddedJson, against: { ...embeddedJson.against, file: 'x' } }),
      );
    }
  }, 90_000);
});

describe('docs/check.md, runs sealed at rest: a gate without the data key', () => {
  it('judges a run whose course turned on a sealed value only up to there (run-sealed-unjudged), never as cannot', async () => {
    const dir = tempDir('lf-check-sealed-');
    const files = docsFiles();
    writeFileSync(join(dir, 'triage.yaml'), files['triage.yaml']!);
    writeFileSync(join(dir, 'triage-v2.yaml'), files['triage-v2.yaml']!);
    const key = { LEDGERFLOW_SECRET_LF_DATA_KEY: Buffer.alloc(32, 7).toString('base64') };
    const none = { LEDGERFLOW_SECRET_LF_DATA_KEY: '' };
    const ran = await cli(['run', 'triage.yaml'], { cwd: dir, env: key });
    expect(ran.stdout, ran.stderr).toContain('WAITING');
    const runId = /run (\S+) WAITING/.exec(ran.stdout)![1]!;
    const check = (env: Record<string, string>, ...more: string[]) =>
      cli(['check', 'triage-v2.yaml', '--against', 'triage.yaml', '--json', ...more], { cwd: dir, env });
    const runsOf = (out: string) => (JSON.parse(out) as Report).sections.find((s) => s.section === 'runs')!;

    const keyed = await check(key);
    expect(keyed.code, keyed.stdout + keyed.stderr).toBe(0);
    expect(runsOf(keyed.stdout).findings).toEqual([]);
    expect(runsOf(keyed.stdout).summary).toContain('1 take over as is');

    const blind = await check(none);
    expect(blind.code, blind.stdout + blind.stderr).toBe(0);
    const runs = runsOf(blind.stdout);
    expect(runs.findings).toEqual([expect.objectContaining({ rule: 'run-sealed-unjudged', level: 'warning', runId })]);
    expect(runs.findings[0]!.message).toContain('from event 3');
    expect(runs.summary).toContain('0 cannot');
    expect(runs.summary).toContain('1 judged only up to where their course turned on sealed values');
    expect((await check(none, '--strict')).code).toBe(1);

    // migrate --dry-run, the same judgement: not judged past event 2 without the key, and a real migrate refused.
    const dry = await cli(['migrate', 'triage', '--to', 'triage-v2.yaml', '--dry-run', '--json'], {
      cwd: dir,
      env: none,
    });
    expect(dry.code, dry.stderr).toBe(0);
    const judged = JSON.parse(dry.stdout) as { as_is: number; unjudged: number; runs: Record<string, unknown>[] };
    expect(judged).toMatchObject({ as_is: 0, unjudged: 1 });
    expect(judged.runs[0]).toMatchObject({ runId, status: 'WAITING', sealedFrom: { seq: 3, task: 'assess' } });
    const real = await cli(['migrate', 'triage', '--to', 'triage-v2.yaml'], { cwd: dir, env: none });
    expect(real.code).not.toBe(0);
    expect(real.stderr + real.stdout).toContain('LF_DATA_KEY');
    const keyedDry = await cli(['migrate', 'triage', '--to', 'triage-v2.yaml', '--dry-run', '--json'], {
      cwd: dir,
      env: key,
    });
    expect(JSON.parse(keyedDry.stdout)).toMatchObject({ as_is: 1, unjudged: 0 });
  }, 60_000);
});
