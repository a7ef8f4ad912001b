/**
 * Upgrading a cluster from the single task stream LF_TASKS (lf.tasks.<queue>.<handler>)
 * to a stream per queue: an attempt an older engine handed out and no worker
 * ran is moved by the engines onto its queue's stream LF_TASKS_<queue>, same
 * body and message id, and a worker of this version (which may not read
 * LF_TASKS) runs it; the run completes, the attempt ran once.
 */
import { RetentionPolicy, jetstream } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import { noNats, useCluster } from '../helpers/cluster.js';
import { taskStream } from '../../src/cluster/index.js';
import { inspectCluster } from '../../src/cluster/admin/doctor.js';
import { def } from '../helpers/engine.js';
import { waitFor } from '../helpers/wait.js';

const exported = def(`
workflow:
  id: legacy-export
  version: 1
  tasks:
    - { id: export, type: SIMPLE }
`);

describe.skipIf(noNats)('attempts left in LF_TASKS by an older version', () => {
  const c = useCluster({ production: true });

  it("are moved onto their queue's stream by the engines, and run once by a worker of this version", async () => {
    // The run, with its attempt handed out; then the engine stops before any worker takes it.
    const jsm = await c.jsm();
    const first = await c.addEngine();
    await c.client.deploy(exported);
    const { runId } = await c.client.start('legacy-export', {});
    const queue = taskStream('default').name;
    await waitFor(
      'the attempt in its queue',
      async () => (await jsm.streams.info(queue).catch(() => null))?.state.messages === 1,
    );
    await c.stopEngine(first);
    // As an older version had it: the attempt in LF_TASKS on lf.tasks.default.export (same body and message id), no queue stream.
    const msg = (await jsm.streams.getMessage(queue, { seq: (await jsm.streams.info(queue)).state.first_seq }))!;
    await jsm.streams.delete(queue);
    await jsm.streams.add({ name: 'LF_TASKS', subjects: ['lf.tasks.>'], retention: RetentionPolicy.Workqueue });
    const msgID = msg.header!.get('Nats-Msg-Id');
    await jetstream(await c.connect()).publish('lf.tasks.default.export', msg.data, { msgID });
    expect((await inspectCluster(jsm, { server: 'test' })).warnings).toEqual([
      expect.stringMatching(/^LF_TASKS holds 1 message/),
    ]);

    // An engine of this version moves it at start.
    const lines: string[] = [];
    await c.addEngine({ log: (l) => lines.push(l) });
    await waitFor('LF_TASKS emptied', async () => (await jsm.streams.info('LF_TASKS')).state.messages === 0, {
      detail: () => lines.join('\n'),
    });
    // Said once the whole move is done, a moment after the last message left LF_TASKS.
    const said =
      "moved 1 task attempt left in LF_TASKS (from before each queue had its own stream) onto their queues' streams LF_TASKS_<queue>";
    await waitFor('the engine to say what it moved', () => lines.includes(said), { detail: () => lines.join('\n') });
    const moved = (await jsm.streams.getMessage(queue, { seq: (await jsm.streams.info(queue)).state.first_seq }))!;
    expect(moved.subject).toBe('lf.q.default.export');
    expect(moved.header!.get('Nats-Msg-Id')).toBe(msgID);
    const report = await inspectCluster(jsm, { server: 'test' });
    expect(report.warnings).toEqual([]);
    expect(report.notes).toEqual([
      expect.stringMatching(/^LF_TASKS is left from before each queue had its own stream/),
    ]);

    // nats.conf's `worker` runs it: the run completes, the handler ran once.
    let ran = 0;
    await c.addWorker({
      handlers: {
        export: async () => {
          ran++;
          return { exported: true };
        },
      },
    });
    expect((await c.runs.wait(runId, { timeoutMs: 15_000 })).status).toBe('COMPLETED');
    expect(ran).toBe(1);
  }, 60_000);
});
