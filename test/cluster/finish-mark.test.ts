/**
 * An attempt whose outcome a worker could only publish on LF_INPUTS (no engine took it straight: its engine was
 * failing over, or none answered in time) is marked finished in the attempt ledger before the worker lets it go,
 * and the mark waits out a moment when the ledger's bucket has no leader (src/cluster/transport/attempts.ts
 * finishSurely). The mark is what stops a copy of the attempt, queued when its engine stopped hearing of it, from
 * running a second time while the outcome waits on LF_INPUTS: a 3-node cluster whose node was killed ran such an
 * attempt twice, the mark having been a plain publish lost in the election (test/cluster/three-nodes.test.ts).
 *
 * The bucket's stream is deleted and made again here: to its writers that is a stream without a leader for a while
 * (every write gets "no responders", as in an election).
 */
import { headers } from '@nats-io/nats-core';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import {
  ATTEMPTS_BUCKET,
  createWorker,
  ensureCluster,
  STREAMS,
  subjects,
  taskStream,
} from '../../src/cluster/index.js';
import type { TaskMessage } from '../../src/cluster/index.js';
import { AttemptTokens } from '../../src/cluster/transport/attempt-tokens.js';
import { ATTEMPT_SIG_HEADER, publishAttemptKey } from '../../src/cluster/transport/attempt-keys.js';
import { AttemptLedger } from '../../src/cluster/transport/attempts.js';
import { ensureWorkerConsumer } from '../../src/cluster/transport/setup.js';
import { noNats, skipNote, useCluster } from '../helpers/cluster.js';
import { gate, waitFor } from '../helpers/wait.js';

describe.skipIf(noNats)(`the finished mark of an outcome only on LF_INPUTS${skipNote}`, () => {
  const c = useCluster();

  it('lands once the ledger is back, and a copy of the attempt given to another worker is not run again', async () => {
    const nc = await c.connect();
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    await ensureCluster(jsm);
    // No engine here: the test queues (and signs) the attempt as an engine does, so no engine takes its outcome
    // straight, and the worker publishes it on LF_INPUTS.
    const tokens = await AttemptTokens.open(js);
    await publishAttemptKey(js, tokens);
    await ensureWorkerConsumer(jsm, 'default', 'slow');
    const task: TaskMessage = {
      runId: 'run-marked',
      workflowId: 'wf',
      version: 1,
      taskId: 'slow',
      attempt: 1,
      handler: 'slow',
      input: { n: 21 },
      token: 'the-attempts-token',
      task: { name: 'slow', type: 'SIMPLE', output: { names: [], values: {} } },
    };
    const queue = (client: JetStreamClient) => {
      const data = new TextEncoder().encode(JSON.stringify(task));
      const h = headers();
      h.set(ATTEMPT_SIG_HEADER, tokens.sign(data));
      return client.publish(subjects.task('default', 'slow'), data, { headers: h });
    };
    const ledger = await AttemptLedger.open(nc);
    const key = AttemptLedger.key('default', task.runId, 'slow', 1, 0, task.token);
    const pending = async () => (await jsm.streams.info(taskStream('default').name)).state.messages;

    const runs: string[] = [];
    const release = gate();
    const logs: string[] = [];
    const worker = (name: string) =>
      createWorker({
        nats: c.as('worker'),
        log: (l) => logs.push(`${name} ${l}`),
        handlers: {
          slow: async (input, ctx) => {
            runs.push(`${name} ${ctx.idempotencyKey}`);
            await release.opened;
            return { n: Number(input.n) * 2 };
          },
        },
      });
    const first = worker('W1');
    await first.start();
    try {
      await queue(js);
      await waitFor('W1 to claim and start the attempt', async () => runs.length === 1 && (await ledger.read(key)));
      // The ledger's bucket loses its leader while the attempt runs; the outcome goes to LF_INPUTS all the same.
      await jsm.streams.delete(`KV_${ATTEMPTS_BUCKET}`);
      release.open();
      // The delivery is answered once the outcome is on LF_INPUTS: the mark has been tried by then.
      await waitFor('the outcome to be published and the delivery answered', async () => (await pending()) === 0);
      const inputs = await jsm.streams.getMessage(STREAMS.inputs.name, {
        last_by_subj: subjects.report('worker', 'default', task.runId),
      });
      expect(inputs?.json()).toMatchObject({ type: 'task.completed', data: { output: { n: 42 } } });
      await AttemptLedger.ensure(jsm);
      await waitFor(
        'the finished mark in the ledger',
        async () => (await ledger.read(key))?.by?.finished === 'task.completed',
        { timeout: 10_000, detail: () => logs.join('\n') },
      );
    } finally {
      release.open();
      await first.stop();
    }

    // A copy of the attempt (its engine stopped hearing of it before folding the outcome) reaches another worker:
    // the ledger says finished, so it is reported to the engine with that, not run.
    const second = worker('W2');
    await second.start();
    try {
      await queue(js);
      // Waited for on LF_INPUTS itself: the worker counts the copy lost before its report is published.
      const lastReport = async () =>
        (
          await jsm.streams.getMessage(STREAMS.inputs.name, {
            last_by_subj: subjects.report('worker', 'default', task.runId),
          })
        )?.json<{ type: string }>();
      await waitFor('W2 to report the copy', async () => (await lastReport())?.type === 'task.lost', {
        detail: () => logs.join('\n'),
      });
      expect(second.stats.lost).toBe(1);
      expect(runs).toEqual(['W1 run-marked/slow/1']);
      expect(await lastReport()).toMatchObject({ type: 'task.lost', data: { ledger: 'task.completed' } });
    } finally {
      await second.stop();
    }
  }, 60_000);
});
