/**
 * The template library from a user's side: `ledgerflow templates` lists the
 * catalogue, `ledgerflow new` copies a template into a project directory
 * (renamed with --id) where it validates, tests and runs; a name that exists
 * or a template that does not is refused with exit 2 and nothing written.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { delimiter, join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { cli, ROOT, tempDir, userProject } from '../helpers/cli.js';
import { entryFiles, loadCatalog } from '../../src/templates/index.js';

const filesUnder = (dir: string, base = dir): string[] =>
  readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory()
        ? e.name === 'node_modules'
          ? []
          : filesUnder(join(dir, e.name), base)
        : [join(dir, e.name).slice(base.length + 1)],
    )
    .filter((f) => f !== 'package.json')
    .sort();

describe('the template catalogue', () => {
  it('lists every bundled workflow once, with files that exist', () => {
    const { templates } = loadCatalog();
    const ids = templates.map((t) => t.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of [
      'inventory-validation',
      'batch-inventory-validation',
      'lead_qualification',
      'revenue_milestone',
      'compliance_alerts',
      'folder-audit',
      'station-deployment',
    ])
      expect(ids).toContain(id);
    for (const t of templates) expect(entryFiles(t).length, t.id).toBeGreaterThan(0);
    // Every workflow in definitions/ is some template's definition or sub-workflow.
    const listed = new Set(templates.flatMap((t) => [t.definition, ...t.sub_workflows]));
    for (const f of readdirSync(join(ROOT, 'definitions')).filter((n) => n.endsWith('.yaml')))
      expect(listed.has(`definitions/${f}`), f).toBe(true);
  });

  it('ledgerflow templates prints each with its command; --json the entries', async () => {
    const [text, json] = await Promise.all([cli(['templates']), cli(['templates', '--json'])]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^inventory-validation\s+Inventory validation/m);
    expect(text.stdout).toContain('$ ledgerflow run definitions/batch-inventory-validation.yaml');
    expect(JSON.parse(json.stdout)).toEqual(loadCatalog().templates);
  });
});

describe('ledgerflow new', () => {
  it('copies a template renamed with --id; the copy validates and runs from the project directory, its receipt in its own folder', async () => {
    const dir = userProject();
    const made = await cli(['new', 'inventory-validation', '--id', 'depot-check', '--dir', dir]);
    expect(made.code, made.stderr).toBe(0);
    expect(made.stdout).toContain('as workflow depot-check');
    expect(filesUnder(dir)).toEqual(
      expect.arrayContaining([
        'definitions/depot-check.yaml',
        'definitions/expectations/depot-check.yaml',
        'definitions/handlers/depot-check/inventory.ts',
        'definitions/samples/0UT.3OX/README.md',
        'definitions/samples/INVENTORY.POLICY.yaml',
      ]),
    );
    const def = readFileSync(join(dir, 'definitions/depot-check.yaml'), 'utf8');
    expect(def).toContain('id: "depot-check"');
    expect(def).toContain('handlers: "./handlers/depot-check/inventory.ts"');
    // Everything else as the template wrote it (the seed's banner and comments included).
    const original = readFileSync(join(ROOT, 'definitions/inventory-validation.yaml'), 'utf8');
    expect(
      def.replace('depot-check/inventory.ts', 'inventory.ts').replace('"depot-check"', '"inventory-validation-v1"'),
    ).toBe(original);

    // validate and test only read the copy: side by side.
    const [validated, tested] = await Promise.all([
      cli(['validate', 'definitions/depot-check.yaml'], { cwd: dir }),
      cli(['test', 'definitions/depot-check.yaml'], { cwd: dir }),
    ]);
    expect(validated.code).toBe(0);
    expect(tested.code, tested.stdout).toBe(0);
    expect(tested.stdout).toMatch(/expectation: /);
    const run = await cli(
      [
        '--store',
        join(dir, 'store'),
        'run',
        'definitions/depot-check.yaml',
        '--target_folder',
        'definitions/samples/0UT.3OX',
        '--policy_file',
        'definitions/samples/INVENTORY.POLICY.yaml',
        '--json',
      ],
      { cwd: dir },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ workflowId: 'depot-check', status: 'COMPLETED' });
    const receipt = parse(readFileSync(join(dir, 'definitions/samples/0UT.3OX/VALIDATION.RECEIPT.yaml'), 'utf8'));
    expect(receipt.receipt).toMatchObject({
      folder: 'definitions/samples/0UT.3OX',
      workflow: 'depot-check',
      compliance_status: 'PASS',
    });
  });

  it('takes a template name spelled with - or _ either way (revenue-milestone is revenue_milestone)', async () => {
    const dir = userProject();
    const made = await cli(['new', 'revenue-milestone', '--id', 'my-plan', '--dir', dir]);
    expect(made.code, made.stderr).toBe(0);
    expect(existsSync(join(dir, 'definitions/my-plan.yaml'))).toBe(true);
    const other = await cli(['new', 'daily_operations', '--id', 'my-ops', '--dir', dir]);
    expect(other.code, other.stderr).toBe(0);
    expect(existsSync(join(dir, 'definitions/my-ops.yaml'))).toBe(true);
  });

  it('renames sub-workflows with the workflow, so a second copy lives beside the first; shared samples already there are kept', async () => {
    const dir = userProject();
    expect((await cli(['new', 'folder-audit', '--id', 'north-audit', '--dir', dir])).code).toBe(0);
    const second = await cli(['new', 'folder-audit', '--id', 'south-audit', '--dir', dir, '--json']);
    expect(second.code, second.stderr).toBe(0);
    const out = JSON.parse(second.stdout);
    expect(out.workflowId).toBe('south-audit');
    expect(out.kept.map((f: string) => f.slice(dir.length + 1))).toContain('definitions/samples/audit/north/stock.csv');
    const def = readFileSync(join(dir, 'definitions/south-audit.yaml'), 'utf8');
    expect(def).toMatch(/workflow: south-audit-folder-report/);
    expect(readFileSync(join(dir, 'definitions/south-audit-folder-report.yaml'), 'utf8')).toMatch(
      /id: south-audit-folder-report/,
    );
    const [v, tested] = await Promise.all([
      cli(
        [
          'validate',
          'definitions/north-audit.yaml',
          'definitions/south-audit.yaml',
          'definitions/south-audit-folder-report.yaml',
          '--strict',
        ],
        { cwd: dir },
      ),
      cli(['test', 'definitions/south-audit.yaml', 'definitions/south-audit-folder-report.yaml'], { cwd: dir }),
    ]);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    expect(tested.code, tested.stdout).toBe(0);
    // The copy runs: its MAP starts the renamed sub-workflow per folder, then waits for the sign-off.
    const run = await cli(
      [
        '--store',
        join(dir, 'store'),
        'run',
        'definitions/south-audit.yaml',
        '--root',
        'definitions/samples/audit',
        '--json',
      ],
      { cwd: dir },
    );
    expect(run.code, run.stderr).toBe(3);
    expect(JSON.parse(run.stdout).tasks.report_each.status).toBe('COMPLETED');
  });

  it('refuses a name collision with exit 2 and writes nothing, not even the files that do not collide', async () => {
    const dir = userProject();
    mkdirSync(join(dir, 'definitions'), { recursive: true });
    writeFileSync(join(dir, 'definitions', 'lead_qualification.yaml'), '# mine\n');
    const before = filesUnder(dir);
    const r = await cli(['new', 'lead_qualification', '--dir', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/this file exists in .*: definitions\/lead_qualification\.yaml; nothing was written/);
    expect(filesUnder(dir)).toEqual(before);
    expect(readFileSync(join(dir, 'definitions', 'lead_qualification.yaml'), 'utf8')).toBe('# mine\n');
    // A shared file with other content is a collision too.
    writeFileSync(join(dir, 'definitions', 'lead_qualification.yaml'), '# mine\n');
    mkdirSync(join(dir, 'events'));
    writeFileSync(join(dir, 'events', 'revenue_milestone.yaml'), 'type: revenue_milestone\n');
    const r2 = await cli(['new', 'revenue_milestone', '--id', 'rev2', '--dir', dir, '--json']);
    expect(r2.code).toBe(2);
    expect(JSON.parse(r2.stdout).error).toMatchObject({
      code: 'LF_TEMPLATE_COLLISION',
      meta: { files: ['events/revenue_milestone.yaml'] },
    });
    expect(existsSync(join(dir, 'definitions', 'rev2.yaml'))).toBe(false);
    // Another --id cannot help there (the copies share the file), so the message does not suggest it.
    const r3 = await cli(['new', 'revenue_milestone', '--id', 'rev2', '--dir', dir]);
    expect(r3.stderr).toContain(
      'events/revenue_milestone.yaml exists with other content; every copy of the template shares it (kept only when identical): move it away, or choose another --dir',
    );
    expect(r3.stderr).not.toContain('another --id');
  });

  it('refuses an unknown template with a did-you-mean, exit 2, nothing written', async () => {
    const dir = tempDir();
    // A typo (a dash for the underscore is no typo: see 'either way' above).
    const r = await cli(['new', 'lead-qualificaton', '--dir', join(dir, 'p')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown template "lead-qualificaton"; did you mean "lead_qualification"\?/);
    expect(existsSync(join(dir, 'p'))).toBe(false);
    const bad = await cli(['new', 'lead_qualification', '--id', 'has space', '--dir', join(dir, 'p')]);
    expect(bad.code).toBe(2);
    expect(existsSync(join(dir, 'p'))).toBe(false);
  });
});

/** Runs a command line as printed, with a shell, as a user pastes it; PATH as given, no ledgerflow settings from the test run. */
function shell(
  line: string,
  cwd: string,
  path: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(LEDGERFLOW_|npm_)/i.test(k)));
  return new Promise((res) => {
    execFile('sh', ['-c', line], { cwd, env: { ...env, PATH: path, NO_COLOR: '1' } }, (err, stdout, stderr) => {
      res({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
    });
  });
}

/** A project as `npm init -y` makes it (ESM with "type": "module"), with no node_modules: ledgerflow is not installed in it. */
function bareProject(type?: 'module'): string {
  const dir = tempDir('lf-bare-');
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'my-project', version: '1.0.0', private: true, ...(type ? { type } : {}) }),
  );
  return dir;
}

/** `new revenue_milestone --id my-plan` as `ledgerflow` is reached there; returns the command it printed to run the copy. */
async function scaffold(dir: string, start: string, path: string): Promise<string> {
  const made = await shell(`${start} new revenue_milestone --id my-plan`, dir, path);
  expect(made.code, made.stderr).toBe(0);
  const printed = made.stdout.trim().split('\n').at(-1)!.trim();
  expect(printed).toContain(' emit revenue_milestone --data ');
  return printed;
}

/** The printed command ran the copy: the run's handlers (importing from 'ledgerflow') loaded and it waits for the CFO. */
function expectRan(r: { code: number | null; stdout: string; stderr: string }): void {
  expect(r.stderr).not.toContain('Cannot find module');
  expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(3);
  expect(r.stdout).toMatch(/✓ compute_metrics/);
  expect(r.stdout).toMatch(/run ev-\S+ \(my-plan\) WAITING/);
}

describe('ledgerflow new: the command it prints runs as printed, however ledgerflow is installed', () => {
  const BIN = join(ROOT, 'bin', 'ledgerflow.js');
  const PATH = process.env.PATH ?? '';

  it('a global install (ledgerflow on PATH, nothing in the project): prints `ledgerflow …`, and the copied handlers find ledgerflow', async () => {
    // As `npm install -g --prefix <p>` (or `npm link`) leaves it: <p>/bin/ledgerflow, a link to the package's bin.
    const prefix = tempDir('lf-prefix-');
    mkdirSync(join(prefix, 'bin'));
    symlinkSync(BIN, join(prefix, 'bin', 'ledgerflow'));
    const path = `${join(prefix, 'bin')}${delimiter}${PATH}`;
    // A CommonJS project and an ESM one, each in a folder of its own: side by side.
    await Promise.all(
      [undefined, 'module' as const].map(async (type) => {
        const dir = bareProject(type);
        const printed = await scaffold(dir, 'ledgerflow', path);
        expect(printed).toMatch(/^ledgerflow emit /);
        expectRan(await shell(printed, dir, path));
      }),
    );
  });

  it("the seed's template copied into an empty folder (`new inventory-validation --id inv2 --dir .`) runs as printed, and a receipt a tour run left in the samples is not copied", async () => {
    // A tour run writes the receipt into the clone's sample folder (gitignored): one is there when `new` copies.
    const leftover = join(ROOT, 'definitions', 'samples', '0UT.3OX', 'VALIDATION.RECEIPT.yaml');
    if (!existsSync(leftover)) writeFileSync(leftover, 'receipt: { folder: left over by a tour run }\n');
    const dir = tempDir('lf-empty-');
    const made = await shell(`node ${BIN} new inventory-validation --id inv2 --dir .`, dir, PATH);
    expect(made.code, made.stderr).toBe(0);
    expect(existsSync(join(dir, 'definitions', 'samples', '0UT.3OX', 'VALIDATION.RECEIPT.yaml'))).toBe(false);
    const printed = made.stdout.trim().split('\n').at(-1)!.trim();
    const ran = await shell(printed, dir, PATH);
    expect(ran.stderr).not.toContain('Cannot find module');
    expect(ran.code, `${ran.stdout}\n${ran.stderr}`).toBe(0);
    expect(ran.stdout).toMatch(/run \S+ COMPLETED/);
    expect(existsSync(join(dir, 'definitions', 'samples', '0UT.3OX', 'VALIDATION.RECEIPT.yaml'))).toBe(true);
  });

  it('a clone run with node (no ledgerflow on PATH, nothing in the project): prints `node <clone>/bin/ledgerflow.js …`', async () => {
    await Promise.all(
      [undefined, 'module' as const].map(async (type) => {
        const dir = bareProject(type);
        const printed = await scaffold(dir, `node ${BIN}`, PATH);
        expect(printed).toMatch(new RegExp(`^node ${BIN.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} emit `));
        expectRan(await shell(printed, dir, PATH));
      }),
    );
  });

  it("a local install (node_modules/.bin/ledgerflow): prints `npx ledgerflow …`, which runs the project's own", async () => {
    const dir = userProject();
    mkdirSync(join(dir, 'node_modules', '.bin'));
    symlinkSync('../ledgerflow/bin/ledgerflow.js', join(dir, 'node_modules', '.bin', 'ledgerflow'));
    const printed = await scaffold(dir, 'npx --no ledgerflow', PATH);
    expect(printed).toMatch(/^npx ledgerflow emit /);
    expectRan(await shell(printed, dir, PATH));
  });
});
