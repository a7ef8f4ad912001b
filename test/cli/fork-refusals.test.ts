/**
 * `ledgerflow fork` refused before anything is written, with docs/runs.md's fork-demo (order.yaml, handlers.mjs): a
 * fork driven here whose handler module cannot be loaded or lacks a task the fork runs (runs.md "Run inputs": a driver
 * that lacks a handler is refused, exit 2, "before anything is written"; fork drives "as `retry` does"); a
 * `--definition` version without the task `--at` names; a `--definition` of another workflow (a fork, like a migration's
 * `--to`, stays in its workflow). Each refused on the embedded store and over NATS (there by the engines for a person,
 * by the client for a user that may write the log), and the store holds no run more than before.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { noNats } from '../helpers/cluster.js';
import { cli, type CliResult, expectEveryRunReplays, spawnCli, tempDir } from '../helpers/cli.js';
import { useUsersNats } from '../helpers/authority.js';
import { forkHandlers, ORDER_YAML } from '../helpers/fork-docs.js';

afterAll(async () => {
  expect(await expectEveryRunReplays()).toBeGreaterThan(0);
});

/** order.yaml's version 4, which renames ship to deliver; and another workflow with the same tasks. */
const ORDER4_YAML = ORDER_YAML.replace('version: 1', 'version: 4').replace('- id: ship', '- id: deliver');
const otherYaml = (id: string) => ORDER_YAML.replace(/id: fork-demo\b/, `id: ${id}`);

function project(id = 'fork-demo'): string {
  const dir = tempDir('lf-fork-refused-');
  writeFileSync(join(dir, 'handlers.mjs'), forkHandlers(dir));
  writeFileSync(join(dir, 'order.yaml'), ORDER_YAML.replace('id: fork-demo', `id: ${id}`));
  writeFileSync(join(dir, 'order4.yaml'), ORDER4_YAML.replace('id: fork-demo', `id: ${id}`));
  writeFileSync(join(dir, 'other.yaml'), otherYaml(`${id}-other`));
  return dir;
}

/** A refusal as --json prints it: exit 2, the error's code and message, no "started" line. */
function refused(r: CliResult, code: string, message: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).not.toContain('started: fork of');
  const { error } = JSON.parse(r.stdout) as { error: { code: string; message: string } };
  expect([error.code, error.message]).toEqual([code, expect.stringMatching(message)]);
}

describe('ledgerflow fork refused before anything is written (embedded store)', () => {
  it('a module without a handler the fork runs, one that does not exist, a version without the task, another workflow', async () => {
    const dir = project();
    const store = join(dir, 'store');
    const lf = (...args: string[]) => cli(['--store', store, ...args], { cwd: dir });
    const ran = await lf('run', 'order.yaml', '--amount', '5', '--json');
    expect(ran.code, ran.stderr).toBe(0);
    const runId = (JSON.parse(ran.stdout) as { runId: string }).runId;
    const runs = () => readdirSync(join(store, 'runs')).sort();
    const before = runs();

    // The user's module, as the audit wrote it: fetch and price, no ship (which the fork at ship runs).
    writeFileSync(join(dir, 'partial.mjs'), 'export default { fetch: async () => ({}), price: async () => ({}) };\n');
    refused(
      await lf('fork', runId, '--at', 'ship', '--handlers', 'partial.mjs', '--json'),
      'LF_HANDLER_NOT_FOUND',
      /no handler for task ship \(named "ship"\)/,
    );
    refused(
      await lf('fork', runId, '--at', 'ship', '--handlers', 'nope.mjs', '--json'),
      'LF_HANDLER_MODULE_NOT_FOUND',
      /nope\.mjs does not exist/,
    );
    refused(
      await lf('fork', runId, '--at', 'ship', '--definition', 'order4.yaml', '--json'),
      'LF_FORK_POINT_UNKNOWN',
      /at ship under fork-demo v4: that version has no task ship; fork at a task it has \(fetch, price, deliver\), or at an event's sequence number/,
    );
    refused(
      await lf('fork', runId, '--at', 'ship', '--definition', 'other.yaml', '--json'),
      'LF_FORK_WORKFLOW_MISMATCH',
      /under workflow fork-demo-other: the run is of workflow fork-demo.*give --definition a definition of fork-demo/,
    );
    // A flag the drive would refuse is refused before the fork is recorded too.
    const wait = await lf('fork', runId, '--at', 'ship', '--max-wait', 'soon');
    expect([wait.code, wait.stderr]).toEqual([2, expect.stringContaining('--max-wait soon is not a duration')]);
    expect(runs()).toEqual(before);

    // The fix the refusal names: at an event under v4 (after price completed, event 5), with a module that has deliver.
    writeFileSync(join(dir, 'handlers4.mjs'), forkHandlers(dir, "  deliver: async () => (note('deliver'), {}),\n"));
    const v4 = await lf('fork', runId, '--at', '5', '--definition', 'order4.yaml', '--handlers', 'handlers4.mjs');
    expect(v4.code, v4.stderr).toBe(0);
    expect(v4.stdout).toContain('reused the outputs of fetch, price (not run again)');
    expect(v4.stdout).toMatch(/✓ deliver[\s\S]*COMPLETED/);
  }, 60_000);
});

describe.skipIf(noNats)('ledgerflow fork refused before anything is written (NATS)', () => {
  const nats = useUsersNats();

  it("another workflow's definition, a version without the task: refused by the engines and by the client", async () => {
    const id = `fork-refused-${Date.now().toString(36)}`;
    const dir = project(id);
    await nats.start(dir, [
      ['engine', 'L1'],
      ['bob', 'L1'],
    ]);
    for (const f of ['order.yaml', 'order4.yaml', 'other.yaml'])
      expect((await nats.as('engine', ['deploy', f])).code, f).toBe(0);
    const engine = spawnCli(
      [
        '--nats',
        nats.url('engine'),
        'engine',
        '--users',
        join(dir, 'users.yaml'),
        '--handlers',
        join(dir, 'handlers.mjs'),
      ],
      { cwd: dir },
    );
    let engineLog = '';
    engine.stderr!.on('data', (d) => (engineLog += d));
    nats.procs.push(engine);
    const started = await nats.as('bob', ['start', `${id}@1`, '--amount', '5', '--json']);
    expect(started.code, started.stderr).toBe(0);
    const runId = (JSON.parse(started.stdout) as { runId: string }).runId;
    const done = await nats.as('engine', ['wait', runId, '--timeout', '30s', '--json']);
    expect((JSON.parse(done.stdout) as { status: string }).status, engineLog).toBe('COMPLETED');
    const runs = async () => (await nats.admin().store.listRuns()).length;
    const before = await runs();

    // bob's fork is a request the engines judge; the engine user's is recorded by the client itself.
    for (const user of ['bob', 'engine']) {
      refused(
        await nats.as(user, ['fork', runId, '--at', 'price', '--definition', `${id}-other`, '--json']),
        'LF_FORK_WORKFLOW_MISMATCH',
        new RegExp(`under workflow ${id}-other: the run is of workflow ${id}`),
      );
      refused(
        await nats.as(user, ['fork', runId, '--at', 'ship', '--definition', `${id}@4`, '--json']),
        'LF_FORK_POINT_UNKNOWN',
        new RegExp(`at ship under ${id} v4: that version has no task ship`),
      );
    }
    expect(await runs()).toBe(before);
  }, 120_000);
});
