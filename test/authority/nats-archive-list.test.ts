/**
 * docs/users.md#on-nats and docs/retention.md: `archive list` as a person on a nats-server whose users come from the
 * users file. A person's NATS user may not read KV LF_ARCHIVE_INDEX, so the command asks the engines
 * (lf.upkeep.<user>, verb archive-list), which judge a reader's level (L2: whoever reads the log) and answer with the
 * periods. Through the real CLI: an L1 archives, an L2 lists and gets what the embedded store gives for the same runs;
 * a Worker is refused by the server; a hostile request is refused and the engine goes on; with no engine running, the
 * list fails within its 10 s and says why.
 */
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { credentials } from '../../src/cluster/transport/index.js';
import { runReads } from '../../src/runs/index.js';
import { connect, jetstream } from '../../src/store/index.js';
import { useUsersNats } from '../helpers/authority.js';
import { cli, spawnCli, tempDir } from '../helpers/cli.js';
import { noNats } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';

const REPORT = `workflow:
  id: report
  tasks:
    - { id: make, type: SET, values: { summary: ok } }
`;
const USERS = [
  ['engine', 'L1'],
  ['bob', 'L1'],
  ['ops-east', 'L2'],
  ['scanner', 'L3'],
] as const;
const RUNS = 3;

interface Listed {
  periods: { period: string; runs: number; bytes: number; location: string }[];
}

const nats = useUsersNats();
const { procs, url, as } = nats;
let dir = '';
let engineLog = '';

/** The same runs on the embedded store, archived and listed by the CLI: what a person on NATS should be told. */
async function embeddedList(): Promise<{ json: Listed; text: string }> {
  const d = tempDir('lf-archive-list-file-');
  writeFileSync(join(d, 'report.yaml'), REPORT);
  const lf = (...args: string[]) => cli(['--store', join(d, 'store'), ...args], { cwd: d });
  for (let i = 0; i < RUNS; i++) expect((await lf('run', 'report.yaml', '--json')).code).toBe(0);
  expect((await lf('archive', '--older-than', '0s')).code).toBe(0);
  return {
    json: JSON.parse((await lf('archive', 'list', '--json')).stdout),
    text: (await lf('archive', 'list')).stdout,
  };
}

/** A listing's rows without the columns that name the store (bytes, where). */
const rows = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((l) => l.split(/\s+/).slice(0, 2).join(' '));

describe.skipIf(noNats)('archive list as a person on NATS (docs/users.md, docs/retention.md)', () => {
  beforeAll(async () => {
    dir = tempDir('lf-nats-archive-list-');
    writeFileSync(join(dir, 'report.yaml'), REPORT);
    await nats.start(dir, USERS);
    const deployed = await as('engine', ['deploy', 'report.yaml']);
    expect(deployed.code, deployed.stderr).toBe(0);
    const engine: ChildProcess = spawnCli(['--nats', url('engine'), 'engine', '--users', join(dir, 'users.yaml')], {
      cwd: dir,
    });
    procs.push(engine);
    engine.stderr!.on('data', (d) => (engineLog += d));
    for (let i = 0; i < RUNS; i++) {
      const { runId } = await nats.admin().start('report', {});
      expect((await runReads(nats.admin().store).wait(runId, { timeoutMs: 20_000 })).status, engineLog).toBe(
        'COMPLETED',
      );
    }
  }, 60_000);

  it('an L2 lists the archive an L1 filled, as the embedded store lists the same runs; a Worker is refused by the server', async () => {
    const [empty, embedded] = await Promise.all([as('ops-east', ['archive', 'list']), embeddedList()]);
    expect(empty.code, empty.stderr + engineLog).toBe(0);
    expect(empty.stdout.trim()).toBe('the archive is empty');
    const moved = await as('bob', ['archive', '--older-than', '0s', '--json']);
    expect(moved.code, moved.stderr + engineLog).toBe(0);
    expect(JSON.parse(moved.stdout)).toMatchObject({ archived: RUNS });

    const [json, text] = await Promise.all([
      as('ops-east', ['archive', 'list', '--json']),
      as('ops-east', ['archive', 'list']),
    ]);
    expect(json.code, json.stderr + engineLog).toBe(0);
    const listed = JSON.parse(json.stdout) as Listed;
    // The same periods and counts; the bytes and the place are each store's own.
    const counts = (l: Listed) => l.periods.map((p) => ({ period: p.period, runs: p.runs }));
    expect(counts(listed)).toEqual(counts(embedded.json));
    expect(counts(listed)).toEqual([{ period: expect.stringMatching(/^\d{4}-\d{2}$/), runs: RUNS }]);
    for (const p of listed.periods) {
      expect(Object.keys(p).sort()).toEqual(['bytes', 'location', 'period', 'runs']);
      expect(p.bytes).toBeGreaterThan(0);
      expect(p.location).toBe(`LF_ARCHIVE/${p.period}/`);
    }
    expect(text.code, text.stderr).toBe(0);
    expect(rows(text.stdout)).toEqual(rows(embedded.text));
    // The engine user reads the index itself: the same answer.
    const own = await as('engine', ['archive', 'list', '--json']);
    expect(JSON.parse(own.stdout)).toEqual(listed);

    const worker = await as('scanner', ['archive', 'list', '--json']);
    expect(worker.code, worker.stderr).toBe(2);
    expect(JSON.parse(worker.stdout).error.code).toBe('LF_AUTHORITY_REFUSED');
  }, 30_000);

  it('a hostile archive-list request (a field of its own, periods of its own) is refused with a reason; the engine goes on', async () => {
    const nc = await connect({ ...credentials(url('ops-east')), name: 'hostile-ops' });
    const verdicts = new Map<string, { accepted: boolean; code: string; reason: string; periods?: unknown }>();
    const sub = nc.subscribe('lf.verdicts.upkeep.ops-east.*', {
      callback: (_e, m) => {
        verdicts.set(m.subject.split('.').at(-1)!, JSON.parse(new TextDecoder().decode(m.data)));
      },
    });
    await nc.flush();
    const js = jetstream(nc);
    const send = (body: object) => js.publish('lf.upkeep.ops-east', new TextEncoder().encode(JSON.stringify(body)));
    try {
      await send({ request: 'listasengine', verb: 'archive-list', as: 'engine' });
      await send({ request: 'listperiods1', verb: 'archive-list', periods: [{ period: '../..', runs: 1e9 }] });
      await send({ request: 'listverbcase', verb: 'ARCHIVE-LIST' });
      await waitFor('the engine to answer every hostile request', () => verdicts.size >= 3, {
        timeout: 15_000,
        detail: () => JSON.stringify([...verdicts]) + engineLog,
      });
      for (const [request, v] of verdicts) {
        expect([request, v.accepted, v.code, v.periods]).toEqual([request, false, 'LF_REQUEST_REFUSED', undefined]);
        expect(v.reason).toContain('malformed upkeep request on lf.upkeep.ops-east');
      }
    } finally {
      sub.unsubscribe();
      await nc.close();
    }
    const again = await as('ops-east', ['archive', 'list', '--json']);
    expect(again.code, again.stderr + engineLog).toBe(0);
    expect((JSON.parse(again.stdout) as Listed).periods.map((p) => p.runs)).toEqual([RUNS]);
  }, 30_000);

  it('with no engine running, archive list fails within its 10 s and says to start one (it waited a minute)', async () => {
    const engine = procs.find((p) => p.spawnargs.includes('engine'))!;
    const gone = new Promise((resolve) => engine.once('exit', resolve));
    engine.kill('SIGTERM');
    await gone;
    const t0 = Date.now();
    const r = await as('ops-east', ['archive', 'list']);
    const took = Date.now() - t0;
    expect(r.code, r.stderr).not.toBe(0);
    expect(r.stderr).toContain('no engine answered the request to list the archive within 10 s: is an engine running?');
    expect(r.stderr).toContain('ledgerflow engine --nats <url> --users <file>');
    expect(took).toBeGreaterThanOrEqual(10_000);
    expect(took).toBeLessThan(25_000);
  }, 40_000);
});
