/**
 * A WAIT without `from:` with a users file (issue 60, Medium): it took a
 * signal from anyone who may signal at all. Now it takes one from the run's
 * starter and L1 (CMD.BRIDGE) or higher: bob (L2, not the starter) signalling
 * alice's run is refused and nothing recorded; alice (its starter, L2) and
 * carol (L1) are accepted. On the embedded store (each person signed in with
 * the users file, as the CLI does) and on NATS (a real nats-server whose users
 * come from the users file, an engine given it). Without a users file nothing
 * changed: anyone's signal is taken.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { noNats } from '../helpers/cluster.js';
import { cli, spawnCli, tempDir } from '../helpers/cli.js';
import { useUsersNats } from '../helpers/authority.js';
import { runReads } from '../../src/runs/index.js';

const RESTOCK = `workflow:
  id: restock
  domain: inventory
  tasks:
    - { id: count, type: SET, values: { counted: 42 } }
    - { id: go, type: WAIT, depends_on: [count], event: go }
`;
const PEOPLE = [
  ['alice', 'L2'],
  ['bob', 'L2'],
  ['carol', 'L1'],
] as const;
const REFUSED =
  'bob may not send signal "go": WAIT go takes it only from the person who started the run and L1 (CMD.BRIDGE) or higher (a WAIT without from:, where a users file says who is who) (bob is L2 (Station OPS))';

type Ev = { type: string; data: { by?: string; source?: { by?: string } } };

function project(prefix: string): string {
  const dir = tempDir(prefix);
  mkdirSync(join(dir, 'definitions'));
  writeFileSync(join(dir, 'definitions', 'restock.yaml'), RESTOCK);
  return dir;
}

describe('a WAIT without from: on the embedded store', () => {
  it('with a users file: bob (L2, not the starter) is refused, nothing recorded; alice (the starter) and carol (L1) are taken', async () => {
    const dir = project('lf-signal-default-');
    for (const [name, level] of PEOPLE) {
      const r = await cli(
        [
          'users',
          'add',
          name,
          '--level',
          level,
          ...(level === 'L2' ? ['--domains', 'inventory'] : []),
          '--password-stdin',
        ],
        { cwd: dir, stdin: `pw-${name}\n` },
      );
      expect(r.code, r.stderr).toBe(0);
    }
    const as = (user: string, args: string[]) =>
      cli(['--store', 'store', ...args], {
        cwd: dir,
        env: { LEDGERFLOW_USER: user, LEDGERFLOW_PASSWORD: `pw-${user}` },
      });
    const history = async (runId: string) =>
      JSON.parse((await as('carol', ['history', runId, '--json'])).stdout) as Ev[];
    const waiting = async () => {
      const r = await as('alice', ['run', 'definitions/restock.yaml', '--json']);
      expect(r.code, r.stderr).toBe(3);
      return JSON.parse(r.stdout).runId as string;
    };

    const first = await waiting();
    // Who started it is recorded, as an engine records a person's start over NATS.
    expect((await history(first))[0]!.data.source?.by).toBe('alice');
    const before = (await history(first)).length;
    const bob = await as('bob', ['signal', first, 'go']);
    expect(bob.code).toBe(2);
    expect(bob.stderr).toContain(REFUSED);
    expect((await history(first)).length).toBe(before);
    const alice = await as('alice', ['signal', first, 'go', '--data', '{"by":"the starter"}']);
    expect(alice.code, alice.stderr).toBe(0);
    expect(JSON.parse((await as('alice', ['status', first, '--json'])).stdout)).toMatchObject({
      status: 'COMPLETED',
      tasks: { go: { output: { by: 'the starter' } } },
    });

    const second = await waiting();
    const carol = await as('carol', ['signal', second, 'go']);
    expect(carol.code, carol.stderr).toBe(0);
    expect((await history(second)).filter((e) => e.type === 'signal.received').map((e) => e.data.by)).toEqual([
      'carol',
    ]);
  }, 90_000);

  it("without a users file, as before: anyone's signal is taken", async () => {
    const dir = project('lf-signal-open-');
    const r = await cli(['--store', 'store', 'run', 'definitions/restock.yaml', '--json'], {
      cwd: dir,
      env: { LEDGERFLOW_USER: 'alice' },
    });
    expect(r.code, r.stderr).toBe(3);
    const runId = JSON.parse(r.stdout).runId as string;
    const bob = await cli(['--store', 'store', 'signal', runId, 'go', '--as', 'bob'], { cwd: dir });
    expect(bob.code, bob.stderr).toBe(0);
    expect(JSON.parse((await cli(['--store', 'store', 'status', runId, '--json'], { cwd: dir })).stdout).status).toBe(
      'COMPLETED',
    );
  }, 60_000);
});

describe.skipIf(noNats)(
  "a WAIT without from: on NATS (a nats-server with the users file's users, an engine given it)",
  () => {
    const nats = useUsersNats();
    const { procs, url, as } = nats;

    it('bob (L2, not the starter) is refused by the engine, nothing recorded; alice (the starter) and carol (L1) are taken', async () => {
      const dir = project('lf-signal-default-nats-');
      await nats.start(dir, [['engine', 'L1'], ...PEOPLE]);
      expect((await as('engine', ['deploy', 'definitions/restock.yaml'])).code).toBe(0);
      let engineLog = '';
      const engine = spawnCli(['--nats', url('engine'), 'engine', '--users', join(dir, 'users.yaml')], { cwd: dir });
      procs.push(engine);
      engine.stderr!.on('data', (d) => (engineLog += d));
      const admin = nats.admin();
      const waiting = async () => {
        const r = await as('alice', ['start', 'restock', '--json']);
        expect(r.code, r.stderr + engineLog).toBe(0);
        const runId = JSON.parse(r.stdout).runId as string;
        expect(
          (await runReads(admin.store).wait(runId, { orWaiting: true, timeoutMs: 30_000 })).status,
          engineLog,
        ).toBe('WAITING');
        return runId;
      };

      const first = await waiting();
      const before = await admin.store.lastSeq(first);
      const bob = await as('bob', ['signal', first, 'go']);
      expect(bob.code, bob.stdout + engineLog).toBe(2);
      expect(bob.stderr).toContain(REFUSED);
      expect(await admin.store.lastSeq(first)).toBe(before);
      const alice = await as('alice', ['signal', first, 'go', '--data', '{"by":"the starter"}']);
      expect(alice.code, alice.stderr + engineLog).toBe(0);
      expect(await runReads(admin.store).wait(first, { timeoutMs: 30_000 })).toMatchObject({
        status: 'COMPLETED',
        tasks: { go: { output: { by: 'the starter' } } },
      });

      const second = await waiting();
      const carol = await as('carol', ['signal', second, 'go']);
      expect(carol.code, carol.stderr + engineLog).toBe(0);
      expect(await runReads(admin.store).wait(second, { timeoutMs: 30_000 })).toMatchObject({ status: 'COMPLETED' });
      expect(
        (await admin.store.read(second))
          .filter((e) => e.type === 'signal.received')
          .map((e) => (e.data as { by?: string }).by),
      ).toEqual(['carol']);
    }, 120_000);
  },
);
