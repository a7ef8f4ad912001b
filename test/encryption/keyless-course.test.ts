/**
 * docs/security.md, "Reading without the key": a run whose course turned on a sealed value (the page's `triage.yaml`, a
 * DECISION on a COMMAND's output) read by a process without the key. Before, such a reader folded `[encrypted]` into
 * the DECISION, took its other branch, and `status` showed a COMPLETED run as RUNNING with a task that never ran
 * SCHEDULED (and told the user to drive it); `replay` reported a divergence and failed. Now it shows the run's recorded
 * status, the tasks as of the event before the parting and `sealedFrom`; replay checks up to there and passes. On the
 * embedded store through the CLI as the page writes it, and on NATS (engines running with the key from KV LF_SECRETS,
 * a reader of the stream without it).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT, cli, tempDir } from '../helpers/cli.js';
import { spawnLedgerflow, type LedgerflowProcess } from '../helpers/cluster-run.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { createEngine, encryptedStore, KeyRing } from '../../src/index.js';
import { JetStreamEventStore } from '../../src/store/index.js';

const PAGE = readFileSync(join(ROOT, 'docs', 'security.md'), 'utf8');
const TRIAGE_YAML = /```yaml\n(workflow:\n {2}id: triage[\s\S]*?)```/.exec(PAGE)![1]!;
const KEY = randomBytes(32).toString('base64');

interface View {
  status: string;
  tasks: Record<string, { status: string; output: unknown }>;
  sealedFrom?: { seq: number; type: string; task?: string };
  undriven?: string;
  output: unknown;
}

/** What a reader without the key may show of the run a reader with it sees as `keyed`: nothing it could not know. */
function honest(blind: View, keyed: View, events: number): void {
  expect(blind.status).toBe(keyed.status);
  expect(blind.sealedFrom).toEqual({ seq: 3, type: 'task.completed', task: 'assess' });
  expect(blind.undriven).toBeUndefined();
  // As of event 2: the assessment running, nothing decided; never the branch the run did not take.
  expect(blind.tasks.assess!.status).toBe('IN_PROGRESS');
  for (const t of ['route', 'page_oncall', 'file_ticket']) expect(blind.tasks[t]!.status, t).toBe('PENDING');
  expect(keyed.tasks.file_ticket!.status).toBe('SKIPPED');
  expect(keyed.tasks.page_oncall!.status).toBe('COMPLETED');
  expect(events).toBeGreaterThan(3);
}

describe('a run whose course turned on sealed values, read without the key (docs/security.md)', () => {
  it("the embedded store, the page's commands: status shows the recorded status and tasks as of the parting; replay checks up to it", async () => {
    const dir = tempDir('lf-keyless-');
    writeFileSync(join(dir, 'triage.yaml'), TRIAGE_YAML);
    const keyed = { LEDGERFLOW_SECRET_LF_DATA_KEY: KEY };
    const none = { LEDGERFLOW_SECRET_LF_DATA_KEY: '' };
    const ran = await cli(['run', 'triage.yaml'], { cwd: dir, env: keyed });
    expect(ran.stdout, ran.stderr).toContain('COMPLETED');
    const runId = /run (\S+) COMPLETED/.exec(ran.stdout)![1]!;
    expect(readFileSync(join(dir, '.ledgerflow', 'runs', `${runId}.jsonl`), 'utf8')).toContain('"lf:enc"');

    const withKey = JSON.parse((await cli(['status', runId, '--json'], { cwd: dir, env: keyed })).stdout) as View;
    expect(withKey.sealedFrom).toBeUndefined();
    const blindJson = await cli(['status', runId, '--json'], { cwd: dir, env: none });
    expect(blindJson.code, blindJson.stderr).toBe(0);
    const blind = JSON.parse(blindJson.stdout) as View;
    const history = JSON.parse((await cli(['history', runId, '--json'], { cwd: dir, env: none })).stdout) as unknown[];
    honest(blind, withKey, history.length);
    expect(blind.output).toBe('[encrypted]');

    const text = await cli(['status', runId], { cwd: dir, env: none });
    expect(text.stdout).toContain(`${runId}  triage v1  COMPLETED`);
    expect(text.stdout).toContain('read without the data key: from event 3 (task.completed of assess) on');
    expect(text.stdout).not.toContain('no process drives this run');

    // The state file (`state-file` prints what --rebuild writes): the run as its records say, sealed_from named.
    const state = await cli(['state-file'], { cwd: dir, env: none });
    expect(state.code, state.stderr).toBe(0);
    const entry = (parse(state.stdout) as Record<string, Record<string, any>>)[runId]!;
    expect(entry).toMatchObject({ status: 'COMPLETED', sealed_from: 3, completed_at: expect.any(String) });
    expect(entry.tasks.file_ticket.status).toBe('PENDING');
    expect(entry.tasks.route.decision).toBeUndefined();

    // watch ends as the run did (it waited for ever, telling the user to drive a settled run).
    const watched = await cli(['watch', runId], { cwd: dir, env: none });
    expect(watched.code, watched.stdout + watched.stderr).toBe(0);
    expect(watched.stdout).toContain('→ COMPLETED');
    expect(watched.stdout).not.toContain('no process drives this run');

    const replay = await cli(['replay', runId], { cwd: dir, env: none });
    expect(replay.code, replay.stdout + replay.stderr).toBe(0);
    expect(replay.stdout).toContain('✓ every event up to 2 leads to the state it recorded');
    expect(replay.stdout).toContain('not checked without the data key');
    const all = await cli(['replay', '--all'], { cwd: dir, env: none });
    expect(all.code, all.stdout + all.stderr).toBe(0);
    expect(all.stdout).toContain('1 read without the data key turned on sealed values');
    const allJson = await cli(['replay', '--all', '--json'], { cwd: dir, env: none });
    expect(JSON.parse(allJson.stdout)).toMatchObject({ runs: 1, diverged: 0, sealed: 1, problems: [] });
    const keyedReplay = await cli(['replay', runId], { cwd: dir, env: keyed });
    expect(keyedReplay.code).toBe(0);
    expect(keyedReplay.stdout).toContain('✓ every event leads to the state it recorded');
    expect(keyedReplay.stdout).not.toContain('read without the data key');
    // Nothing was appended by any of it.
    const after = JSON.parse((await cli(['history', runId, '--json'], { cwd: dir, env: keyed })).stdout) as unknown[];
    expect(after.length).toBe(history.length);
  }, 120_000);

  it('a SET made from a sealed output shows [encrypted] without the key, not what a fold of [encrypted] makes', async () => {
    const dir = tempDir('lf-keyless-set-');
    writeFileSync(
      join(dir, 'count.yaml'),
      `workflow:
  id: count
  version: 1
  tasks:
    - id: count
      type: COMMAND
      command: [sh, -c, 'echo "{\\"lines\\": 40}"']
    - id: report
      type: SET
      depends_on: [count]
      values: { total: "\${count.output.lines}" }
`,
    );
    const ran = await cli(['run', 'count.yaml'], { cwd: dir, env: { LEDGERFLOW_SECRET_LF_DATA_KEY: KEY } });
    const runId = /run (\S+) COMPLETED/.exec(ran.stdout)![1]!;
    const keyed = await cli(['status', runId, '--json'], { cwd: dir, env: { LEDGERFLOW_SECRET_LF_DATA_KEY: KEY } });
    expect(JSON.parse(keyed.stdout).variables).toEqual({ total: 40 });
    const blind = await cli(['status', runId, '--json'], { cwd: dir, env: { LEDGERFLOW_SECRET_LF_DATA_KEY: '' } });
    const view = JSON.parse(blind.stdout) as View & { variables: unknown };
    // Its course did not turn on the value: the whole run shows, statuses as they are.
    expect(view.sealedFrom).toBeUndefined();
    expect(view.status).toBe('COMPLETED');
    expect(view.tasks.report!.status).toBe('COMPLETED');
    expect(view.variables).toEqual({ total: '[encrypted]' });
    expect(view.tasks.report!.output).toBe('[encrypted]');
  }, 60_000);
});

/**
 * The page's triage run on NATS with the key in KV LF_SECRETS, its COMMAND tasks run by `processes` (an engine that
 * runs them, or an engine and a remote worker), then read from the stream without the key.
 */
async function onNats(
  c: ReturnType<typeof useCluster>,
  procs: LedgerflowProcess[],
  processes: (engineUser: string) => string[][],
): Promise<void> {
  const dir = tempDir('lf-keyless-nats-');
  writeFileSync(join(dir, 'triage.yaml'), TRIAGE_YAML);
  const engine = c.as('engine');
  const env = { LEDGERFLOW_SECRET_LF_DATA_KEY: '' };
  const set = await cli(['secrets', 'set', 'LF_DATA_KEY', '--nats', engine], { cwd: dir, stdin: KEY, env });
  expect(set.code, set.stderr).toBe(0);
  for (const args of processes(engine)) {
    const p = spawnLedgerflow(args[0]!, args, { cwd: dir, markers: join(dir, 'markers'), env });
    procs.push(p);
    await p.started();
  }
  const lf = (...args: string[]) => cli([...args, '--nats', engine], { cwd: dir, env });
  expect((await lf('deploy', 'triage.yaml')).code).toBe(0);
  const started = await lf('start', 'triage');
  expect(started.code, started.stderr).toBe(0);
  const runId = started.stdout.trim();
  const done = await lf('wait', runId, '--timeout', '60s', '--json');
  expect(JSON.parse(done.stdout).status, done.stdout + done.stderr).toBe('COMPLETED');
  const withKey = JSON.parse((await lf('status', runId, '--json')).stdout) as View;
  expect(withKey.sealedFrom).toBeUndefined();

  const blindStore = encryptedStore(new JetStreamEventStore({ servers: c.url }), new KeyRing(async () => undefined));
  c.defer(() => blindStore.close());
  const reader = createEngine({ store: blindStore });
  const events = await blindStore.read(runId);
  expect(JSON.stringify(events)).toContain('[encrypted]');
  honest((await reader.status(runId)) as unknown as View, withKey, events.length);
  const replay = await reader.replay(runId);
  expect(replay.divergence).toBeNull();
  expect(replay.sealedFrom).toEqual({ seq: 3, type: 'task.completed', task: 'assess' });
  expect(replay.view.status).toBe('COMPLETED');
}

describe.skipIf(noNats)(
  'the same run on NATS, engines running the tasks, read without the key (docs/security.md)',
  () => {
    const c = useCluster();
    const procs: LedgerflowProcess[] = [];
    afterEach(() => Promise.all(procs.splice(0).map((p) => p.kill())));

    it('engines hold the key (KV LF_SECRETS); a reader of the stream without it gets the recorded status and sealedFrom', async () => {
      await onNats(c, procs, (engine) => [['engine', '--nats', engine, '--commands']]);
    }, 120_000);
  },
);

describe.skipIf(noNats)('the same run on NATS, a remote worker running the tasks, read without the key', () => {
  const c = useCluster();
  const procs: LedgerflowProcess[] = [];
  afterEach(() => Promise.all(procs.splice(0).map((p) => p.kill())));

  it('an engine and a worker (--commands) hold the key; a reader of the stream without it gets the recorded status', async () => {
    await onNats(c, procs, (engine) => [
      ['engine', '--nats', engine],
      ['worker', '--nats', c.as('worker'), '--commands'],
    ]);
  }, 120_000);
});
