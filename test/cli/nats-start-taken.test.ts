/**
 * Issue 60 (Low): a start request naming another person's run id. On a
 * nats-server whose users come from the users file, alice starts a run; bob
 * names its id in his own start requests (`start --id`, a raw request's fresh
 * `runId`, of the same workflow or another, a retry's new run): each is
 * refused with LF_RUN_ID_TAKEN, and alice's run is neither answered for nor
 * kicked (its log keeps its last sequence, no kick is published for it).
 * A request of one's own taken again is still answered "existing".
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/nats-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { freshRunId } from '../../src/cluster/index.js';
import { credentials } from '../../src/cluster/transport/index.js';
import { connect, jetstream } from '../../src/store/index.js';
import { noNats } from '../helpers/cluster.js';
import { spawnCli, tempDir } from '../helpers/cli.js';
import { useUsersNats } from '../helpers/authority.js';
import { waitFor } from '../helpers/wait.js';
import { runReads } from '../../src/runs/index.js';

const REVIEW = `workflow:
  id: review
  tasks:
    - { id: count, type: SET, values: { counted: 42 } }
    - { id: check, type: HUMAN, depends_on: [count], agent_level: "L1" }
`;
const OTHER = REVIEW.replace('id: review', 'id: other');
const USERS = [
  ['engine', 'L1'],
  ['alice', 'L1'],
  ['bob', 'L1'],
] as const;
type Verdict = {
  accepted: boolean;
  code?: string;
  reason?: string;
  runId?: string;
  workflowId?: string;
  existing?: true;
};

const nats = useUsersNats();
const { procs, url, as } = nats;
let dir = '';
let engineLog = '';

/** A person's raw start requests on lf.starts.<user> (the request's id in the body), each answered on its verdict subject. */
class Sender {
  private readonly verdicts = new Map<string, Verdict>();
  private n = 0;
  private constructor(
    readonly user: string,
    private readonly nc: NatsConnection,
  ) {}
  static async open(user: string): Promise<Sender> {
    const s = new Sender(user, await connect({ ...credentials(url(user)), name: `raw-${user}` }));
    s.nc.subscribe(`lf.verdicts.starts.${user}.*`, {
      callback: (_e, m) => {
        s.verdicts.set(m.subject.split('.').at(-1)!, JSON.parse(new TextDecoder().decode(m.data)) as Verdict);
      },
    });
    await s.nc.flush();
    return s;
  }
  async send(body: Record<string, unknown>): Promise<Verdict> {
    const request = `req${String(++this.n).padStart(5, '0')}${this.user}`;
    await jetstream(this.nc).publish(
      `lf.starts.${this.user}`,
      new TextEncoder().encode(JSON.stringify({ request, ...body })),
    );
    await waitFor(`the verdict on ${this.user}'s request ${request}`, () => this.verdicts.has(request), {
      timeout: 30_000,
      detail: () => engineLog,
    });
    return this.verdicts.get(request)!;
  }
  close(): Promise<void> {
    return this.nc.close();
  }
}

describe.skipIf(noNats)('a start request naming a run it did not start is refused (issue 60)', () => {
  beforeAll(async () => {
    dir = tempDir('lf-nats-start-taken-');
    writeFileSync(join(dir, 'review.yaml'), REVIEW);
    writeFileSync(join(dir, 'other.yaml'), OTHER);
    await nats.start(dir, USERS);
    const deployed = await as('engine', ['deploy', 'review.yaml', 'other.yaml']);
    expect(deployed.code, deployed.stderr).toBe(0);
    const engine = spawnCli(['--nats', url('engine'), 'engine', '--users', join(dir, 'users.yaml')], { cwd: dir });
    procs.push(engine);
    engine.stderr!.on('data', (d) => (engineLog += d));
  }, 60_000);

  it('bob naming alice\'s run (start --id, a raw runId, another workflow, a retry) is refused, her run untouched; his own request again is "existing"', async () => {
    const started = await as('alice', ['start', 'review', '--json']);
    expect(started.code, started.stderr + engineLog).toBe(0);
    const { runId: aliceRun } = JSON.parse(started.stdout) as { runId: string };
    expect(
      (await runReads(nats.admin().store).wait(aliceRun, { orWaiting: true, timeoutMs: 30_000 })).status,
      engineLog,
    ).toBe('WAITING');
    const before = await nats.admin().store.lastSeq(aliceRun);
    // Every kick of alice's run, seen as the engines see it (lf.inputs.<sender>.<runId>).
    const watcher = await connect({ ...credentials(url('engine')), name: 'kick-watcher' });
    const kicks: string[] = [];
    watcher.subscribe(`lf.inputs.*.${aliceRun}`, {
      callback: (_e, m) => {
        kicks.push(new TextDecoder().decode(m.data));
      },
    });
    await watcher.flush();
    const bob = await Sender.open('bob');
    const alice = await Sender.open('alice');
    try {
      // Through the CLI: `start --id <alice's run>`, refused with the embedded store's code for a taken id.
      const viaCli = await as('bob', ['start', 'review', '--id', aliceRun, '--json']);
      expect(viaCli.code, viaCli.stdout + viaCli.stderr).toBe(2);
      expect(viaCli.stderr).toContain(
        `run id ${aliceRun}, named by this start request, is taken by a run someone else started`,
      );
      // Raw requests: her run's id as the fresh runId (the same workflow, another), as a caller id, as a retry's new run.
      const refused = [
        await bob.send({ workflow: 'review', input: {}, runId: aliceRun }),
        await bob.send({ workflow: 'other', input: {}, runId: aliceRun }),
        await bob.send({ workflow: 'review', input: {}, id: aliceRun }),
        await bob.send({ workflow: 'review', input: {}, id: aliceRun, idReuse: 'allow' }),
        await bob.send({ retryOf: aliceRun, runId: aliceRun }),
      ];
      for (const v of refused) {
        expect(v, engineLog).toMatchObject({ accepted: false, code: 'LF_RUN_ID_TAKEN' });
        expect(v.existing).toBeUndefined();
        expect(v.reason).toContain(`run id ${aliceRun}`);
        // Her name is not told to him.
        expect(v.reason).not.toContain('alice');
      }
      expect(refused[0]!.reason).toContain('a run someone else started');
      expect(refused[1]!.reason).toContain('a run of workflow review, not other');
      // Her run: not a single event more, and never kicked.
      expect(await nats.admin().store.lastSeq(aliceRun)).toBe(before);
      await watcher.flush();
      expect(kicks).toEqual([]);
      expect((await runReads(nats.admin().store).status(aliceRun))?.status).toBe('WAITING');

      // bob's own request taken again (the same body, as after an engine that died holding it): "existing", as before.
      const mine = { workflow: 'review', input: {}, runId: freshRunId() };
      expect(await bob.send(mine)).toMatchObject({ accepted: true, runId: mine.runId, workflowId: 'review' });
      const again = await bob.send(mine);
      expect(again).toMatchObject({ accepted: true, runId: mine.runId, workflowId: 'review', existing: true });
      // …and his own caller id, again through the CLI.
      const first = await as('bob', ['start', 'review', '--id', 'bob-order-1', '--json']);
      expect(first.code, first.stderr).toBe(0);
      const second = await as('bob', ['start', 'review', '--id', 'bob-order-1', '--json']);
      expect(second.code, second.stderr).toBe(0);
      expect(JSON.parse(second.stdout)).toMatchObject({ runId: 'bob-order-1', workflowId: 'review', existing: true });
      // Which alice may not take for hers.
      expect(await alice.send({ workflow: 'review', input: {}, id: 'bob-order-1' })).toMatchObject({
        accepted: false,
        code: 'LF_RUN_ID_TAKEN',
      });
      // alice's own request for her run, taken again: "existing", and kicked (the watcher sees kicks).
      expect(await alice.send({ workflow: 'review', input: {}, runId: aliceRun })).toMatchObject({
        accepted: true,
        runId: aliceRun,
        existing: true,
      });
      await waitFor("the kick of alice's own request taken again", () => kicks.length > 0, { timeout: 10_000 });
      // Each refusal is kept as a dead letter with its reason.
      const dlq = await as('engine', ['dlq', 'list', '--json']);
      expect(dlq.stdout).toContain('is taken by a run someone else started');
    } finally {
      await bob.close();
      await alice.close();
      await watcher.close();
    }
  }, 120_000);
});
