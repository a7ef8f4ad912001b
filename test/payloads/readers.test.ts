/**
 * The everyday readers of a store show a run whose DECISION read a field of a large payload (docs/language.md "Large
 * payloads", its example as the page has it): `list` (and its index rebuilt by `reindex`), `stats`, `watch` and
 * `state-file`. They fold the run again in a process that never ran its tasks, so the body the DECISION reads is not
 * loaded there: each failed with LF_BLOB_NOT_LOADED until the fold loaded it. On the embedded store, clear and
 * encrypted (with the data key), and on NATS with the tasks run by `engine --handlers`, and by an engine and a remote
 * `worker --handlers`. And a run of it that waits for a sign-off at its end: the deploy gate (`check`) and `migrate
 * --dry-run` judge it against a v2, and the dashboard's time travel shows it as of an earlier event, in a process that
 * read nothing before (on NATS each failed so; the embedded store read the body on a miss).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { markedBlock } from '../docs/markdown.js';
import { cli, ROOT, tempDir } from '../helpers/cli.js';
import { spawnLedgerflow, type LedgerflowProcess } from '../helpers/cluster-run.js';
import { startUiProcess } from '../server/ui-helpers.js';
import { noNats, useCluster } from '../helpers/cluster.js';

const page = readFileSync(join(ROOT, 'docs', 'language.md'), 'utf8');
const section = page.slice(page.indexOf('<!-- large-payloads-example'));
const workflow = `${markedBlock(page, 'large-payloads-example').join('\n')}\n`;
const handlers = /```js\n([\s\S]*?)```/.exec(section)![1]!;

/** The page's workflow with a sign-off at its end (the run waits there); v2 adds a step before the sign-off. */
const SIGN_OFF = '    - id: signoff\n      type: HUMAN\n      depends_on: [publish, flag]\n      wait_forever: true\n';
const waiting = `${workflow}${SIGN_OFF}`;
const waitingV2 = `${workflow.replace('  id: export_report\n', '  id: export_report\n  version: 2\n')}    - id: audit\n      type: SET\n      depends_on: [publish, flag]\n      values: { audited: true }\n${SIGN_OFF.replace('[publish, flag]', '[audit]')}`;

/** A folder with the page's export.yaml and export.mjs (and the waiting variant as signoff.yaml, signoff-v2.yaml). */
function example(): string {
  const dir = tempDir('lf-payload-readers-');
  writeFileSync(join(dir, 'export.yaml'), workflow);
  writeFileSync(join(dir, 'export.mjs'), handlers);
  writeFileSync(join(dir, 'signoff.yaml'), waiting);
  writeFileSync(join(dir, 'signoff-v2.yaml'), waitingV2);
  return dir;
}

/** The waiting run judged against v2 (it takes over as is) and shown as of event 4 by a dashboard just started. */
async function waitingShown(
  lf: Lf,
  runId: string,
  migrate: { workflow: string; to: string },
  ui: { globals: string[]; cwd: string; signIn?: { user: string; password: string } },
): Promise<void> {
  const gate = await lf('check', 'signoff-v2.yaml', '--json');
  expect(gate.code, gate.stdout + gate.stderr).toBe(0);
  const runs = (JSON.parse(gate.stdout) as { sections: { section: string }[] }).sections.find(
    (x) => x.section === 'runs',
  );
  expect(runs).toMatchObject({ ok: true, passed: [`run ${runId}`] });
  const dry = await lf('migrate', migrate.workflow, '--to', migrate.to, '--dry-run', '--json');
  expect(dry.code, dry.stderr).toBe(0);
  expect(JSON.parse(dry.stdout)).toMatchObject({ as_is: 1, runs: [{ runId, verdict: 'as_is' }] });

  const page = await startUiProcess(ui.globals, [], { cwd: ui.cwd });
  try {
    let headers: Record<string, string> = { authorization: `Bearer ${page.token}` };
    if (ui.signIn) {
      const r = await fetch(`${page.base}/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(ui.signIn),
      });
      expect(r.status).toBe(200);
      headers = { cookie: r.headers.get('set-cookie')!.split(';')[0]! };
    }
    // Time travel first, in a process that has read nothing of the run yet.
    const at = await fetch(`${page.base}/api/runs/${runId}/at/4`, { headers });
    const body = (await at.json()) as { run: { status: string; tasks: Record<string, { status: string }> } };
    expect(at.status, JSON.stringify(body)).toBe(200);
    expect(body.run.tasks.check!.status).toBe('COMPLETED');
    expect(body.run.tasks.flag!.status).toBe('SKIPPED');
    const now = (await (await fetch(`${page.base}/api/runs/${runId}`, { headers })).json()) as typeof body;
    expect(now.run.status).toBe('WAITING');
  } finally {
    await page.stop();
  }
}

type Lf = (...args: string[]) => ReturnType<typeof cli>;

/** What each reader shows of the completed run: the DECISION's case taken, the other branch skipped. */
async function readersShow(lf: Lf, runId: string, opts: { stats: boolean }): Promise<void> {
  const listed = async () => {
    const r = await lf('list', '--run-id', runId, '--json');
    expect(r.code, r.stderr).toBe(0);
    return (JSON.parse(r.stdout) as { runId: string; status: string }[]).map((x) => `${x.runId} ${x.status}`);
  };
  expect(await listed()).toEqual([`${runId} COMPLETED`]);
  const reindexed = await lf('reindex');
  expect(reindexed.code, reindexed.stderr).toBe(0);
  expect(await listed()).toEqual([`${runId} COMPLETED`]);

  if (opts.stats) {
    const stats = await lf('stats', 'export_report', '--json');
    expect(stats.code, stats.stderr).toBe(0);
    expect(JSON.parse(stats.stdout)).toMatchObject({ runs: { total: 1, completed: 1 } });
  }

  const watched = await lf('watch', runId, '--json');
  expect(watched.code, watched.stderr).toBe(0);
  const lines = watched.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; status: string });
  expect(lines.at(-1)).toMatchObject({ type: 'task.completed', status: 'COMPLETED' });

  const state = await lf('state-file');
  expect(state.code, state.stderr).toBe(0);
  const entry = (parse(state.stdout) as Record<string, { status: string; tasks: Record<string, { status: string }> }>)[
    runId
  ]!;
  expect(entry.status).toBe('COMPLETED');
  expect(Object.fromEntries(Object.entries(entry.tasks).map(([id, t]) => [id, t.status]))).toEqual({
    export_rows: 'COMPLETED',
    check: 'COMPLETED',
    publish: 'COMPLETED',
    flag: 'SKIPPED',
  });
}

describe('readers of a run whose DECISION read a large payload, embedded store', () => {
  for (const sealed of [false, true]) {
    it(`list, reindex, stats, watch and state-file show it (${sealed ? 'encrypted at rest, read with the key' : 'clear'})`, async () => {
      const dir = example();
      const env = {
        LEDGERFLOW_STORE: join(dir, 'store'),
        LEDGERFLOW_SECRET_LF_DATA_KEY: sealed ? randomBytes(32).toString('base64') : '',
      };
      const lf: Lf = (...args) => cli(args, { cwd: dir, env });
      const ran = await lf('run', 'export.yaml', '--json');
      expect(ran.code, ran.stderr).toBe(0);
      const runId = (JSON.parse(ran.stdout) as { runId: string }).runId;
      await readersShow(lf, runId, { stats: true });
    }, 60_000);
  }
});

describe('a waiting run whose DECISION read a large payload, embedded store', () => {
  it('check and migrate --dry-run judge it against v2; the dashboard shows it as of an earlier event', async () => {
    const dir = example();
    const store = join(dir, 'store');
    const lf: Lf = (...args) => cli(['--store', store, ...args], { cwd: dir });
    const ran = await lf('run', 'signoff.yaml', '--json');
    expect(ran.code, ran.stderr).toBe(3);
    const runId = (JSON.parse(ran.stdout) as { runId: string }).runId;
    await waitingShown(
      lf,
      runId,
      { workflow: 'export_report', to: 'signoff-v2.yaml' },
      { globals: ['--store', store], cwd: dir },
    );
  }, 60_000);
});

describe.skipIf(noNats)('readers of a run whose DECISION read a large payload, NATS', () => {
  const c = useCluster();
  const procs: LedgerflowProcess[] = [];
  afterEach(() => Promise.all(procs.splice(0).map((p) => p.kill())));
  /** `ledgerflow <args>` in `dir`, once it says it takes work. */
  const launch = async (dir: string, args: string[]) => {
    const p = spawnLedgerflow(args[0]!, args, { cwd: dir, markers: join(dir, 'markers') });
    procs.push(p);
    await p.started();
  };

  const onNats = async (processes: string[][]) => {
    const dir = example();
    const engine = c.as('engine');
    for (const args of processes) await launch(dir, args);
    const lf: Lf = (...args) => cli([...args, '--nats', engine], { cwd: dir });
    expect((await lf('deploy', 'export.yaml')).code).toBe(0);
    const started = await lf('start', 'export_report');
    expect(started.code, started.stderr).toBe(0);
    const runId = started.stdout.trim();
    const done = await lf('wait', runId, '--timeout', '60s', '--json');
    expect(JSON.parse(done.stdout).status, done.stdout + done.stderr).toBe('COMPLETED');
    // Each test deploys the same workflow on one server: stats would count the other test's run too.
    await readersShow(lf, runId, { stats: false });
  };

  it('engines running the handlers (engine --handlers)', async () => {
    await onNats([['engine', '--nats', c.as('engine'), '--handlers', './export.mjs']]);
  }, 120_000);

  it('a waiting run, engines running the handlers: check, migrate --dry-run and the dashboard (ui --nats)', async () => {
    const dir = example();
    const engine = c.as('engine');
    await launch(dir, ['engine', '--nats', engine, '--handlers', './export.mjs']);
    const lf: Lf = (...args) => cli([...args, '--nats', engine], { cwd: dir });
    // Its own workflow id on this server: the other tests deploy export_report v1 without the sign-off.
    for (const f of ['signoff.yaml', 'signoff-v2.yaml']) {
      const text = readFileSync(join(dir, f), 'utf8').replace('id: export_report', 'id: export_signoff');
      writeFileSync(join(dir, f), text);
    }
    expect((await lf('deploy', 'signoff.yaml')).code).toBe(0);
    const started = await lf('start', 'export_signoff');
    expect(started.code, started.stderr).toBe(0);
    const runId = started.stdout.trim();
    const waited = await lf('wait', runId, '--or-waiting', '--timeout', '60s', '--json');
    expect(JSON.parse(waited.stdout).status, waited.stdout + waited.stderr).toBe('WAITING');
    expect((await lf('deploy', 'signoff-v2.yaml')).code).toBe(0);
    const { username, password } = new URL(engine);
    await waitingShown(
      lf,
      runId,
      { workflow: 'export_signoff', to: '2' },
      {
        globals: ['--nats', engine],
        cwd: dir,
        signIn: { user: decodeURIComponent(username), password: decodeURIComponent(password) },
      },
    );
  }, 120_000);

  it('an engine and a remote worker running them (worker --handlers)', async () => {
    await onNats([
      ['engine', '--nats', c.as('engine')],
      ['worker', '--nats', c.as('worker'), '--handlers', './export.mjs'],
    ]);
  }, 120_000);
});
