/**
 * `ledgerflow verify` as docs/verify.md shows it, through the built CLI: the page's refund.yaml and commands, the
 * counter-example saved and run by `ledgerflow test`, the fix proven by the same path, --json, exit codes. And every
 * bundled definition and importable Conductor fixture verified within seconds (in process: the suite is CPU-bound).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDefinition } from '../../src/definition/index.js';
import { loadDefinitionFile } from '../../src/files/index.js';
import { importConductor } from '../../src/import/index.js';
import { verifyDefinition } from '../../src/verify/index.js';
import { cli, ROOT, tempDir } from '../helpers/cli.js';

const PAGE = readFileSync(join(ROOT, 'docs', 'verify.md'), 'utf8');
/** The page's YAML blocks, in order: refund.yaml, then the fix of pay_refund. */
const blocks = [...PAGE.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
const REFUND = blocks[0]!;
const FIX = blocks[1]!;
const FIXED = REFUND.replace(/ {4}- id: pay_refund\n[\s\S]*?(?= {4}- id: notify_customer)/, FIX);

describe('ledgerflow verify (docs/verify.md)', () => {
  it("prints each property with ✓/✗ and a broken one's counter-example, numbered; --save, then test runs it; the fix passes", async () => {
    expect(FIXED).toContain('depends_on: [approve_refund]\n    - id: notify_customer');
    const dir = tempDir('lf-verify-');
    writeFileSync(join(dir, 'refund.yaml'), REFUND);

    const r = await cli(['verify', 'refund.yaml'], { cwd: dir });
    expect(r.code).toBe(1);
    // Every line the page shows is printed (the page elides the task-can-run lines with ...).
    const shown = PAGE.slice(PAGE.indexOf('$ ledgerflow verify refund.yaml\n'))
      .split('```')[0]!
      .split('\n')
      .slice(1)
      .filter((l) => l.trim() !== '' && l.trim() !== '...');
    for (const line of shown) expect(r.stdout).toContain(line);

    const saved = await cli(['verify', 'refund.yaml', '--save'], { cwd: dir });
    expect(saved.code).toBe(1);
    expect(saved.stdout).toContain(
      'saved 1 counter-example to expectations/refund.yaml: `ledgerflow test refund.yaml` runs them',
    );
    const file = readFileSync(join(dir, 'expectations', 'refund.yaml'), 'utf8');
    expect(file).toContain('name: "verify: always_before pay_refund: pay_refund runs before approve_refund completed"');
    const tested = await cli(['test', 'refund.yaml'], { cwd: dir });
    expect(tested.code).toBe(0);
    expect(tested.stdout).toContain(
      '✓ expectation: verify: always_before pay_refund: pay_refund runs before approve_refund completed',
    );

    writeFileSync(join(dir, 'refund.yaml'), FIXED);
    const fixed = await cli(['verify', 'refund.yaml'], { cwd: dir });
    expect(fixed.code).toBe(0);
    expect(fixed.stdout).toContain('✓ always_before pay_refund: pay_refund runs only after approve_refund completed');
    expect(fixed.stdout).toContain('all 9 properties hold');
    // The saved path, run on the fixed definition: the proof of the fix on the same path.
    const again = await cli(['test', 'refund.yaml'], { cwd: dir });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('✓ expectation: verify: always_before pay_refund');
  });

  it('--save appends to an expectations file, keeping what it holds byte for byte, and does not save twice', async () => {
    const dir = tempDir('lf-verify-');
    writeFileSync(join(dir, 'refund.yaml'), REFUND);
    mkdirSync(join(dir, 'expectations'));
    const mine = [
      '# my own cases',
      'expectations:',
      '  - name: approved and paid   # the happy one',
      '    expect: { status: COMPLETED }',
      '',
      '# trailing note',
      '',
    ].join('\n');
    writeFileSync(join(dir, 'expectations', 'refund.yaml'), mine);
    expect((await cli(['verify', 'refund.yaml', '--save', '--json'], { cwd: dir })).code).toBe(1);
    const after = readFileSync(join(dir, 'expectations', 'refund.yaml'), 'utf8');
    expect(after.startsWith(mine.slice(0, mine.indexOf('\n\n# trailing')))).toBe(true);
    expect(after).toContain('# trailing note');
    expect(after).toMatch(/\n {2}- name: "verify: always_before pay_refund/);
    const twice = await cli(['verify', 'refund.yaml', '--save'], { cwd: dir });
    expect(twice.stdout).toContain('has these counter-examples already');
    expect(readFileSync(join(dir, 'expectations', 'refund.yaml'), 'utf8')).toBe(after);
    const tested = await cli(['test', 'refund.yaml', '--json'], { cwd: dir });
    expect(JSON.parse(tested.stdout).files[0].expectations.map((e: { ok: boolean }) => e.ok)).toEqual([true, true]);
  });

  it('--json prints { holds, files } with each property, its counter-example and the bound; exit codes 0, 1, 2', async () => {
    const r = await cli([
      'verify',
      'definitions/station-rollback.yaml',
      'definitions/inventory-validation.yaml',
      '--json',
    ]);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out)).toEqual(['holds', 'files']);
    expect(out.holds).toBe(false);
    const [rollback, inventory] = out.files;
    expect(Object.keys(rollback)).toEqual(['file', 'workflowId', 'states', 'bounded', 'bound', 'properties']);
    expect(rollback.properties.every((p: { holds: boolean }) => p.holds)).toBe(true);
    expect(rollback.bound).toEqual({ maxStates: 20000, loopIterations: 5, mapItems: 2, pathsUpTo: 15, reached: [] });
    const broken = inventory.properties.find((p: { holds: boolean }) => !p.holds);
    expect(broken).toMatchObject({ property: 'decision-covered', task: 'decision_gate' });
    expect(Object.keys(broken.counterExample)).toEqual(['steps', 'expectation']);

    expect((await cli(['verify', 'definitions/station-rollback.yaml'])).code).toBe(0);
    const bounded = await cli(['verify', 'definitions/station-deployment.yaml', '--max-states', '50']);
    expect(bounded.stdout).toMatch(
      /explored 50 states, bound reached \(50 states\): results hold for paths up to \d+ steps/,
    );
    const usage = await cli(['verify', 'definitions/station-rollback.yaml', '--max-states', 'many']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--max-states many must be a whole number of at least 1');
  });

  it('validate hints at verify where it sees a built-in property fail; an unknown task in properties: is exit 2', async () => {
    const dir = tempDir('lf-verify-');
    writeFileSync(
      join(dir, 'sign.yaml'),
      'workflow:\n  id: sign\n  properties:\n    eventually: [sgn]\n  tasks:\n    - { id: sign, type: HUMAN }\n',
    );
    const bad = await cli(['validate', 'sign.yaml'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(
      'sign.yaml:4:18: error: unknown task "sgn" in properties.eventually; did you mean "sign"?',
    );
    writeFileSync(join(dir, 'sign.yaml'), 'workflow:\n  id: sign\n  tasks:\n    - { id: sign, type: HUMAN }\n');
    const ok = await cli(['validate', 'sign.yaml'], { cwd: dir });
    expect(ok.code).toBe(0);
    expect(ok.stderr).toContain(
      'hint: sign may wait forever (no timeout:, no wait_forever: true): run `ledgerflow verify sign.yaml` for the path that shows it',
    );
  });
});

describe('verify finishes within seconds', () => {
  const SECONDS = 10;
  it('on every bundled definition', () => {
    const dir = join(ROOT, 'definitions');
    const times: Record<string, number> = {};
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.yaml'))) {
      const started = performance.now();
      const r = verifyDefinition(loadDefinitionFile(join(dir, f)).definition);
      times[f] = Math.round(performance.now() - started);
      expect(r.states, f).toBeGreaterThan(0);
      expect(times[f], f).toBeLessThan(SECONDS * 1000);
    }
    expect(Object.keys(times).length).toBeGreaterThanOrEqual(20);
  });

  it('on every importable Conductor fixture', () => {
    const dir = join(ROOT, 'test', 'fixtures', 'conductor');
    let verified = 0;
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.json'))) {
      for (const d of importConductor(readFileSync(join(dir, f), 'utf8'), f).definitions) {
        const started = performance.now();
        const r = verifyDefinition(parseDefinition(d.yaml).definition!);
        expect(performance.now() - started, f).toBeLessThan(SECONDS * 1000);
        expect(r.states, f).toBeGreaterThan(0);
        verified++;
      }
    }
    expect(verified).toBe(5);
    expect(existsSync(join(dir, 'unsupported.json'))).toBe(true);
  });
});
