/**
 * What changed between two versions (docs/check.md#what-changed): the page's own example, each rule about tasks and
 * decision cases from a small pair of versions with the place in the new file it points at, a likely rename, and
 * nothing for versions that are the same (the bundled definitions among them). Inputs and outputs: diff-io.test.ts.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diffDefinitions, parentsIn, type CheckedDefinition } from '../../src/check/index.js';
import { definitionFilesIn, loadDefinitionFile } from '../../src/files/index.js';
import { markedBlock } from '../docs/markdown.js';
import { ROOT, tempDir } from '../helpers/cli.js';
import { BASE, brief, checked, diff, ROUTE, withLabel } from './versions.js';

describe('docs/check.md: what changed', () => {
  const page = readFileSync(join(ROOT, 'docs', 'check.md'), 'utf8');
  const block = (marker: string) => `${markedBlock(page, marker).join('\n')}\n`;

  it("finds what the page's table shows for its pair, with the parent read from the folder, errors first", () => {
    const dir = tempDir('lf-check-');
    mkdirSync(join(dir, 'definitions'));
    mkdirSync(join(dir, 'releases'));
    writeFileSync(join(dir, 'releases', 'order_check.v1.yaml'), block('check-before'));
    writeFileSync(join(dir, 'definitions', 'order_check.yaml'), block('check-after'));
    writeFileSync(join(dir, 'definitions', 'order_batch.yaml'), block('check-parent'));
    // As the command gives them: the files as named on its command line, relative to where it runs.
    const load = (file: string) => ({ ...loadDefinitionFile(join(dir, file)), file });
    const after = load('definitions/order_check.yaml');
    const parents = parentsIn(join(dir, 'definitions'), after.definition.id).map((p) => ({
      ...p,
      file: p.file.slice(dir.length + 1),
    }));
    expect(parents.map((p) => p.file)).toEqual(['definitions/order_batch.yaml']);
    const findings = diffDefinitions(load('releases/order_check.v1.yaml'), after, { parents });
    const rows = page
      .slice(page.indexOf('<!-- check-findings'))
      .split('\n')
      .filter((l) => /^\| [a-z-]+ \| (error|warning|note) \|/.test(l));
    expect(rows).toHaveLength(10);
    const shown = findings.map(
      (f) => `| ${f.rule} | ${f.level} | ${f.location.file}:${f.location.line}:${f.location.col} | ${f.message} |`,
    );
    expect(shown).toEqual(rows);
    expect(findings.every((f) => f.section === 'change')).toBe(true);
  });

  it('lists every rule the diff gives in its table of rules, with the levels it gives them', () => {
    const table = page.slice(page.indexOf('### The rules'));
    const listed = new Set(
      [...table.matchAll(/^\| `([a-z-]+)` \| (error|warning|note) \|/gm)].map((m) => `${m[1]} ${m[2]}`),
    );
    for (const rule of [
      'task-added note',
      'task-removed error',
      'task-removed warning',
      'task-renamed warning',
      'task-type-changed error',
      'dependencies-changed warning',
      'decision-case-added note',
      'decision-case-removed error',
      'decision-case-removed warning',
      'decision-case-changed warning',
      'input-newly-required error',
      'input-removed warning',
      'output-removed error',
      'output-removed warning',
      'output-removed note',
      'task-settings-changed note',
    ])
      expect(listed).toContain(rule);
    expect(listed.size).toBe(16);
  });
});

describe('tasks', () => {
  it('task-added: a note at the new task', () => {
    const fs = diff(BASE, withLabel);
    expect(brief(fs)).toEqual(['task-added note new.yaml:19:7']);
    expect(fs[0]!.task).toBe('label');
  });

  it('task-removed: a warning at the `tasks:` key when nothing waited for it, at the task that did when one did', () => {
    expect(brief(diff(withLabel, BASE))).toEqual(['task-removed warning new.yaml:8:3']);
    const withoutPack = withLabel
      .replace(/ {4}- id: pack\n(?: {6}.*\n)+?(?= {4}- id: label)/, '')
      .replace('depends_on: [pack]', 'depends_on: [pick]');
    const fs = diff(withLabel, withoutPack);
    expect(brief(fs)).toEqual(['task-removed warning new.yaml:14:7', 'dependencies-changed warning new.yaml:17:7']);
    expect(fs[0]!.message).toBe(
      'task pack (SIMPLE) is removed (label waited for it): runs at it cannot move to this version as they are; see `ledgerflow migrate ship --to new.yaml --dry-run`',
    );
    expect(fs[1]!.message).toBe(
      'task label now waits for pick and no longer waits for pack: check what it reads is still there when it starts',
    );
  });

  it('task-removed: an error when the new version still reads it (one known without its text points at 1:1)', () => {
    const old = checked(BASE, 'old.yaml');
    const registry: CheckedDefinition = {
      definition: { ...old.definition, tasks: old.definition.tasks.filter((t) => t.id !== 'pick') },
      file: 'order-v2 (registry)',
    };
    const fs = diffDefinitions(old, registry).filter((f) => f.rule === 'task-removed');
    expect(fs).toEqual([
      {
        section: 'change',
        rule: 'task-removed',
        level: 'error',
        message: 'task pick is removed but task pack still reads ${pick.output.box}: remove that or keep the task',
        location: { file: 'order-v2 (registry)', line: 1, col: 1 },
        task: 'pick',
      },
    ]);
  });

  it('task-renamed: a likely rename named as such, with the --map to migrate with, and nothing else', () => {
    const renamed = BASE.replace('- id: pack', '- id: box_up');
    const fs = diff(BASE, renamed);
    expect(brief(fs)).toEqual(['task-renamed warning new.yaml:14:7']);
    expect(fs[0]!.message).toBe(
      'a likely rename of pack to box_up (the same handler pack, the same dependencies and the same settings): migrate runs with `--map pack=box_up`',
    );
  });

  it('a task of another type and other settings is no rename: one removed, one added', () => {
    const other = BASE.replace('- id: pack\n      type: SIMPLE\n      handler: pack', '- id: wrap\n      type: HUMAN');
    expect(brief(diff(BASE, other)).sort()).toEqual([
      'task-added note new.yaml:14:7',
      'task-removed warning new.yaml:8:3',
    ]);
  });

  it('task-type-changed: an error at its type', () => {
    const fs = diff(BASE, BASE.replace('type: SIMPLE\n      handler: pack', 'type: HUMAN'));
    expect(brief(fs)).toEqual(['task-type-changed error new.yaml:15:13']);
    expect(fs[0]!.message).toBe(
      'task pack was SIMPLE and is now HUMAN: a run that reached it cannot carry its state over; give the HUMAN task a new id',
    );
  });

  it('dependencies-changed: a warning at depends_on naming what it waits for now', () => {
    const weigh = BASE.replace(
      '    - id: pack\n',
      '    - id: weigh\n      type: SIMPLE\n      handler: weigh\n    - id: pack\n',
    ).replace('depends_on: [pick]', 'depends_on: [pick, weigh]');
    const fs = diff(BASE, weigh);
    expect(brief(fs)).toEqual(['dependencies-changed warning new.yaml:20:7', 'task-added note new.yaml:14:7']);
    expect(fs[0]!.message).toMatch(/^task pack now waits for weigh:/);
  });

  it('task-settings-changed: a note at the first setting that changed, naming each', () => {
    const changed = BASE.replace(
      '      handler: pick\n',
      '      handler: pick_v2\n      retry_policy: { max_attempts: 3 }\n      timeout: 30s\n',
    );
    const fs = diff(BASE, changed);
    expect(brief(fs)).toEqual(['task-settings-changed note new.yaml:12:7']);
    expect(fs[0]!.message).toBe(
      'task pick: retries 1 attempt → 3 attempts, timeout none → 30s, handler pick → pick_v2; attempts started after the deploy use the new settings',
    );
  });
});

describe('decision cases', () => {
  it('decision-case-added: a note at the new case', () => {
    const huge = ROUTE.replace(
      '        big:',
      '        huge: { condition: "workflow.input.amount > 10000", next: [big_path] }\n        big:',
    );
    expect(brief(diff(ROUTE, huge))).toEqual(['decision-case-added note new.yaml:12:9']);
  });

  it('decision-case-removed: an error when runs could take it, at the decision_cases key', () => {
    const fs = diff(ROUTE, ROUTE.replace(/ {8}small: .*\n/, ''));
    expect(brief(fs)).toEqual(['decision-case-removed error new.yaml:11:7']);
    expect(fs[0]!.message).toBe(
      'decision decide lost case small (to small_path), which runs of the old version could take: keep the case, or migrate those runs first',
    );
  });

  it('decision-case-removed: a warning when no run could take it (its condition is plainly false)', () => {
    const never = ROUTE.replace('"workflow.input.amount <= 100"', '"false"');
    const fs = diff(never, never.replace(/ {8}small: .*\n/, ''));
    expect(brief(fs)).toEqual(['decision-case-removed warning new.yaml:11:7']);
  });

  it('decision-case-changed: a warning at the case naming the old and new condition or targets', () => {
    const fs = diff(ROUTE, ROUTE.replace('amount > 100"', 'amount > 500"'));
    expect(brief(fs)).toEqual(['decision-case-changed warning new.yaml:12:9']);
    expect(fs[0]!.message).toBe(
      'decision decide, case big: its condition was "workflow.input.amount > 100" and is "workflow.input.amount > 500"; runs that reach it after the deploy are routed the new way',
    );
    const retarget = diff(ROUTE, ROUTE.replace('next: [big_path]', 'next: [small_path]'));
    expect(retarget.map((f) => f.message)).toContainEqual(
      'decision decide, case big: it went to big_path and goes to small_path; runs that reach it after the deploy are routed the new way',
    );
  });

  it('a renamed target is the same target: the rename alone is said', () => {
    const renamed = ROUTE.replace('[big_path]', '[large_path]').replace('- id: big_path', '- id: large_path');
    expect(brief(diff(ROUTE, renamed))).toEqual(['task-renamed warning new.yaml:14:7']);
  });
});

describe('no change', () => {
  it('two versions that are the same give no findings, the version number aside', () => {
    expect(diff(BASE, BASE)).toEqual([]);
    expect(diff(BASE, BASE.replace('version: 1', 'version: 2'))).toEqual([]);
    expect(diff(ROUTE, ROUTE)).toEqual([]);
  });

  it('every bundled definition compared with itself gives nothing', () => {
    const files = definitionFilesIn(join(ROOT, 'definitions'));
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) {
      const loaded = loadDefinitionFile(file);
      expect(diffDefinitions(loaded, loaded, { parents: [] }), file).toEqual([]);
    }
  });
});
