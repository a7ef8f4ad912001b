/** Runs the real `ledgerflow` CLI (the built bin) in a child process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { expect } from 'vitest';
import { mkdtempSync, mkdirSync, readdirSync, existsSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait.js';
import { BIN_NODE_FLAGS, binNodeFlags } from '../../bench/bin-flags.js';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const BIN = join(ROOT, 'bin', 'ledgerflow.js');
/** The node flags bin/ledgerflow.js starts itself with (bench/bin-flags.ts), for every command but serve and ui. */
export const NODE_FLAGS = BIN_NODE_FLAGS;
/** The node flags the bin gives `ledgerflow <args>` (serve and ui: a smaller young generation), as every command the tests start with `node` gets them. */
export const nodeFlagsFor = binNodeFlags;
export const EXAMPLE = join(ROOT, 'examples', 'inventory-validation.workflow.yaml');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The temp dirs made by each test file (its path as vitest reports it): the files of a worker share this
 * module (vitest.config.ts, isolate: false), and a file checks only its own stores.
 */
const dirsByFile = new Map<string, string[]>();
const currentFile = (): string => {
  try {
    return expect.getState().testPath ?? '';
  } catch {
    return ''; // outside a test run (scripts/chaos.ts, scripts/screenshots.ts use this module too)
  }
};

export function tempDir(prefix = 'lf-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const file = currentFile();
  dirsByFile.set(file, [...(dirsByFile.get(file) ?? []), dir]);
  return dir;
}

/** Every run the CLI wrote in this file's temp stores, replayed: each must reach the state it recorded. */
export async function expectEveryRunReplays(exclude: string[] = []): Promise<number> {
  const { FileEventStore } = await import('../../src/store/index.js');
  const { replayRun } = await import('../../src/runtime/index.js');
  let checked = 0;
  for (const dir of (dirsByFile.get(currentFile()) ?? []).filter((d) => !exclude.includes(d))) {
    for (const base of [dir, join(dir, 'store'), join(dir, 'envstore')]) {
      if (!existsSync(join(base, 'runs'))) continue;
      const store = new FileEventStore(base);
      for (const run of await store.listRuns()) {
        const report = replayRun(await store.read(run.runId));
        if (report.divergence)
          throw new Error(`run ${run.runId} in ${base} diverges: ${JSON.stringify(report.divergence)}`);
        checked++;
      }
    }
  }
  return checked;
}

/**
 * LEDGERFLOW_TEST_SPAWNS=<file>: each CLI command the tests start appends its CPU seconds, its test file and its
 * command line there when it exits (test/helpers/spawn-census.cjs, preloaded), to find which commands the suite's
 * CPU goes to: `LEDGERFLOW_TEST_SPAWNS=/tmp/spawns.txt npm test && sort -rn /tmp/spawns.txt | head`, or summed per command
 * and per test file by `node scripts/spawn-census.mjs /tmp/spawns.txt`.
 */
const census = process.env.LEDGERFLOW_TEST_SPAWNS ? join(ROOT, 'test', 'helpers', 'spawn-census.cjs') : null;

/**
 * The test process's environment without LEDGERFLOW_STORE: test files share a worker (vitest.config.ts, isolate:
 * false), and code run in-process may set it for its handlers (the CLI's open-store does), so a command would
 * otherwise open another test's store: three tests of trigger-gates.test.ts once shared one store and its serve
 * lock. A test that wants one gives it (`env: { LEDGERFLOW_STORE }`, or --store).
 */
function inherited(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.LEDGERFLOW_STORE;
  return env;
}

export function spawnCli(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; stdin?: string } = {},
): ChildProcess {
  const label = census
    ? { LEDGERFLOW_CENSUS_LABEL: `${currentFile().replace(/.*\/test\//, 'test/')} ${args.join(' ').slice(0, 300)}` }
    : {};
  const child = spawn(
    process.execPath,
    [...nodeFlagsFor(args), ...(census ? ['--require', census] : []), BIN, ...args],
    {
      cwd: opts.cwd ?? ROOT,
      // No state file unless a test asks for one (LEDGERFLOW_STATE_FILE: '' restores the default rule): most run in the
      // repository's folder, where the seed's definition (its monitoring: block) would have every test process rewrite
      // one .3ox/workflow.state.yaml from its own store. test/cli/state-file.test.ts tests it as the docs use it.
      env: { ...inherited(), NO_COLOR: '1', FORCE_COLOR: '0', LEDGERFLOW_STATE_FILE: 'off', ...label, ...opts.env },
      stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    },
  );
  if (opts.stdin !== undefined) child.stdin!.end(opts.stdin);
  return child;
}

export function cli(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; stdin?: string } = {},
): Promise<CliResult> {
  return new Promise((res, rej) => {
    const child = spawnCli(args, opts);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('error', rej);
    child.on('close', (code) => res({ code, stdout, stderr }));
  });
}

/** Files under a store dir, to check that a refused command wrote nothing. */
export function storeFiles(dir: string): string[] {
  const runs = join(dir, 'runs');
  return existsSync(runs) ? readdirSync(runs) : [];
}

/**
 * A user's project: ledgerflow installed, nothing else (docs/library.md: a copied template needs nothing but
 * ledgerflow, so a bundled handler importing another package fails here as it would for the user); as `npm init -y`
 * writes package.json (no "type": .ts handlers load as CommonJS).
 */
export function userProject(prefix = 'lf-project-'): string {
  const dir = tempDir(prefix);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'my-project', version: '1.0.0', private: true }));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(ROOT, join(dir, 'node_modules', 'ledgerflow'), 'dir');
  return dir;
}

/**
 * Polls `ledgerflow status <runId> --json` through `lf` (a `cli` with the store or server given) until the run's
 * status is `status`: its view then (the last answer is the failure's detail).
 */
export async function statusWhen<V extends { status: string }>(
  lf: (...args: string[]) => Promise<CliResult>,
  runId: string,
  status: string,
  timeout = 30_000,
): Promise<V> {
  let last = '';
  return (await waitFor(
    `run ${runId} to be ${status}`,
    async () => {
      last = (await lf('status', runId, '--json')).stdout;
      const view = JSON.parse(last) as V;
      return view.status === status ? view : false;
    },
    { timeout, detail: () => last },
  )) as V;
}

/** Writes `text` as `dir/file`, deploys it through `lf` (a `cli` over NATS in `dir`) and starts `workflowId`: the new run's id. */
export async function deployAndStart(
  lf: (...args: string[]) => Promise<CliResult>,
  dir: string,
  file: string,
  text: string,
  workflowId: string,
): Promise<string> {
  writeFileSync(join(dir, file), text);
  const deployed = await lf('deploy', file);
  expect(deployed.code, deployed.stderr).toBe(0);
  const started = await lf('start', workflowId, '--json');
  expect(started.code, started.stderr).toBe(0);
  return (JSON.parse(started.stdout) as { runId: string }).runId;
}
