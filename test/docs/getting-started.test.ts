/**
 * docs/getting-started.md is what a newcomer reads after the README, and it
 * states what the commands print: the demo's runs, summary, files and
 * commands (`<!-- demo-output -->`), the inventory validation's task lines
 * (`<!-- inventory-output -->`) and its warnings (`<!-- inventory-warnings -->`,
 * and how many the prose says), and what the failure steps do when a run
 * fails. Each is run here as a user runs it, in a project with ledgerflow
 * installed, and compared with the page, so the page cannot go stale
 * silently. Times and run ids differ run to run and are compared as shapes.
 * Needs dist/ (`npm run build`).
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../helpers/cli.js';
import { markedBlock } from './markdown.js';

const PAGE = readFileSync(join(ROOT, 'docs', 'getting-started.md'), 'utf8');

function sh(
  command: string,
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('sh', ['-c', command], { cwd, env, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** A line with its run ids, times, stamps and store folders said as placeholders. */
const shape = (line: string) =>
  line
    .replace(/\b\d{8}-\d{6}-[0-9a-z]+\b/g, '<run>')
    .replace(/\b\d+(?:\.\d+)?m?s\b/g, '<time>')
    .replace(/--store \S+/g, '--store <store>')
    .trimEnd();

const lines = (text: string) =>
  text
    .split('\n')
    .map(shape)
    .filter((l) => l.trim() !== '');

const NUMBER_WORDS = ['no', 'one', 'two', 'three', 'four', 'five'];

let dir = '';
let env: NodeJS.ProcessEnv = {};

describe('docs/getting-started.md', () => {
  beforeAll(() => {
    // A project with ledgerflow installed and the bundled definitions copied in: the page's paths are relative to it.
    dir = tempDir('lf-getting-started-');
    cpSync(join(ROOT, 'definitions'), join(dir, 'definitions'), { recursive: true });
    mkdirSync(join(dir, 'node_modules', '.bin'), { recursive: true });
    symlinkSync(join(ROOT, 'bin', 'ledgerflow.js'), join(dir, 'node_modules', '.bin', 'ledgerflow'));
    env = { ...process.env, LEDGERFLOW_STORE: join(dir, 'store'), NO_COLOR: '1' };
    delete env.LEDGERFLOW_NATS_URL;
  });

  it('shows what the inventory validation prints: its task lines on stdout, and as many warnings as it says, each as printed', async () => {
    const [command] = markedBlock(PAGE, 'inventory-run');
    const r = await sh(command!, env, dir);
    expect(r.code, r.stderr).toBe(0);
    // Two tasks start side by side: the order of their lines may differ from the page's.
    expect(lines(r.stdout).sort()).toEqual(lines(markedBlock(PAGE, 'inventory-output').join('\n')).sort());
    const warnings = markedBlock(PAGE, 'inventory-warnings');
    expect(lines(r.stderr)).toEqual(lines(warnings.join('\n')));
    const said = /It also prints (\w+) warnings?\b/.exec(PAGE)?.[1];
    expect(said, 'the page says how many warnings it prints').toBeDefined();
    expect(NUMBER_WORDS.indexOf(said!)).toBe(warnings.length);
  }, 120_000);

  it('says what happens when a run of it fails: the failure steps run in <runId>-failure and write the incident and the preserved state', async () => {
    expect(PAGE).toMatch(/its `failure_workflow` steps run/);
    // A recommended file missing is the FAIL_SOFT case the page names, which fails the run.
    writeFileSync(join(dir, 'soft.yaml'), 'required_files: [README.md]\nrecommended_files: [NOTES.md]\n');
    const r = await sh(
      'npx ledgerflow run definitions/inventory-validation.yaml --target_folder definitions/samples/0UT.3OX --policy_file soft.yaml',
      env,
      dir,
    );
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const runId = /^run (\S+) FAILED$/m.exec(r.stdout)?.[1];
    expect(runId, r.stdout).toBeDefined();
    for (const step of ['log_to_incident', 'notify_commander', 'preserve_state'])
      expect(r.stdout).toMatch(new RegExp(`✓ ${step} `));
    const failure = await sh(`npx ledgerflow status ${runId}-failure --json`, env, dir);
    expect(JSON.parse(failure.stdout)).toMatchObject({ runId: `${runId}-failure`, status: 'COMPLETED' });
    for (const [said, path] of [
      ['.3ox/incidents/<runId>.yaml', `.3ox/incidents/${runId}.yaml`],
      ['.3ox/preserved/<runId>/', `.3ox/preserved/${runId}`],
    ] as const) {
      expect(PAGE).toContain(said);
      expect(existsSync(join(dir, path)), path).toBe(true);
    }
  }, 120_000);

  it('shows the demo as `npm start` prints it: its runs in order, the summary line, the files the handlers wrote and the commands to look further', async () => {
    const r = await sh(`npx ledgerflow demo --store ${join(dir, 'demo')}`, env, dir);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const page = markedBlock(PAGE, 'demo-output').join('\n');
    const runs = (text: string) => [...text.matchAll(/^── (\S+) /gm)].map((m) => m[1]);
    expect(runs(r.stdout)).toEqual(runs(page));
    const summary = (text: string) => /^(\d+) of (\d+) runs completed/m.exec(text)?.slice(1, 3);
    expect(summary(r.stdout)).toEqual(summary(page));
    /** The lines after `heading` that are indented, stopping at the first that is not. */
    const section = (text: string, heading: RegExp) => {
      const all = text.split('\n');
      const at = all.findIndex((l) => heading.test(l));
      const out: string[] = [];
      for (const l of all.slice(at + 1)) {
        if (!l.startsWith('  ')) break;
        out.push(shape(l));
      }
      return out;
    };
    expect(section(r.stdout, /^files the handlers wrote/)).toEqual(section(page, /^files the handlers wrote/));
    expect(section(r.stdout, /^look further:/)).toEqual(section(page, /^look further:/));
  }, 120_000);
});
