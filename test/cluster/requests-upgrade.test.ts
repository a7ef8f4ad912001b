/**
 * A cluster made before requests had a subject per sender (issue 60): its LF_REQUESTS takes
 * lf.starts.<sender>.<request> and has no bound per sender, and a request waits there in that form. Set up by this
 * version, the stream takes lf.starts.<sender> (and deploys, limits) instead, at most 16 per sender, the next
 * refused; the request that waited is still taken and its run started; one published in the old form now finds no
 * stream. A stream made before upkeep requests (archive, restore, blob gc, keys rotate) takes lf.upkeep.<sender> too,
 * what waits in it kept.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DiscardPolicy, RetentionPolicy } from '@nats-io/jetstream';
import { parseDefinition, type Definition } from '../../src/definition/index.js';
import { freshRunId } from '../../src/cluster/index.js';
import { REQUESTS_LIMITS, STREAMS } from '../../src/cluster/transport/index.js';
import { jetstream } from '../../src/store/index.js';
import { noNats, startCluster, type Cluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';

const FLOW = 'workflow:\n  id: w\n  tasks:\n    - { id: a, type: SET, values: { x: 1 } }\n';

function definition(text: string): Definition {
  const parsed = parseDefinition(text);
  if (!parsed.definition) throw new Error(JSON.stringify(parsed.diagnostics));
  return parsed.definition;
}

let c: Cluster | undefined;
afterEach(async () => {
  await c?.stop();
  c = undefined;
});

describe.skipIf(noNats)('LF_REQUESTS made by an older version', () => {
  it('takes a subject per sender, bounded, once set up again; the request that waited in the old form is still run', async () => {
    c = await startCluster({});
    const jsm = await c.jsm();
    await jsm.streams.add({
      name: STREAMS.requests.name,
      subjects: ['lf.starts.*.*', 'lf.deploys.*.*', 'lf.limits.*.*'],
      retention: RetentionPolicy.Workqueue,
      discard: DiscardPolicy.Old,
    });
    const js = jetstream(await c.admin());
    const runId = freshRunId();
    await js.publish('lf.starts.bob.legacy00001', JSON.stringify({ workflow: 'w', input: {}, runId }));

    await c.client.deploy(definition(FLOW));
    await c.addEngine();
    const { config } = await jsm.streams.info(STREAMS.requests.name);
    expect([config.subjects, config.max_msgs_per_subject, config.discard_new_per_subject, config.discard]).toEqual([
      ['lf.starts.*', 'lf.deploys.*', 'lf.limits.*', 'lf.upkeep.*'],
      REQUESTS_LIMITS.maxPerSender,
      true,
      DiscardPolicy.New,
    ]);
    await waitFor('the request that waited to be run', async () => (await c!.client.store.lastSeq(runId)) > 0, {
      timeout: 30_000,
    });
    expect((await c.runs.wait(runId, { timeoutMs: 30_000 })).status).toBe('COMPLETED');
    await expect(js.publish('lf.starts.bob.legacy00002', '{}')).rejects.toThrow(
      /no responders|503|jetstream is not enabled/i,
    );
  }, 60_000);

  it('takes lf.upkeep.<sender> too when made before upkeep requests, what waits in it kept', async () => {
    c = await startCluster({});
    const jsm = await c.jsm();
    await jsm.streams.add({
      name: STREAMS.requests.name,
      subjects: ['lf.starts.*', 'lf.deploys.*', 'lf.limits.*'],
      retention: RetentionPolicy.Workqueue,
      discard: DiscardPolicy.Old,
    });
    const js = jetstream(await c.admin());
    // No engine yet: the request waits.
    await js.publish('lf.deploys.bob', JSON.stringify({ request: 'waiting001', text: FLOW }));
    await expect(js.publish('lf.upkeep.bob', '{}')).rejects.toThrow(/no responders|503|jetstream is not enabled/i);
    await c.client.conn(); // sets the cluster up, as any command of this version does
    const info = await jsm.streams.info(STREAMS.requests.name);
    expect([info.config.subjects, info.state.messages]).toEqual([
      ['lf.starts.*', 'lf.deploys.*', 'lf.limits.*', 'lf.upkeep.*'],
      1,
    ]);
    await js.publish('lf.upkeep.bob', JSON.stringify({ request: 'upkeep0001', verb: 'blob-gc', dryRun: true }));
    expect((await jsm.streams.info(STREAMS.requests.name)).state.messages).toBe(2);
  }, 60_000);
});
