/**
 * A hostile user of nats.conf's `worker`, tried for real against a
 * nats-server started from nats.conf, an engine and honest workers: it cannot
 * strand a run by claiming its attempts in the attempt ledger (KV
 * LF_ATTEMPTS) ahead of it, nor take over a queue it was not given.
 */
import { headers, type NatsConnection } from '@nats-io/nats-core';
import { AckPolicy, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { beforeAll, describe, expect, it } from 'vitest';
import { ATTEMPTS_BUCKET, subjects, taskStream } from '../../src/cluster/index.js';
import { AttemptTokens } from '../../src/cluster/transport/attempt-tokens.js';
import { AttemptVerifier } from '../../src/cluster/transport/attempt-keys.js';
import { TaskMessage } from '../../src/cluster/transport/messages.js';
import { runIdForEvent } from '../../src/triggers/index.js';
import { replayRun, type Handlers } from '../../src/runtime/index.js';
import { def } from '../helpers/engine.js';
import { ledgerKeyOf } from '../helpers/attempts.js';
import { deadLetters } from '../helpers/dead-letters.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';
import { Kvm } from '@nats-io/kv';

const ordered = def(`
workflow:
  id: hostile-order
  version: 1
  input: { required: [n] }
  triggers:
    - { event: hostile_order, input: { n: "\${event.data.n}" } }
  tasks:
    - { id: charge, type: SIMPLE, input: { n: "\${workflow.input.n}" } }
`);

const vault = def(`
workflow:
  id: hostile-vault
  version: 1
  tasks:
    - { id: sign, type: SIMPLE, queue: vault }
`);

const held = def(`
workflow:
  id: hostile-hold
  version: 1
  tasks:
    - { id: hold, type: SIMPLE, handler: charge, input: { hold: true } }
`);

const enc = new TextEncoder();
const claim = (worker: string, finished?: string) =>
  JSON.stringify({ worker, startedAt: new Date().toISOString(), ...(finished ? { finished } : {}) });

describe.skipIf(noNats)('a hostile worker user', () => {
  const logs: string[] = [];
  /** The idempotency keys `hold` was called with, and what lets its latest call return. */
  const holds: string[] = [];
  let openHold = () => {};
  /** How many times the honest worker ran each run's `charge`. */
  const ran = new Map<string, number>();
  /** The honest worker's handlers (the same when a test stops that worker and starts another). */
  const honest: Handlers = {
    charge: async (input, ctx) => {
      // hostile-hold's: runs until the test opens the gate (each run of the attempt waits for it).
      if (input.hold === true) {
        holds.push(ctx.idempotencyKey);
        await new Promise<void>((r) => {
          openHold = r;
          ctx.signal.addEventListener('abort', () => r());
        });
        return { held: true };
      }
      const runId = ctx.idempotencyKey.split('/')[0]!;
      ran.set(runId, (ran.get(runId) ?? 0) + 1);
      return { charged: input.n };
    },
  };
  // A short ack wait: a loss the ledger says is finished is looked at again after it (and 2 s).
  const c = useCluster({
    engines: 1,
    engine: { settings: { engineAckWaitMs: 2000 }, log: (l) => logs.push(l) },
    handlers: honest,
    deploy: [ordered, vault, held],
  });
  let admin: NatsConnection;
  let hostile: NatsConnection;
  let jsm: JetStreamManager;
  beforeAll(async () => {
    admin = await c.connect();
    jsm = await jetstreamManager(admin);
    hostile = await c.connect('worker');
  });

  const emit = (id: string) =>
    c.client.emit({
      id,
      type: 'hostile_order',
      source: 'test',
      time: new Date().toISOString(),
      data: { n: 7 },
    } as never);
  const settled = async (runId: string) => {
    await waitFor(`run ${runId} started by its event`, () => c.runs.status(runId));
    return c.runs.wait(runId, { timeoutMs: 25_000 });
  };

  it('claims written ahead of an event-started run (finished, aborted, taken) do not strand it: it completes, its handler run once; and the ledger cannot be listed', async () => {
    const stamp = Date.now();
    const ids = ['finished', 'aborted', 'taken'].map((kind) => ({ kind, id: `pre-${kind}-${stamp}` }));
    const kv = await new Kvm(jetstream(hostile)).create(ATTEMPTS_BUCKET, { bindOnly: true, allow_direct: true });
    for (const { kind, id } of ids) {
      const runId = runIdForEvent(id, 'hostile-order');
      // Every key the hostile user can compute for the attempt: run, task and attempt are all it knows.
      const record =
        kind === 'taken' ? claim('evil') : claim('evil', kind === 'finished' ? 'task.completed' : 'aborted');
      await kv.put(`default.${runId}.charge.1`, record);
    }
    // It cannot list what others claimed: reads by key only, none by sequence.
    const asWorkerJsm = await jetstreamManager(hostile);
    await expect(hostile.request(`$JS.API.DIRECT.GET.KV_${ATTEMPTS_BUCKET}`, enc.encode('{"seq":1}'))).rejects.toThrow(
      /permission/i,
    );
    await expect(asWorkerJsm.streams.getMessage(`KV_${ATTEMPTS_BUCKET}`, { seq: 1 })).rejects.toThrow(/permission/i);

    for (const { id } of ids) await emit(id);
    for (const { id } of ids) {
      const runId = runIdForEvent(id, 'hostile-order');
      const view = await settled(runId);
      expect(view.status, runId).toBe('COMPLETED');
      expect(view.tasks.charge!.output).toEqual({ charged: 7 });
      expect(ran.get(runId), runId).toBe(1);
    }
  }, 60_000);

  it("a claim under the attempt's own key (as a worker handed it could write) is not the last word: the engine's log decides, and the attempt runs once", async () => {
    const stamp = Date.now();
    const cases = [
      { kind: 'finished', record: claim('evil', 'task.completed') },
      { kind: 'aborted', record: claim('engine', 'aborted') },
      { kind: 'taken', record: claim('evil') },
    ].map((c) => ({ ...c, id: `own-${c.kind}-${stamp}` }));
    const kv = await new Kvm(jetstream(hostile)).create(ATTEMPTS_BUCKET, { bindOnly: true, allow_direct: true });
    for (const k of cases)
      await kv.create(await ledgerKeyOf(admin, runIdForEvent(k.id, 'hostile-order'), 'charge', 1), k.record);

    for (const k of cases) await emit(k.id);
    for (const k of cases) {
      const runId = runIdForEvent(k.id, 'hostile-order');
      const view = await settled(runId);
      expect(view.status, k.kind).toBe('COMPLETED');
      expect(ran.get(runId), k.kind).toBe(1);
      // Queued: not run on the claim's word, restarted as a lost worker's attempt is, its retries untouched. Offered
      // straight to a worker: run before any claim is written (claims are written when needed), the entry never read.
      const events = await c.client.store.read(runId);
      const types = events.map((e) => e.type);
      expect(
        [
          ['run.started', 'task.started', 'task.restarted', 'task.completed'],
          ['run.started', 'task.started', 'task.completed'],
        ],
        k.kind,
      ).toContainEqual(types);
      if (types.includes('task.restarted'))
        expect(events[2]!.data, k.kind).toMatchObject({ reason: 'worker_lost', restart: 1, by: 'worker' });
      expect(replayRun(events).divergence).toBeNull();
    }
  }, 60_000);

  it('a redelivery another worker finished is not run again while that outcome is on its way: the loss is put back, the outcome counts, nothing restarts', async () => {
    await c.stopWorker(c.workers[0]!);
    try {
      const id = `race-${Date.now()}`;
      const runId = runIdForEvent(id, 'hostile-order');
      await emit(id);
      // Play the two workers: one ran the attempt and marked it finished; the other got it again and reports what the ledger says.
      const consumer = await jetstream(hostile).consumers.get(taskStream('default').name, 'w_default_charge');
      const m = await waitFor(
        'the attempt in the queue',
        async () => (await consumer.next({ expires: 1000 })) ?? undefined,
      );
      const task = TaskMessage.parse(JSON.parse(new TextDecoder().decode(m.data)));
      m.ack();
      const report = (body: object) =>
        jetstream(hostile).publish(
          subjects.report('worker', 'default', runId),
          enc.encode(JSON.stringify({ runId, time: new Date().toISOString(), token: task.token, ...body })),
        );
      await report({
        type: 'task.lost',
        data: { task: 'charge', attempt: 1, restart: 0, lost: 'host-a/1/aaaaaa', ledger: 'task.completed' },
      });
      await waitFor('the loss put back', () => logs.some((l) => l.includes(runId) && /looking again/.test(l)));
      await report({ type: 'task.completed', data: { task: 'charge', attempt: 1, output: { charged: 7 } } });
      expect((await c.runs.wait(runId, { timeoutMs: 15_000 })).status).toBe('COMPLETED');
      // The loss comes back, finds the outcome recorded, and is stale.
      await waitFor(
        'the loss looked at again',
        () => logs.some((l) => l.includes(runId) && /loss of charge attempt 1 no longer applies/.test(l)),
        { timeout: 15_000 },
      );
      expect((await c.client.store.read(runId)).map((e) => e.type)).toEqual([
        'run.started',
        'task.started',
        'task.completed',
      ]);
    } finally {
      // With the same handlers: one of its own ran `hold` at once and counted nothing, so that a test after this one
      // waiting for `hold` to be held (the give-back's) waited 30 s in vain, and one counting runs counted none.
      await c.addWorker({ handlers: honest });
    }
  }, 40_000);

  // After the test above, which replaces the honest worker (it once did with a `charge` that did not hold: see there).
  it("cannot give back (task.released) an attempt's run it was not handed: without the attempt's token, or a restarted run's claim token, nothing is recorded", async () => {
    const { runId } = await c.client.start('hostile-hold', {});
    await waitFor('hold running in the honest worker', () => holds.length === 1, {
      timeout: 30_000,
      detail: () => logs.slice(-20).join('\n'),
    });
    const engine = c.engines[0]!;
    const release = (restart: number, token: string, claimToken?: string) =>
      jetstream(hostile).publish(
        subjects.report('worker', 'default', runId),
        enc.encode(
          JSON.stringify({
            type: 'task.released',
            runId,
            time: new Date().toISOString(),
            token,
            ...(claimToken ? { claimToken } : {}),
            data: { task: 'hold', attempt: 1, restart },
          }),
        ),
      );
    const forged = engine.stats.forged;
    await release(0, 'made-up-token-of-the-right-length-000000000');
    await waitFor('the made-up release refused', () => engine.stats.forged === forged + 1);
    expect((await c.client.store.read(runId)).map((e) => e.type)).toEqual(['run.started', 'task.started']);

    // The attempt's token proves its first run was handed to the sender (suppose it came by it: the engines' secret
    // stays theirs, this test reads it as the engine user): that run is given back and restarted, not a loss.
    const tokens = await AttemptTokens.open(jetstream(admin));
    const token = tokens.tokenFor(runId, 'hold', 1);
    await release(0, token);
    await waitFor('restart 1 running in the honest worker', () => holds.length === 2);
    // A restarted run is its own worker's: the attempt's token alone, or another run's claim token, gives nothing back.
    await release(1, token);
    await release(1, token, tokens.claimTokenFor(runId, 'hold', 1, 2));
    await waitFor('both refused', () => engine.stats.forged === forged + 3);
    openHold();
    const view = await c.runs.wait(runId, { timeoutMs: 15_000 });
    expect(view.status).toBe('COMPLETED');
    const events = await c.client.store.read(runId);
    expect(events.filter((e) => e.type === 'task.released').map((e) => e.data)).toEqual([
      { task: 'hold', attempt: 1, restart: 0 },
    ]);
    expect(events.filter((e) => e.type === 'task.restarted')).toHaveLength(1);
  }, 40_000);

  it('cannot fill JetStream through the attempt ledger: a value over 4 KiB is refused by the server, and the bucket is bounded (60 × 7 MB in 3 s filled it)', async () => {
    const js = jetstream(hostile);
    await expect(js.publish(`$KV.${ATTEMPTS_BUCKET}.default.flood.0`, new Uint8Array(7 * 1024 * 1024))).rejects.toThrow(
      /message size exceeds maximum/i,
    );
    await expect(js.publish(`$KV.${ATTEMPTS_BUCKET}.default.flood.1`, new Uint8Array(4097))).rejects.toThrow(
      /message size exceeds maximum/i,
    );
    // A claim-sized value is what a worker writes, and goes in.
    expect((await js.publish(`$KV.${ATTEMPTS_BUCKET}.default.flood.2`, enc.encode(claim('w')))).seq).toBeGreaterThan(0);
    const { config } = await jsm.streams.info(`KV_${ATTEMPTS_BUCKET}`);
    expect(config).toMatchObject({ max_msg_size: 4096, max_bytes: 512 * 1024 * 1024, allow_rollup_hdrs: false });
  });

  it("the shipped nats.conf bounds the account's streams and consumers; its storage is the server's, bounded per stream", async () => {
    const { limits } = await jsm.getAccountInfo();
    expect(limits).toMatchObject({ max_streams: 1000, max_consumers: 10_000 });
  });

  it("cannot make engines read 7 MB reports (a one-task run went from 3.6 s to 8.3 s): LF_INPUTS refuses a report over an outcome's size, and a direct report over it is answered unread", async () => {
    const maxPayload = hostile.info!.max_payload;
    const cap = Math.floor(maxPayload / 2) + 64 * 1024;
    expect((await jsm.streams.info('LF_INPUTS')).config.max_msg_size).toBe(cap);
    const big = enc.encode(
      JSON.stringify({
        type: 'task.completed',
        runId: 'r1',
        time: '',
        token: 'x',
        data: { task: 'charge', attempt: 1, output: { blob: 'x'.repeat(7 * 1024 * 1024) } },
      }),
    );
    await expect(jetstream(hostile).publish(subjects.report('worker', 'default', 'r1'), big)).rejects.toThrow(
      /message size exceeds maximum/i,
    );
    const answer = await hostile.request(subjects.directReport('worker', 'default', 'r1'), big, { timeout: 5000 });
    expect(JSON.parse(new TextDecoder().decode(answer.data))).toEqual({
      recorded: false,
      reason: expect.stringMatching(/^a report of \d+ bytes, over the \d+ an outcome may carry/),
    });
  });

  it('cannot wipe the attempt ledger with one rollup: the publish is refused and every claim stays', async () => {
    const js = jetstream(hostile);
    await js.publish(`$KV.${ATTEMPTS_BUCKET}.default.wipe.kept`, enc.encode(claim('honest')));
    const before = (await jsm.streams.info(`KV_${ATTEMPTS_BUCKET}`)).state.messages;
    const h = headers();
    h.set('Nats-Rollup', 'all');
    await expect(
      js.publish(`$KV.${ATTEMPTS_BUCKET}.default.wipe.all`, enc.encode(claim('wiper')), { headers: h }),
    ).rejects.toThrow(/rollup/i);
    expect((await jsm.streams.info(`KV_${ATTEMPTS_BUCKET}`)).state.messages).toBe(before);
    expect(
      (await jsm.streams.getMessage(`KV_${ATTEMPTS_BUCKET}`, {
        last_by_subj: `$KV.${ATTEMPTS_BUCKET}.default.wipe.kept`,
      }))!.string(),
    ).toContain('honest');
  });

  it("cannot read or write another queue's claims (a wildcard direct get read every queue's): ledger keys start with the queue, and nats.conf gives a worker its own queues' part", async () => {
    // A claim of a vault attempt, as the vault worker writes it (under its queue, with the attempt's digest).
    const vaultKey = await ledgerKeyOf(admin, `vault-run-${Date.now()}`, 'sign', 1, 0, 'vault');
    expect(vaultKey.startsWith('vault.')).toBe(true);
    await jetstream(admin).publish(`$KV.${ATTEMPTS_BUCKET}.${vaultKey}`, enc.encode(claim('vault-worker')));
    // The wildcard direct gets of the audit, over every queue and over vault's: refused by the server.
    for (const subject of [
      `$KV.${ATTEMPTS_BUCKET}.*.*.sign.>`,
      `$KV.${ATTEMPTS_BUCKET}.vault.>`,
      `$KV.${ATTEMPTS_BUCKET}.>`,
    ]) {
      await expect(
        hostile.request(`$JS.API.DIRECT.GET.KV_${ATTEMPTS_BUCKET}.${subject}`, enc.encode(''), { timeout: 3000 }),
        subject,
      ).rejects.toThrow(/permission/i);
    }
    // Nor overwritten, or claimed ahead under vault's part.
    await expect(
      jetstream(hostile).publish(`$KV.${ATTEMPTS_BUCKET}.${vaultKey}`, enc.encode(claim('evil', 'task.completed'))),
    ).rejects.toThrow(/permission/i);
    expect(
      (await jsm.streams.getMessage(`KV_${ATTEMPTS_BUCKET}`, {
        last_by_subj: `$KV.${ATTEMPTS_BUCKET}.${vaultKey}`,
      }))!.string(),
    ).toContain('vault-worker');
    // The vault worker reads its queue's claims (what its redeliveries need).
    const vaultUser = await c.connect('vault');
    try {
      const m = await vaultUser.request(
        `$JS.API.DIRECT.GET.KV_${ATTEMPTS_BUCKET}.$KV.${ATTEMPTS_BUCKET}.${vaultKey}`,
        enc.encode(''),
        { timeout: 3000 },
      );
      expect(new TextDecoder().decode(m.data)).toContain('vault-worker');
    } finally {
      await vaultUser.close();
    }
  });

  it("an attempt no engine signed is not run, queued or offered, even with the attempt's own token (a fake offer made a --commands worker run sh -c id)", async () => {
    const before = [...ran.values()].reduce((a, b) => a + b, 0);
    const runId = `forged-${Date.now()}`;
    const tokens = await AttemptTokens.open(jetstream(admin));
    const forged = TaskMessage.parse({
      runId,
      workflowId: 'hostile-order',
      version: 1,
      taskId: 'charge',
      attempt: 1,
      handler: 'charge',
      input: { n: 1 },
      token: tokens.tokenFor(runId, 'charge', 1),
      task: { name: 'charge', type: 'SIMPLE', output: { names: [], values: {} } },
    });
    // Queued by whoever may publish there (here the engine user, with a body an engine would make): dead-lettered, not run.
    const ack = await jetstream(admin).publish(subjects.task('default', 'charge'), enc.encode(JSON.stringify(forged)));
    const [letter] = await waitFor(
      'the unsigned attempt dead-lettered',
      async () => {
        const l = [...(await deadLetters(jsm, 'tasks.worker')), ...(await deadLetters(jsm, 'tasks.anonymous'))].filter(
          (d) => (d.source as { seq?: number } | undefined)?.seq === ack.seq,
        );
        return l.length > 0 ? l : undefined;
      },
      { timeout: 15_000 },
    );
    expect(letter!.reason).toMatch(/not signed by the engines/);
    // Offered straight to the queue's workers: not taken, not run.
    const answer = await admin.request(
      subjects.offer('default', 'charge'),
      enc.encode(JSON.stringify({ ...forged, reportTo: 'e-forger' })),
      { timeout: 5000 },
    );
    expect(JSON.parse(new TextDecoder().decode(answer.data))).toEqual({ taken: false });
    expect([...ran.values()].reduce((a, b) => a + b, 0)).toBe(before);
    expect(ran.has(runId)).toBe(false);
  });

  it('an attempt sealed for its own session (what a worker can make: docs/nats.md, the next attempt in the answer) is not run by another worker, queued or offered', async () => {
    const before = [...ran.values()].reduce((a, b) => a + b, 0);
    const runId = `sealed-${Date.now()}`;
    const tokens = await AttemptTokens.open(jetstream(admin));
    // The hostile worker's own session with the engines, from LF_KEYS as it may read it: the seal it can make is this one.
    const own = (await AttemptVerifier.open(hostile, { stopped: () => false, log: () => {} }))!.session!;
    const body = enc.encode(
      JSON.stringify(
        TaskMessage.parse({
          runId,
          workflowId: 'hostile-order',
          version: 1,
          taskId: 'charge',
          attempt: 1,
          handler: 'charge',
          input: { n: 1 },
          token: tokens.tokenFor(runId, 'charge', 1),
          task: { name: 'charge', type: 'SIMPLE', output: { names: [], values: {} } },
          reportTo: 'e-forger',
        }),
      ),
    );
    const h = headers();
    h.set('Lf-Attempt-Mac', tokens.sessions().seal(own.header, body)!);
    // A valid seal, for the forger's session: the queue's honest worker has a session of its own.
    expect(own.verify(body, h.get('Lf-Attempt-Mac'))).toBe(true);
    // Published where only engines may (nats.conf refuses the worker user): as a server that joined the cluster could.
    const answer = await admin.request(subjects.offer('default', 'charge'), body, { timeout: 5000, headers: h });
    expect(JSON.parse(new TextDecoder().decode(answer.data))).toEqual({ taken: false });
    const ack = await jetstream(admin).publish(subjects.task('default', 'charge'), body, { headers: h });
    const [letter] = await waitFor(
      'the sealed attempt dead-lettered',
      async () => {
        const l = [...(await deadLetters(jsm, 'tasks.worker')), ...(await deadLetters(jsm, 'tasks.anonymous'))].filter(
          (d) => (d.source as { seq?: number } | undefined)?.seq === ack.seq,
        );
        return l.length > 0 ? l : undefined;
      },
      { timeout: 15_000 },
    );
    expect(letter!.reason).toMatch(/not signed by the engines/);
    expect([...ran.values()].reduce((a, b) => a + b, 0)).toBe(before);
    expect(ran.has(runId)).toBe(false);
  });

  it("a worker handed a signed offer cannot reuse its signature (alone or its batch's) for an attempt of its own", async () => {
    // Offers as a worker of the queue sees them (a plain subscriber: it never answers).
    const seen: { data: Uint8Array; sig: string }[] = [];
    const sub = admin.subscribe(subjects.offer('default', 'charge'), {
      callback: (_err, m) => {
        const sig = m.headers?.get('Lf-Attempt-Sig');
        if (sig) seen.push({ data: m.data, sig });
      },
    });
    try {
      const ids = Array.from({ length: 8 }, (_, i) => `offer-replay-${Date.now()}-${i}`);
      await Promise.all(ids.map((id) => emit(id)));
      for (const id of ids) expect((await settled(runIdForEvent(id, 'hostile-order'))).status).toBe('COMPLETED');
      await waitFor('the offers seen', () => seen.length >= 8);
    } finally {
      sub.unsubscribe();
    }
    const before = [...ran.values()].reduce((a, b) => a + b, 0);
    for (const { data, sig } of seen) {
      const offer = JSON.parse(new TextDecoder().decode(data)) as Record<string, unknown>;
      const h = headers();
      h.set('Lf-Attempt-Sig', sig);
      const forged = enc.encode(JSON.stringify({ ...offer, input: { n: 666 } }));
      const answer = await admin.request(subjects.offer('default', 'charge'), forged, { timeout: 5000, headers: h });
      expect(JSON.parse(new TextDecoder().decode(answer.data))).toEqual({ taken: false });
    }
    expect([...ran.values()].reduce((a, b) => a + b, 0)).toBe(before);
  });

  it('cannot create a stream or a consumer, on a queue it was not given or its own: engines create them', async () => {
    const asWorkerJsm = await jetstreamManager(hostile);
    const tries: [string, string, string][] = [
      [taskStream('vault').name, 'w_vault_sign', 'lf.q.vault.sign'],
      [taskStream('default').name, 'w_default_x', 'lf.q.default.x'],
      [taskStream('default').name, 'grab', 'lf.q.>'],
    ];
    for (const [stream, durable, filter] of tries) {
      await expect(
        asWorkerJsm.consumers.add(stream, {
          durable_name: durable,
          filter_subject: filter,
          ack_policy: AckPolicy.Explicit,
        }),
        durable,
      ).rejects.toThrow(/permission/i);
      // nats-server 2.9's filtered create subject too.
      await expect(
        hostile.request(
          `$JS.API.CONSUMER.CREATE.${stream}.${durable}.${filter}`,
          enc.encode(
            JSON.stringify({
              stream_name: stream,
              config: { durable_name: durable, filter_subject: filter, ack_policy: 'explicit' },
            }),
          ),
        ),
        durable,
      ).rejects.toThrow(/permission/i);
    }
    // Nor a queue's stream (one filtered on another queue's subjects would take its attempts).
    await expect(asWorkerJsm.streams.add({ name: 'LF_TASKS_grab', subjects: ['lf.q.vault.*'] })).rejects.toThrow(
      /permission/i,
    );
    expect((await jsm.consumers.list(taskStream('default').name).next()).map((c) => c.name)).not.toContain('grab');
  });

  it("a report of an attempt of a queue it was not given is refused and dead-lettered, even with the attempt's token; the queue's own worker's outcome is what is recorded", async () => {
    const { runId } = await c.client.start('hostile-vault', {});
    await waitFor('sign dispatched', async () =>
      (await c.client.store.read(runId)).some((e) => e.type === 'task.started'),
    );
    // Suppose it came by the token (the engines' secret stays theirs; this test reads it as the engine user).
    const token = (await AttemptTokens.open(jetstream(admin))).tokenFor(runId, 'sign', 1);
    const forged = enc.encode(
      JSON.stringify({
        type: 'task.completed',
        runId,
        time: new Date().toISOString(),
        token,
        data: { task: 'sign', attempt: 1, output: { signed: 'by a forger' } },
      }),
    );
    await expect(jetstream(hostile).publish(subjects.report('worker', 'vault', runId), forged)).rejects.toThrow(
      /permission/i,
    );
    await expect(jetstream(hostile).publish(subjects.input('worker', runId), forged)).rejects.toThrow(/permission/i);
    await jetstream(hostile).publish(subjects.report('worker', 'default', runId), forged);
    const letter = await waitFor('the forged report in lf.dlq.inputs', async () =>
      (await deadLetters(jsm, 'inputs')).find((l) => l.runId === runId),
    );
    expect(letter).toMatchObject({
      by: 'worker',
      taskId: 'sign',
      reason: expect.stringMatching(
        /reported on queue default by worker, but the attempt was handed out on queue vault/,
      ),
    });
    expect((await c.runs.status(runId))!.tasks.sign!.status).toBe('IN_PROGRESS');

    // The vault queue's own worker (nats.conf's `vault` user) runs it.
    const vaultWorker = await c.addWorker({
      nats: c.as('vault'),
      queue: 'vault',
      handlers: { sign: async () => ({ signed: 'by the vault' }) },
    });
    try {
      const view = await c.runs.wait(runId, { timeoutMs: 15_000 });
      expect(view.status).toBe('COMPLETED');
      expect(view.tasks.sign!.output).toEqual({ signed: 'by the vault' });
      const events = await c.client.store.read(runId);
      expect(JSON.stringify(events)).not.toContain('by a forger');
      expect(events.find((e) => e.type === 'task.completed')!.data).toMatchObject({ by: 'vault' });
    } finally {
      await c.stopWorker(vaultWorker);
    }
  }, 40_000);

  // Last: it spends this minute's dead letters of the `worker` user, which the tests above read.
  it("a flood of forged reports costs a few dead letters a minute, not one each: the engines' dead letters are not pushed out", async () => {
    const runId = `forged-flood-${Date.now()}`;
    const forged = enc.encode(
      JSON.stringify({
        type: 'task.completed',
        runId,
        time: new Date().toISOString(),
        token: 'made-up',
        data: { task: 'charge', attempt: 1, output: { forged: true } },
      }),
    );
    const js = jetstream(hostile);
    await Promise.all(
      Array.from({ length: 100 }, () => js.publish(subjects.report('worker', 'default', runId), forged)),
    );
    await waitFor(
      'every forged report taken',
      async () => {
        const info = await jsm.consumers.info('LF_INPUTS', 'engines');
        return info.num_pending + info.num_ack_pending === 0;
      },
      { timeout: 20_000 },
    );
    const letters = (await deadLetters(jsm, 'inputs')).filter((l) => l.runId === runId);
    // 20 a minute per sender (the tests above spent some of this minute's; twice that if the flood straddles a minute), each saying why.
    expect(letters.length).toBeGreaterThan(0);
    expect(letters.length).toBeLessThanOrEqual(40);
    expect(letters[0]).toMatchObject({
      by: 'worker',
      reason: expect.stringMatching(/does not carry that attempt's token/),
    });
    expect(
      logs.some((l) =>
        /worker: over 20 refused reports this minute; the rest are refused without a dead letter/.test(l),
      ),
    ).toBe(true);
  });
});
