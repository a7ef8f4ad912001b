/**
 * FORK_DYNAMIC as docs/language.md shows it, and Conductor's FORK_JOIN_DYNAMIC (dynamicForkTasksParam) imported into
 * it, each run as a user runs them, on the embedded store and on NATS (a real nats-server: `run` there, and an engine
 * with a remote worker): the JOIN's output is each branch's output by its id; a bad branch list at run time fails the
 * fork with an error naming the element, nothing run; a recorded run replays from its log, whatever the file says now.
 */
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { noNats, useCluster } from '../helpers/cluster.js';
import { cli, expectEveryRunReplays, ROOT, spawnCli, statusWhen, tempDir } from '../helpers/cli.js';
import { killLeftovers } from '../helpers/processes.js';
import { markedBlock } from './markdown.js';

const page = readFileSync(join(ROOT, 'docs', 'language.md'), 'utf8');
const block = (marker: string) => `${markedBlock(page, marker).join('\n')}\n`;
const FIXTURES = join(ROOT, 'test', 'fixtures', 'conductor-dynamic');

interface View {
  status: string;
  output: Record<string, unknown> | null;
  error: { code?: string; message: string } | null;
  tasks: Record<string, { status: string; output: unknown; items?: { instance: string; branch?: string }[] }>;
}

/** A folder with the docs' example (prices.yaml, prices.mjs): the docs' command line, as args. */
function docsExample(): { dir: string; args: string[] } {
  const dir = tempDir('lf-fork-dynamic-');
  writeFileSync(join(dir, 'prices.yaml'), block('fork-dynamic-example'));
  writeFileSync(join(dir, 'prices.mjs'), block('fork-dynamic-handlers'));
  const [line] = markedBlock(page, 'fork-dynamic-command')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter(Boolean);
  return { dir, args: line!.replace(/^npx ledgerflow /, '').split(/\s+/) };
}

const PRICES = { fetch_eu: { region: 'eu', price: 10 }, fetch_us: { region: 'us', price: 12 } };

/** Conductor's JSON (test/fixtures/conductor-dynamic) imported into dir/definitions, exit 0, with its handlers beside it. */
async function importedConductor(): Promise<string> {
  const dir = tempDir('lf-conductor-dynamic-');
  for (const f of readdirSync(FIXTURES)) copyFileSync(join(FIXTURES, f), join(dir, f));
  const r = await cli(['import', 'conductor', '.', '--out', 'definitions'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toContain('✓ dynamic_prices.json → definitions/dynamic_prices.yaml');
  const yaml = readFileSync(join(dir, 'definitions', 'dynamic_prices.yaml'), 'utf8');
  expect(yaml).toMatch(
    /type: FORK_DYNAMIC\n(.*\n)*? {6}branches: \$\{plan\.output\.dynamicTasks\}\n {6}inputs: \$\{plan\.output\.dynamicTasksInput\}/,
  );
  expect(yaml).toMatch(/type: JOIN\n(.*\n)*? {6}join_on:\n {8}- dynamic_fork/);
  return dir;
}

/** What the imported workflow's JOIN gives: each forked task's output by its taskReferenceName, the SUB_WORKFLOW's too. */
const CONDUCTOR_OUTPUT = {
  prices: { fetch_eu: { region: 'eu', price: 10 }, fetch_us: { region: 'us', price: 10 }, audit: { audited: 'eu' } },
};

// Each test runs several CLI processes: generous on a loaded machine.
describe('FORK_DYNAMIC on the embedded store', { timeout: 120_000 }, () => {
  it('runs the docs example as the docs say: the JOIN outputs each branch by its id', async () => {
    const { dir, args } = docsExample();
    const env = { LEDGERFLOW_STORE: join(dir, 'store') };
    const r = await cli([...args, '--id', 'p1'], { cwd: dir, env });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const view = JSON.parse((await cli(['status', 'p1', '--json'], { cwd: dir, env })).stdout) as View;
    expect(view.status).toBe('COMPLETED');
    expect(view.tasks.gather!.output).toEqual(PRICES);
    expect(view.tasks.report!.output).toEqual({ cheapest: 'fetch_eu' });
    expect(view.tasks.fetch_all!.items!.map((i) => [i.instance, i.branch])).toEqual([
      ['fetch_all[0]', 'fetch_eu'],
      ['fetch_all[1]', 'fetch_us'],
    ]);
    const validated = await cli(['validate', 'prices.yaml', '--strict'], { cwd: dir });
    expect(validated.code, validated.stdout + validated.stderr).toBe(0);
  });

  it('fails the fork on a bad list at run time, naming the element and the fix; nothing of it runs', async () => {
    const { dir } = docsExample();
    // The plan gives a branch of a type a branch cannot have.
    writeFileSync(
      join(dir, 'bad.mjs'),
      `export default {
        async plan() { return { branches: [{ id: 'fetch_eu', handler: 'fetch_price' }, { id: 'fetch_us', type: 'KAFKA_PUBLISH' }], inputs: {} }; },
        async fetch_price() { throw new Error('must not run'); },
        async report() { return {}; },
      };\n`,
    );
    const env = { LEDGERFLOW_STORE: join(dir, 'store') };
    const r = await cli(['run', 'prices.yaml', '--handlers', './bad.mjs', '--id', 'bad1'], { cwd: dir, env });
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain(
      'element 1 of the branches of FORK_DYNAMIC task fetch_all (fetch_us) has type KAFKA_PUBLISH; a branch is SIMPLE (a handler), SUB_WORKFLOW (a child run), HTTP (a request) or TRANSFORM',
    );
    const view = JSON.parse((await cli(['status', 'bad1', '--json'], { cwd: dir, env })).stdout) as View;
    expect(view.status).toBe('FAILED');
    expect(view.tasks.fetch_all).toMatchObject({ status: 'FAILED', items: [] });
    expect(view.tasks.gather!.status).toBe('SKIPPED');
    const history = await cli(['history', 'bad1', '--json'], { cwd: dir, env });
    const events = JSON.parse(history.stdout) as { type: string; data: { task?: string } }[];
    expect(events.filter((e) => e.data.task === 'fetch_all')).toEqual([]);
    // Not a list at all: the same code, saying what it got.
    writeFileSync(
      join(dir, 'none.mjs'),
      'export default { async plan() { return { branches: { fetch_eu: {} } }; }, fetch_price() {}, report() {} };\n',
    );
    const none = await cli(['run', 'prices.yaml', '--handlers', './none.mjs', '--id', 'bad2'], { cwd: dir, env });
    expect(none.code).toBe(1);
    const failed = JSON.parse((await cli(['status', 'bad2', '--json'], { cwd: dir, env })).stdout) as View;
    expect(failed.error).toMatchObject({ code: 'LF_FORK_BRANCHES_INVALID' });
    expect(failed.error!.message).toMatch(/branches of FORK_DYNAMIC task fetch_all gave an object, not a list/);
  });

  it('a failed branch fails the fork and the run after its retries, naming the branch', async () => {
    const { dir } = docsExample();
    writeFileSync(
      join(dir, 'flaky.mjs'),
      `export default {
        async plan() { return { branches: [{ id: 'fetch_eu', handler: 'ok' }, { id: 'fetch_us', handler: 'boom' }] }; },
        async ok() { return { ok: true }; },
        async boom() { const e = new Error('no price'); e.retryable = false; throw e; },
        async fetch_price() { return {}; },
        async report() { return {}; },
      };\n`,
    );
    const env = { LEDGERFLOW_STORE: join(dir, 'store') };
    const r = await cli(['run', 'prices.yaml', '--handlers', './flaky.mjs', '--id', 'f1'], { cwd: dir, env });
    expect(r.code).toBe(1);
    const view = JSON.parse((await cli(['status', 'f1', '--json'], { cwd: dir, env })).stdout) as View;
    expect(view.error).toMatchObject({ code: 'LF_FORK_BRANCH_FAILED' });
    expect(view.error!.message).toContain(
      '1 of 2 branches of FORK_DYNAMIC task fetch_all failed; first fetch_us: no price',
    );
    expect(view.tasks.gather!.status).toBe('SKIPPED');
  });

  it('a recorded run replays from its log, even after the file and the handlers change', async () => {
    const { dir, args } = docsExample();
    const env = { LEDGERFLOW_STORE: join(dir, 'store') };
    expect((await cli([...args, '--id', 'rec'], { cwd: dir, env })).code).toBe(0);
    // A later version reads its branches from elsewhere: the recorded run keeps the definition and list it ran with.
    writeFileSync(
      join(dir, 'prices.yaml'),
      block('fork-dynamic-example').replace('plan.output.branches', 'plan.output.other'),
    );
    writeFileSync(join(dir, 'prices.mjs'), 'export default {};\n');
    const replay = await cli(['replay', 'rec'], { cwd: dir, env });
    expect(replay.code, replay.stdout + replay.stderr).toBe(0);
    const all = await cli(['replay', '--all', '--json'], { cwd: dir, env });
    expect(all.code, all.stdout + all.stderr).toBe(0);
    const view = JSON.parse((await cli(['status', 'rec', '--json'], { cwd: dir, env })).stdout) as View;
    expect(view.tasks.gather!.output).toEqual(PRICES);
    expect(await expectEveryRunReplays()).toBeGreaterThan(0);
  });

  it('imports Conductor FORK_JOIN_DYNAMIC (dynamicForkTasksParam) and runs it with its handlers, a SUB_WORKFLOW branch included', async () => {
    const dir = await importedConductor();
    const env = { LEDGERFLOW_STORE: join(dir, 'store') };
    const r = await cli(
      [
        'run',
        'definitions/dynamic_prices.yaml',
        '--handlers',
        './handlers.mjs',
        '--id',
        'c1',
        '--input',
        '{"regions":["eu","us"]}',
      ],
      { cwd: dir, env },
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const view = JSON.parse((await cli(['status', 'c1', '--json'], { cwd: dir, env })).stdout) as View;
    expect(view.output).toEqual(CONDUCTOR_OUTPUT);
    expect(await expectEveryRunReplays()).toBeGreaterThan(0);
  });
});

describe.skipIf(noNats)('FORK_DYNAMIC on NATS', () => {
  const c = useCluster();
  const procs: ChildProcess[] = [];
  afterEach(() => killLeftovers(procs));

  it('runs the docs example with `run --handlers`: the same JOIN output', async () => {
    const { dir, args } = docsExample();
    const r = await cli(['--nats', c.url, ...args, '--json'], { cwd: dir });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const { runId } = JSON.parse(r.stdout) as { runId: string };
    const view = JSON.parse((await cli(['--nats', c.url, 'status', runId, '--json'], { cwd: dir })).stdout) as View;
    expect(view.status).toBe('COMPLETED');
    expect(view.tasks.gather!.output).toEqual(PRICES);
  }, 60_000);

  it('a bad list at run time fails the fork there too, with the same error', async () => {
    const { dir } = docsExample();
    writeFileSync(
      join(dir, 'bad.mjs'),
      "export default { async plan() { return { branches: [{ id: 'a' }, { id: 'a' }] }; }, fetch_price() {}, report() {} };\n",
    );
    const r = await cli(['--nats', c.url, 'run', 'prices.yaml', '--handlers', './bad.mjs', '--json'], { cwd: dir });
    expect(r.code).toBe(1);
    const { runId } = JSON.parse(r.stdout) as { runId: string };
    const view = JSON.parse((await cli(['--nats', c.url, 'status', runId, '--json'], { cwd: dir })).stdout) as View;
    expect(view.error).toMatchObject({ code: 'LF_FORK_BRANCHES_INVALID' });
    expect(view.error!.message).toContain(
      'element 1 of the branches of FORK_DYNAMIC task fetch_all has id a, which an earlier element has',
    );
  }, 60_000);

  it('runs the docs example on `ledgerflow engine --nats <url> --handlers <module>`, no worker anywhere', async () => {
    const { dir } = docsExample();
    const lf = (...args: string[]) => cli(['--nats', c.url, ...args], { cwd: dir });
    const deployed = await lf('deploy', 'prices.yaml');
    expect(deployed.code, deployed.stderr).toBe(0);
    procs.push(spawnCli(['engine', '--nats', c.url, '--handlers', join(dir, 'prices.mjs')], { cwd: dir }));
    const started = await lf('start', 'prices', '--json');
    expect(started.code, started.stderr).toBe(0);
    const { runId } = JSON.parse(started.stdout) as { runId: string };
    const done = await statusWhen<View>(lf, runId, 'COMPLETED', 60_000);
    expect(done.tasks.gather!.output).toEqual(PRICES);
    expect(done.tasks.report!.output).toEqual({ cheapest: 'fetch_eu' });
    const history = JSON.parse((await lf('history', runId, '--json')).stdout) as {
      type: string;
      data: { task?: string; item?: number };
    }[];
    // Each branch ran as an item of the fork, on the engine that holds the handlers.
    const branches = history.filter((e) => e.type === 'task.completed' && e.data.task === 'fetch_all');
    expect(branches.map((e) => e.data.item).sort()).toEqual([0, 1]);
  }, 120_000);

  it('runs the imported Conductor workflow on an engine, its SIMPLE branches on a remote worker', async () => {
    const dir = await importedConductor();
    const lf = (...args: string[]) => cli(['--nats', c.url, ...args], { cwd: dir });
    const deployed = await lf('deploy', 'definitions/dynamic_prices.yaml', 'definitions/price_audit.yaml');
    expect(deployed.code, deployed.stderr).toBe(0);
    procs.push(spawnCli(['--nats', c.url, 'engine'], { cwd: dir }));
    procs.push(spawnCli(['--nats', c.as('worker'), 'worker', '--handlers', join(dir, 'handlers.mjs')], { cwd: dir }));
    const started = await lf('start', 'dynamic_prices', '--input', '{"regions":["eu","us"]}', '--json');
    expect(started.code, started.stderr).toBe(0);
    const { runId } = JSON.parse(started.stdout) as { runId: string };
    const done = await statusWhen<View>(lf, runId, 'COMPLETED', 60_000);
    expect(done.output).toEqual(CONDUCTOR_OUTPUT);
    const history = await lf('history', runId, '--json');
    const events = JSON.parse(history.stdout) as {
      type: string;
      data: { task?: string; item?: number; by?: string };
    }[];
    // The SIMPLE branches were reported by the worker, not run by the engine.
    const reported = events.filter((e) => e.type === 'task.completed' && e.data.task === 'dynamic_fork');
    expect(reported.map((e) => e.data.item).sort()).toEqual([0, 1, 2]);
    expect(reported.filter((e) => e.data.item !== 2).map((e) => e.data.by)).toEqual(['worker', 'worker']);
  }, 120_000);
});
