/**
 * A data key lost on NATS (docs/security.md#on-nats, docs/retention.md): the key in KV LF_SECRETS replaced without a
 * rotation, so the runs sealed before hold a key no provider has. `archive` asked by a person (the engines do it,
 * lf.upkeep) and by the engine user (directly) leaves those runs live, each named with the key it needs, and moves
 * the others (exit 1); with the key put back as LF_DATA_KEY_<id> in the bucket, the engines move them too.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { noNats } from '../helpers/cluster.js';
import { cli, spawnCli, tempDir } from '../helpers/cli.js';
import { useUsersNats } from '../helpers/authority.js';
import { killLeftovers } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';
import { INVOICE_YAML } from '../retention/docs-scenario.js';

type Archived = { archived: number; runs: { runId: string }[]; left: { runId: string; reason: string }[] };

const nats = useUsersNats();
const { procs, url, as } = nats;

describe.skipIf(noNats)('archive with a data key lost, on NATS (docs/retention.md)', () => {
  it('a person and the engine user: the runs sealed with the lost key stay live and are named, the others move', async () => {
    const dir = tempDir('lf-lost-key-nats-');
    writeFileSync(join(dir, 'invoice.yaml'), INVOICE_YAML);
    await nats.start(dir, [
      ['engine', 'L1'],
      ['bob', 'L1'],
    ]);
    const env = { LEDGERFLOW_SECRET_LF_DATA_KEY: '' };
    const setKey = async (name: string, key: string) => {
      const r = await cli(['--nats', url('engine'), 'secrets', 'set', name], { cwd: dir, env, stdin: key });
      expect(r.code, r.stderr).toBe(0);
    };
    let log = '';
    const engine = (...more: string[]): ChildProcess => {
      const p = spawnCli(['--nats', url('engine'), 'engine', '--users', join(dir, 'users.yaml'), ...more], {
        cwd: dir,
        env,
      });
      p.stderr!.on('data', (d) => (log += d));
      procs.push(p);
      return p;
    };
    const runs = async (amount: string, workflow = 'invoice', n = 2) => {
      const ids: string[] = [];
      for (let i = 0; i < n; i++) {
        const r = await as('engine', ['start', workflow, '--amount', amount, '--json']);
        expect(r.code, r.stderr).toBe(0);
        ids.push((JSON.parse(r.stdout) as { runId: string }).runId);
      }
      for (const id of ids) {
        const waited = await as('engine', ['wait', id, '--timeout', '30s']);
        expect(waited.code, `${waited.stderr}\n${log}`).toBe(0);
      }
      return ids;
    };
    const keyA = randomBytes(32).toString('base64');
    await setKey('LF_DATA_KEY', keyA);
    writeFileSync(
      join(dir, 'brief.yaml'),
      INVOICE_YAML.replace('id: invoice', 'id: brief').replace('retention: 30d', 'retention: 1s'),
    );
    for (const file of ['invoice.yaml', 'brief.yaml']) expect((await as('engine', ['deploy', file])).code).toBe(0);
    const first = engine();
    const sealedA = await runs('4711');
    // The key replaced, not rotated: A is kept nowhere. The engine restarted reads the new one.
    await setKey('LF_DATA_KEY', randomBytes(32).toString('base64'));
    await killLeftovers([first]);
    engine('--archive-every', '1s');

    // The engine's rounds archive a run past its retention (1s) all the same: the lost key's runs (invoice's only
    // runs yet), not due, are passed over (their retention is read from the clear definition), never failing a round.
    const [brief] = await runs('4713', 'brief', 1);
    await waitFor(
      "the engine's rounds to archive the brief run past its retention",
      async () => {
        const listed = JSON.parse((await as('engine', ['list', '--json'])).stdout) as { runId: string }[];
        const kept = JSON.parse((await as('engine', ['archive', 'list', '--json'])).stdout) as {
          periods: { runs: number }[];
        };
        return !listed.some((r) => r.runId === brief) && kept.periods.reduce((n, p) => n + p.runs, 0) === 1;
      },
      { timeout: 30_000, detail: () => log },
    );
    const sealedB = await runs('4712');

    // Listed all the same (what is clear: ids, statuses, times), the lost key's values `[encrypted]`.
    const before = await as('engine', ['list', '--json']);
    expect(before.code, before.stderr).toBe(0);
    const shown = new Map((JSON.parse(before.stdout) as { runId: string; result: string }[]).map((r) => [r.runId, r]));
    expect([...shown.keys()].sort()).toEqual([...sealedA, ...sealedB].sort());
    expect(shown.get(sealedA[0]!)!.result).toBe('[encrypted]');
    const byPerson = await as('bob', ['archive', '--older-than', '0s', '--json']);
    expect(byPerson.code, `${byPerson.stderr}\n${log}`).toBe(1);
    const asked = JSON.parse(byPerson.stdout) as Archived;
    expect(asked.runs.map((r) => r.runId).sort()).toEqual([...sealedB].sort());
    expect(asked.left.map((l) => l.runId).sort()).toEqual([...sealedA].sort());
    const idA = /LF_DATA_KEY_([0-9a-f]{16})/.exec(asked.left[0]!.reason)![1]!;
    expect(byPerson.stderr).toContain(`left live: run ${sealedA[0]} holds values sealed with data key ${idA}`);

    const direct = await as('engine', ['archive', '--older-than', '0s']);
    expect(direct.code, direct.stderr).toBe(1);
    expect(direct.stdout).toContain('archived 0 runs; 2 runs left live (above)');
    for (const id of sealedA) expect(direct.stderr).toContain(`run ${id} holds values sealed with data key ${idA}`);
    // Read as the engine user: the CLI's reads are its (docs/nats.md#users-and-permissions-approvals-and-identity).
    const listing = await as('engine', ['list', '--json']);
    expect(listing.code, listing.stderr + listing.stdout).toBe(0);
    const listed = JSON.parse(listing.stdout) as { runId: string }[];
    expect(listed.map((r) => r.runId).sort()).toEqual([...sealedA].sort());

    // A reader holding the lost key in its own environment reads those runs, though LF_SECRETS holds another key.
    const own = await cli(['--nats', url('engine'), 'status', sealedA[0]!, '--json'], {
      cwd: dir,
      env: { LEDGERFLOW_SECRET_LF_DATA_KEY: keyA },
    });
    expect(own.code, own.stderr).toBe(0);
    expect(JSON.parse(own.stdout).input).toEqual({ amount: '4711' });

    // Put back as the message says: the engines ask for a key they lack again after a few seconds.
    await setKey(`LF_DATA_KEY_${idA}`, keyA);
    let last: Archived | undefined;
    await waitFor(
      'the engines to archive the runs sealed with the key put back',
      async () => {
        const r = await as('bob', ['archive', '--older-than', '0s', '--json']);
        if (r.code !== 0 && r.code !== 1) throw new Error(r.stderr);
        last = JSON.parse(r.stdout) as Archived;
        return r.code === 0 && last.archived === 2;
      },
      { timeout: 30_000, detail: () => log },
    );
    expect([last!.runs.map((r) => r.runId).sort(), last!.left]).toEqual([[...sealedA].sort(), []]);
    expect(log).not.toContain('trying again at each round');
  }, 150_000);
});
