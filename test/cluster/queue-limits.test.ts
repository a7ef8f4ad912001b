/**
 * Limits per queue and per handler on NATS (docs/limits.md#limits-per-queue-or-handler,
 * docs/nats.md#task-gates): the limits file stored with `ledgerflow --nats <url> limits set`
 * (KV LF_TASK_GATES, entry `limits`), read by every engine; two workflows whose tasks call the
 * same handler, two engines, one worker that would run eight attempts at once. The invariants
 * are read from the runs' histories.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { def } from '../helpers/engine.js';
import { cli, tempDir } from '../helpers/cli.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';
import { mostAtOnceOf, mostWithin, startsOf } from '../helpers/task-limits.js';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';

const welcome = def(`
workflow:
  id: cluster-welcome-mail
  version: 1
  tasks:
    - id: welcome
      type: SIMPLE
      handler: sendEmail
`);

const digest = def(`
workflow:
  id: cluster-digest-mail
  version: 1
  input:
    required: [{ ids: { type: array } }]
  tasks:
    - id: digest
      type: MAP
      items: "\${workflow.input.ids}"
      handler: sendEmail
      max_concurrency: 10
      queue: mail
`);

const held = def(`
workflow:
  id: cluster-held-mail
  version: 1
  tasks:
    - id: hold
      type: SIMPLE
      handler: holdMail
`);

/** Lets the holdMail attempts end (they run until then). */
let release: () => void = () => {};
const released = new Promise<void>((r) => {
  release = r;
});

describe.skipIf(noNats)('limits per handler and queue over NATS, two engines', () => {
  const c = useCluster({
    engines: 0,
    handlers: {
      sendEmail: async () => {
        await sleep(300);
        return {};
      },
      holdMail: async () => {
        await released;
        return {};
      },
    },
    worker: { concurrency: 8, queue: 'default' },
    deploy: [welcome, digest, held],
  });

  it("a handler's limits hold two workflows together across the engines: at most 2 at once and 4 starts a second; waiting ones say so", async () => {
    // The worker above takes queue default; the digest's items go to queue mail.
    await c.addWorker({
      nats: c.url,
      handlers: {
        sendEmail: async () => {
          await sleep(300);
          return {};
        },
      },
      concurrency: 8,
      queue: 'mail',
    });
    const dir = tempDir();
    const file = join(dir, 'limits.yaml');
    writeFileSync(
      file,
      'handlers:\n  sendEmail:\n    concurrency: { limit: 2 }\n    rate_limit: { limit: 4, per: 1s }\nqueues:\n  mail:\n    rate_limit: { limit: 3, per: 1s }\n',
    );
    const set = await cli(['--nats', c.url, 'limits', 'set', file]);
    expect(set.code, set.stderr).toBe(0);
    expect(
      JSON.parse((await cli(['--nats', c.url, 'limits', 'show', '--json'])).stdout).limits.handlers.sendEmail,
    ).toEqual({ concurrency: { limit: 2 }, rateLimit: { limit: 4, perMs: 1000 } });
    // Engines read the stored limits when they start.
    await c.addEngine();
    await c.addEngine();
    const runs = [
      ...(await Promise.all(Array.from({ length: 5 }, () => c.client.start('cluster-welcome-mail', {})))),
      await c.client.start('cluster-digest-mail', { ids: Array.from({ length: 6 }, (_, i) => i) }),
    ];
    await waitFor(
      'a task waiting for the handler',
      async () => {
        for (const r of runs.slice(0, 5))
          if (
            (await c.runs.status(r.runId))?.tasks.welcome?.waitingFor ===
            "handler sendEmail's concurrency limit 2 and rate limit 4 per 1s"
          )
            return true;
        return false;
      },
      { timeout: 30_000, interval: 50 },
    );
    for (const r of runs)
      await waitFor(`run ${r.runId} to complete`, async () => (await c.runs.status(r.runId))?.status === 'COMPLETED', {
        timeout: 90_000,
      });
    const histories = await Promise.all(runs.map((r) => c.client.store.read(r.runId)));
    const tasks = ['welcome', 'digest'];
    const starts = startsOf(histories, tasks, ['digest']);
    expect(starts).toHaveLength(11);
    expect(mostAtOnceOf(histories, tasks, ['digest'])).toBeLessThanOrEqual(2);
    expect(mostWithin(starts, 1000)).toBeLessThanOrEqual(4);
    expect(mostWithin(startsOf(histories, ['digest'], ['digest']), 1000)).toBeLessThanOrEqual(3);
    // The waits are no attempts: each started once.
    for (const h of histories.slice(0, 5)) expect(h.filter((e) => e.type === 'task.started')).toHaveLength(1);
  }, 180_000);

  it('a limit removed while an attempt waits for it: the attempt starts, on the engine already running', async () => {
    const dir = tempDir();
    const file = join(dir, 'limits.yaml');
    writeFileSync(file, 'handlers:\n  holdMail:\n    concurrency: { limit: 1 }\n');
    expect((await cli(['--nats', c.url, 'limits', 'set', file])).code).toBe(0);
    // An engine that starts now holds attempts to these limits from its first message (others within 2 s).
    for (const e of [...c.engines]) await c.stopEngine(e);
    await c.addEngine();
    const first = await c.client.start('cluster-held-mail', {});
    await waitFor(
      'the first attempt to run',
      async () => (await c.runs.status(first.runId))?.tasks.hold?.status === 'IN_PROGRESS',
      { timeout: 30_000 },
    );
    const second = await c.client.start('cluster-held-mail', {});
    await waitFor(
      'the second to wait for the handler',
      async () =>
        (await c.runs.status(second.runId))?.tasks.hold?.waitingFor === "handler holdMail's concurrency limit 1",
      { timeout: 30_000 },
    );
    writeFileSync(file, '');
    expect((await cli(['--nats', c.url, 'limits', 'set', file])).code).toBe(0);
    await waitFor(
      'the second attempt to run beside the first',
      async () => (await c.runs.status(second.runId))?.tasks.hold?.status === 'IN_PROGRESS',
      { timeout: 60_000 },
    );
    release();
    for (const r of [first, second])
      await waitFor(`run ${r.runId} to complete`, async () => (await c.runs.status(r.runId))?.status === 'COMPLETED', {
        timeout: 60_000,
      });
    expect(
      mostAtOnceOf([await c.client.store.read(first.runId), await c.client.store.read(second.runId)], ['hold']),
    ).toBe(2);
  }, 180_000);
  it('stored limits that are not JSON are an error naming the KV entry and the fix; limits set mends them', async () => {
    const kv = await new Kvm(jetstream(await c.connect())).create('LF_TASK_GATES');
    await kv.put('limits', '{"queues": ');
    const shown = await cli(['--nats', c.url, 'limits', 'show']);
    expect(shown.code).not.toBe(0);
    expect(shown.stderr).toContain('shared document limits (KV LF_TASK_GATES entry limits) is not JSON');
    expect(shown.stderr).toContain('write it again with `ledgerflow limits set <file>`');
    const file = join(tempDir(), 'limits.yaml');
    writeFileSync(file, '');
    expect((await cli(['--nats', c.url, 'limits', 'set', file])).code).toBe(0);
    expect(JSON.parse((await cli(['--nats', c.url, 'limits', 'show', '--json'])).stdout)).toEqual({
      limits: { queues: {}, handlers: {} },
      breakers: [],
    });
  }, 60_000);
});
