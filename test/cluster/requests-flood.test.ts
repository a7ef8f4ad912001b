/**
 * A person cannot fill the server, nor the engines' request queue, through start requests (docs/nats.md, "filling
 * the server"; issue 60): with no engine running (an upgrade, a crash), bob (L2) publishes 1 MB requests on his own
 * subject as fast as the server takes them. LF_REQUESTS refuses him once his own share waits (16 per sender: discard
 * new per subject), the server's store is not filled, a request in the form before subjects per sender finds no
 * stream, bob's CLI is told his share is full, and alice's start, queued before the flood, is still there (nothing
 * dropped) and run by the next engine; her approval is still published.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { credentials, REQUESTS_LIMITS } from '../../src/cluster/transport/index.js';
import { connect, jetstream, jetstreamManager } from '../../src/store/index.js';
import { noNats } from '../helpers/cluster.js';
import { spawnCli, tempDir } from '../helpers/cli.js';
import { useUsersNats } from '../helpers/authority.js';
import { killLeftovers } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';
import { runReads } from '../../src/runs/index.js';

const REVIEW = `workflow:
  id: stock-count
  domain: inventory
  tasks:
    - { id: review, type: HUMAN, agent_level: "L0" }
`;
const USERS = [
  ['engine', 'L1'],
  ['alice', 'L0'],
  ['bob', 'L2'],
] as const;

const nats = useUsersNats();
const { procs, url, as } = nats;
let dir = '';

describe.skipIf(noNats)('a flood of start requests while no engine runs', () => {
  beforeAll(async () => {
    dir = tempDir('lf-requests-flood-');
    writeFileSync(join(dir, 'stock-count.yaml'), REVIEW);
    await nats.start(dir, USERS);
    expect((await as('engine', ['deploy', 'stock-count.yaml'])).code).toBe(0);
  }, 60_000);

  it('LF_REQUESTS refuses bob past its bound, the server is not filled, and alice still approves', async () => {
    // A run waiting for alice, started by an engine that then stops (the flood comes while none runs).
    const engine = spawnCli(['--nats', url('engine'), 'engine', '--users', join(dir, 'users.yaml')], { cwd: dir });
    procs.push(engine);
    const { runId } = await nats.admin().start('stock-count', {});
    expect((await runReads(nats.admin().store).wait(runId, { orWaiting: true, timeoutMs: 30_000 })).status).toBe(
      'WAITING',
    );
    await killLeftovers([engine]);

    // alice queues a start first (no engine answers).
    const queued = await as('alice', ['start', 'stock-count', '--wait', '1s', '--json']);
    expect(queued.code, queued.stderr).toBe(3);
    const alicesRun = (JSON.parse(queued.stdout) as { runId: string }).runId;
    const alicesSeq = (
      await (
        await jetstreamManager(await nats.admin().store.connection())
      ).streams.getMessage('LF_REQUESTS', { last_by_subj: 'lf.starts.alice' })
    )?.seq;
    expect(alicesSeq).toBeGreaterThan(0);

    const nc = await connect({ ...credentials(url('bob')), name: 'flood' });
    const js = jetstream(nc);
    const body = new Uint8Array(1000 * 1024).fill(0x20);
    let accepted = 0;
    let refusal = '';
    for (let i = 0; i < 200 && refusal === ''; i++) {
      try {
        await js.publish('lf.starts.bob', body);
        accepted++;
      } catch (err) {
        refusal = (err as Error).message;
      }
    }
    // His share, counted exactly by the server: the next is refused, none of his or anyone's dropped.
    expect([accepted, refusal]).toEqual([
      REQUESTS_LIMITS.maxPerSender,
      expect.stringMatching(/maximum messages per subject exceeded/),
    ]);
    await expect(js.publish('lf.starts.bob', body.subarray(0, 300))).rejects.toThrow(
      /maximum messages per subject exceeded/,
    );
    // A request in the form before subjects per sender (lf.starts.<sender>.<request>): the generated users config no
    // longer grants it, and no stream takes it (even from the engine user).
    await expect(js.publish('lf.starts.bob.legacy00001', body.subarray(0, 300))).rejects.toThrow(
      /Permissions Violation for Publish to "lf\.starts\.bob\.legacy00001"/,
    );
    await nc.close();
    const jsm = await jetstreamManager(await nats.admin().store.connection());
    await expect(
      jetstream(await nats.admin().store.connection()).publish('lf.starts.bob.legacy00002', '{}'),
    ).rejects.toThrow(/no responders|503|jetstream is not enabled/i);
    const info = await jsm.streams.info('LF_REQUESTS');
    expect(info.state.messages).toBe(REQUESTS_LIMITS.maxPerSender + 1);
    expect(info.state.bytes).toBeLessThanOrEqual(REQUESTS_LIMITS.maxPerSender * (body.length + 200));
    expect((await jsm.getAccountInfo()).storage).toBeLessThan(REQUESTS_LIMITS.maxBytes);

    // bob's CLI is told his share is full.
    const bobs = await as('bob', ['start', 'stock-count', '--wait', '1s']);
    expect(bobs.stderr).toContain("your own requests fill your share of the engines' request queue");
    expect(bobs.code).not.toBe(0);
    // alice's request, queued before the flood, is still there: bob's flood dropped nothing of hers (nats-server before
    // 2.10.5 drops a stream's oldest message when a small one is taken at its byte bound: the count refuses bob first).
    expect((await jsm.streams.getMessage('LF_REQUESTS', { last_by_subj: 'lf.starts.alice' }))?.seq).toBe(alicesSeq);
    // And alice's start after the flood is taken too.
    const after = await as('alice', ['start', 'stock-count', '--wait', '1s', '--json']);
    expect(after.code, after.stderr).toBe(3);
    const alicesNext = (JSON.parse(after.stdout) as { runId: string }).runId;

    // Approvals are not requests: alice's goes out (queued for the next engine), recording nothing yet.
    const approve = await as('alice', ['approve', runId, 'review', '--wait', '1s']);
    expect([approve.code, approve.stdout + approve.stderr]).toEqual([
      3,
      expect.stringContaining('it waits in LF_APPROVALS for the next engine'),
    ]);

    // The next engine runs alice's start, recorded as hers, and takes bob's flood (refused: not a request).
    const next = spawnCli(['--nats', url('engine'), 'engine', '--users', join(dir, 'users.yaml')], { cwd: dir });
    procs.push(next);
    for (const run of [alicesRun, alicesNext]) {
      await waitFor("alice's queued start to be taken", async () => (await nats.admin().store.lastSeq(run)) > 0, {
        timeout: 60_000,
      });
      expect((await runReads(nats.admin().store).wait(run, { orWaiting: true, timeoutMs: 60_000 })).status).toBe(
        'WAITING',
      );
      expect(((await nats.admin().store.read(run))[0]!.data as { source?: { by?: string } }).source?.by).toBe('alice');
    }
  }, 120_000);
});
