/**
 * docs/users.md#on-nats: the upkeep verbs as a person on a nats-server whose users come from the users file
 * (`users nats-conf`). A person's NATS user may not write the streams, so `archive`, `restore`, `blob gc` and
 * `keys rotate` ask the engines (lf.upkeep.<user>), which judge the level as the embedded store's run API does
 * (upkeep-levels.test.ts): a Station OPS (L2) is refused in the same words (LF_AUTHORITY_REFUSED, exit 2), a Worker
 * (L3) by the server, and nothing changes; a CMD.BRIDGE (L1) does each, through the real CLI. A hostile request is
 * refused with a reason and the engine goes on.
 */
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { credentials } from '../../src/cluster/transport/index.js';
import { parseDataKey } from '../../src/encryption/index.js';
import { PAYLOAD_GC_LIST_MAX } from '../../src/executor/index.js';
import { kvSecrets } from '../../src/secrets/index.js';
import { connect, jetstream } from '../../src/store/index.js';
import { runReads } from '../../src/runs/index.js';
import { noNats } from '../helpers/cluster.js';
import { spawnCli, tempDir } from '../helpers/cli.js';
import { useUsersNats } from '../helpers/authority.js';
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

const nats = useUsersNats();
const { procs, url, as } = nats;
let dir = '';
let engineLog = '';
let runId = '';
let orphan = '';
/** The store as the engine user reads it: the live runs, whether the orphan body is there, the data key. */
const live = async (): Promise<string[]> => (await nats.admin().store.listRuns()).map((r) => r.runId).sort();
const orphanThere = () => nats.admin().store.blobs!().has(orphan);
const dataKey = async () => kvSecrets(await nats.admin().store.connection()).get('LF_DATA_KEY');
/** An L2's refusal: the engine's, in the embedded store's words (both levels named). */
const refusedL2 = (r: { code: number | null; stderr: string }, what: string) => {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).toContain('ops-east is L2');
  expect(r.stderr).toContain(`${what} needs L1 (CMD.BRIDGE) or higher`);
};
/** A Worker's refusal: the server's (a worker's nats.conf block publishes no request), exit 2 all the same. */
const refusedL3 = (r: { code: number | null; stderr: string; stdout: string }) => {
  expect(r.code, r.stderr).toBe(2);
  expect(JSON.parse(r.stdout).error.code).toBe('LF_AUTHORITY_REFUSED');
};

describe.skipIf(noNats)('archive, restore, blob gc and keys rotate as a person on NATS (docs/users.md)', () => {
  beforeAll(async () => {
    dir = tempDir('lf-nats-upkeep-');
    writeFileSync(join(dir, 'report.yaml'), REPORT);
    await nats.start(dir, USERS);
    const deployed = await as('engine', ['deploy', 'report.yaml']);
    expect(deployed.code, deployed.stderr).toBe(0);
    const engine: ChildProcess = spawnCli(['--nats', url('engine'), 'engine', '--users', join(dir, 'users.yaml')], {
      cwd: dir,
    });
    procs.push(engine);
    engine.stderr!.on('data', (d) => (engineLog += d));
    ({ runId } = await nats.admin().start('report', {}));
    const view = await runReads(nats.admin().store).wait(runId, { timeoutMs: 30_000 });
    expect(view.status, engineLog).toBe('COMPLETED');
    // A body no run refers to: what `blob gc --grace 0s` deletes.
    const ref = await nats.admin().store.blobs!().put(new TextEncoder().encode('{"orphan":true}'), 'application/json');
    orphan = ref['lf:blob'].digest;
  }, 90_000);

  it('an L2 is refused each verb by the engine, an L3 by the server: exit 2, and the store is as it was', async () => {
    const [archive, restore, gc, rotate] = await Promise.all([
      as('ops-east', ['archive', '--older-than', '0s']),
      as('ops-east', ['restore', runId]),
      as('ops-east', ['blob', 'gc', '--grace', '0s']),
      as('ops-east', ['keys', 'rotate']),
    ]);
    refusedL2(archive, 'controlling runs');
    refusedL2(restore, 'controlling runs');
    refusedL2(gc, 'controlling runs');
    refusedL2(rotate, 'rotating data keys');
    const json = await as('ops-east', ['archive', '--older-than', '0s', '--json']);
    expect([json.code, JSON.parse(json.stdout).error.code]).toEqual([2, 'LF_AUTHORITY_REFUSED']);
    for (const args of [
      ['archive', '--older-than', '0s'],
      ['blob', 'gc', '--grace', '0s'],
      ['keys', 'rotate'],
    ])
      refusedL3(await as('scanner', [...args, '--json']));
    expect(await live()).toEqual([runId]);
    expect(await orphanThere()).toBe(true);
    expect(await dataKey()).toBeUndefined();
  }, 120_000);

  it('a hostile upkeep request (not JSON, an unknown verb, a field of its own, a bad run id) is refused with a reason; the engine goes on', async () => {
    const nc = await connect({ ...credentials(url('bob')), name: 'hostile-bob' });
    const verdicts = new Map<string, { accepted: boolean; code: string; reason: string }>();
    const sub = nc.subscribe('lf.verdicts.upkeep.bob.*', {
      callback: (_e, m) => {
        verdicts.set(m.subject.split('.').at(-1)!, JSON.parse(new TextDecoder().decode(m.data)));
      },
    });
    await nc.flush();
    const js = jetstream(nc);
    const send = (request: string, body: string) =>
      js.publish('lf.upkeep.bob', new TextEncoder().encode(`{"request":"${request}",${body.slice(1)}`));
    try {
      await send('notjson001', '{nope');
      await send('unknownvb1', JSON.stringify({ verb: 'drop-everything' }));
      await send('ownfield01', JSON.stringify({ verb: 'archive', olderThanMs: 0, as: 'engine' }));
      await send('badrunid01', JSON.stringify({ verb: 'restore', runId: '../../etc/passwd' }));
      await send('negative01', JSON.stringify({ verb: 'blob-gc', graceMs: -1 }));
      // Under another's name: the server refuses it before any engine sees it.
      await expect(js.publish('lf.upkeep.ops-east', new TextEncoder().encode('{}'))).rejects.toThrow(/permission/i);
      await waitFor('the engine to answer every hostile request', () => verdicts.size >= 5, {
        timeout: 30_000,
        detail: () => JSON.stringify([...verdicts]) + engineLog,
      });
      for (const [request, v] of verdicts) {
        expect([request, v.accepted, v.code]).toEqual([request, false, 'LF_REQUEST_REFUSED']);
        expect(v.reason).toContain('malformed upkeep request on lf.upkeep.bob');
      }
      expect(verdicts.get('notjson001')!.reason).toContain('the body is not JSON');
      expect(verdicts.get('ownfield01')!.reason).toMatch(/as/);
    } finally {
      sub.unsubscribe();
      await nc.close();
    }
    // Nothing moved, and the engine still answers.
    expect(await live()).toEqual([runId]);
    expect(await orphanThere()).toBe(true);
    const dry = await as('bob', ['blob', 'gc', '--grace', '0s', '--dry-run', '--json']);
    expect(dry.code, dry.stderr + engineLog).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ collected: [{ digest: orphan }], deleted: false });
    expect(await orphanThere()).toBe(true);
  }, 60_000);

  it('an L1 archives and restores; an L2 may not restore, the run stays archived', async () => {
    const moved = await as('bob', ['archive', '--older-than', '0s', '--json']);
    expect(moved.code, moved.stderr + engineLog).toBe(0);
    expect(JSON.parse(moved.stdout)).toMatchObject({ archived: 1, runs: [{ runId, status: 'COMPLETED' }] });
    expect(await live()).toEqual([]);
    refusedL2(await as('ops-east', ['restore', runId]), 'controlling runs');
    expect(await live()).toEqual([]);
    const back = await as('bob', ['restore', runId, '--json']);
    expect(back.code, back.stderr + engineLog).toBe(0);
    expect(JSON.parse(back.stdout)).toMatchObject({ restored: { runId, status: 'COMPLETED' } });
    expect(await live()).toEqual([runId]);
    expect(engineLog).toContain(`restored run ${runId} for bob`);
  }, 60_000);

  it('an L1 collects the unreferenced bodies (more than one reply names: counted, all deleted) and rotates the data key in KV LF_SECRETS', async () => {
    // More bodies than a report names: the engine's reply counts them all and names PAYLOAD_GC_LIST_MAX.
    const blobs = nats.admin().store.blobs!();
    for (let i = 0; i < PAYLOAD_GC_LIST_MAX; i += 50)
      await Promise.all(
        Array.from({ length: 50 }, (_, k) =>
          blobs.put(new TextEncoder().encode(`{"more":${i + k}}`), 'application/json'),
        ),
      );
    const gc = await as('bob', ['blob', 'gc', '--grace', '0s', '--json']);
    expect(gc.code, gc.stderr + engineLog).toBe(0);
    const report = JSON.parse(gc.stdout) as { collected: { digest: string }[] };
    expect(report).toMatchObject({ collectedCount: PAYLOAD_GC_LIST_MAX + 1, truncated: true, deleted: true });
    expect(report.collected).toHaveLength(PAYLOAD_GC_LIST_MAX);
    expect(await orphanThere()).toBe(false);
    const none = await as('bob', ['blob', 'gc', '--grace', '0s', '--dry-run', '--json']);
    expect(JSON.parse(none.stdout)).toMatchObject({ collected: [], collectedCount: 0, truncated: false });
    const rotated = await as('bob', ['keys', 'rotate', '--json']);
    expect(rotated.code, rotated.stderr + engineLog).toBe(0);
    const r = JSON.parse(rotated.stdout) as { id: string; previous: string | null; where: string };
    expect(r).toMatchObject({ previous: null, where: 'NATS KV LF_SECRETS' });
    expect(parseDataKey((await dataKey())!, 'LF_DATA_KEY').id).toBe(r.id);
  }, 60_000);
});
