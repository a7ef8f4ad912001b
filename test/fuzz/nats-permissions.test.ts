/**
 * The permission table: every subject, KV bucket and JetStream API call a
 * ledgerflow client can reach, tried by every user the shipped nats.conf
 * defines (engine, worker, a person, and a connection without credentials),
 * against a real nats-server started from that file. Each cell says whether
 * the server must let that user do it; a row that changes is a change to who
 * may act as whom, and must be made here on purpose.
 *
 * A publish is probed as a request: a permission violation is the server's
 * answer to a refused one, and any other answer (a JetStream ack or error, no
 * responders) means it was let through. A subscription is refused
 * asynchronously; the probe waits for the server's round trip to tell.
 */
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { noNats, useCluster } from '../helpers/cluster.js';

/** The shipped users by kind: the engine, a worker of the default queue, a worker of its own queue (vault), a person, nobody. */
type User = 'engine' | 'worker' | 'vault' | 'alice' | 'anonymous';
const USERS: User[] = ['engine', 'worker', 'vault', 'alice', 'anonymous'];
const PASSWORDS: Record<Exclude<User, 'anonymous'>, string> = {
  engine: 'engine-dev-password',
  worker: 'worker-dev-password',
  vault: 'vault-dev-password',
  alice: 'alice-dev-password',
};

/** Who may: the users listed; everyone else must be refused. */
type Row = { what: string; pub?: string; sub?: string; body?: string; may: User[] };
const R = 'run-1';
const rows: Row[] = [
  // The log and the work queues.
  { what: "append to a run's log", pub: `lf.events.wf.${R}`, may: ['engine'] },
  { what: 'read the log as it is written', sub: 'lf.events.>', may: ['engine'] },
  { what: 'publish a task attempt', pub: 'lf.tasks.default.h', may: ['engine'] },
  { what: 'fire a timer', pub: `lf.timers.${R}`, may: ['engine'] },
  { what: 'start runs from an event', pub: 'lf.triggers.order', may: ['engine'] },
  // Inputs: each under its own name only.
  { what: 'report an outcome as the worker', pub: `lf.inputs.worker.default.${R}`, may: ['engine', 'worker'] },
  { what: 'report an outcome as the engine', pub: `lf.inputs.engine.${R}`, may: ['engine'] },
  { what: 'report for a queue the worker was not given', pub: `lf.inputs.worker.vault.${R}`, may: ['engine'] },
  { what: 'report as the vault worker, of its queue', pub: `lf.inputs.vault.vault.${R}`, may: ['engine', 'vault'] },
  { what: 'report as the vault worker, of the default queue', pub: `lf.inputs.vault.default.${R}`, may: ['engine'] },
  // Task queues: a stream per queue, so each grant names the queue.
  {
    what: 'pull from the default queue',
    pub: '$JS.API.CONSUMER.MSG.NEXT.LF_TASKS_default.w_default_h',
    body: '{"batch":1,"no_wait":true}',
    may: ['engine', 'worker'],
  },
  {
    what: 'pull from the vault queue',
    pub: '$JS.API.CONSUMER.MSG.NEXT.LF_TASKS_vault.w_vault_h',
    body: '{"batch":1,"no_wait":true}',
    may: ['engine', 'vault'],
  },
  {
    what: 'ack an attempt of the vault queue',
    pub: '$JS.ACK.LF_TASKS_vault.w_vault_h.1.1.1.1.0',
    may: ['engine', 'vault'],
  },
  { what: 'look at the default queue', pub: '$JS.API.STREAM.INFO.LF_TASKS_default', may: ['engine', 'worker'] },
  {
    what: "create a queue's stream",
    pub: '$JS.API.STREAM.CREATE.LF_TASKS_vault',
    body: '{"name":"LF_TASKS_vault","subjects":["lf.q.vault.>"]}',
    may: ['engine'],
  },
  { what: 'publish an attempt on a queue', pub: 'lf.q.default.h', may: ['engine'] },
  { what: 'approve as alice', pub: `lf.approvals.${R}.sign.alice`, may: ['engine', 'alice'] },
  { what: 'approve as bob', pub: `lf.approvals.${R}.sign.bob`, may: ['engine'] },
  { what: 'signal as alice', pub: `lf.signals.alice.${R}`, may: ['engine', 'alice'] },
  { what: 'signal as the worker', pub: `lf.signals.worker.${R}`, may: ['engine'] },
  { what: 'pause/cancel as alice', pub: `lf.control.alice.${R}`, may: ['engine', 'alice'] },
  { what: 'pause/cancel as the worker', pub: `lf.control.worker.${R}`, may: ['engine'] },
  // A person's requests (docs/users.md#starting-and-deploying-as-yourself), as `users nats-conf` grants an L0/L1 person.
  { what: 'ask to start as alice', pub: 'lf.starts.alice', may: ['engine', 'alice'] },
  { what: 'ask to start as bob', pub: 'lf.starts.bob', may: ['engine'] },
  { what: 'ask to start as the worker', pub: 'lf.starts.worker', may: ['engine'] },
  { what: "upload a start's large input as alice", pub: 'lf.uploads.alice.r1.abc', may: ['engine', 'alice'] },
  { what: 'ask to deploy as alice', pub: 'lf.deploys.alice', may: ['engine', 'alice'] },
  { what: 'ask to deploy as the worker', pub: 'lf.deploys.worker', may: ['engine'] },
  { what: "hear alice's start verdicts", sub: 'lf.verdicts.starts.alice.*', may: ['engine', 'alice'] },
  // Verdicts: each hears their own.
  { what: "hear alice's approval verdicts", sub: `lf.verdicts.approvals.*.*.alice`, may: ['engine', 'alice'] },
  { what: "hear bob's approval verdicts", sub: `lf.verdicts.approvals.*.*.bob`, may: ['engine'] },
  { what: 'hear every verdict', sub: 'lf.verdicts.>', may: ['engine'] },
  { what: "listen to everyone's replies", sub: '_INBOX.probe', may: ['engine'] },
  { what: "listen to the worker's replies", sub: '_INBOX_worker.probe', may: ['engine', 'worker'] },
  { what: "listen to the vault worker's replies", sub: '_INBOX_vault.probe', may: ['engine', 'vault'] },
  { what: "listen to alice's replies", sub: '_INBOX_alice.probe', may: ['engine', 'alice'] },
  // Dead letters: written by whoever dead-letters, as themselves.
  { what: 'dead-letter an input', pub: 'lf.dlq.inputs', may: ['engine'] },
  { what: 'dead-letter an approval', pub: 'lf.dlq.approvals', may: ['engine'] },
  { what: 'dead-letter a task message as the worker', pub: 'lf.dlq.tasks.worker', may: ['engine', 'worker'] },
  { what: 'dead-letter a task message as the vault worker', pub: 'lf.dlq.tasks.vault', may: ['engine', 'vault'] },
  { what: 'dead-letter a task message under no name', pub: 'lf.dlq.tasks', may: ['engine'] },
  { what: 'read dead letters', pub: '$JS.API.STREAM.MSG.GET.LF_DLQ', body: '{"seq":1}', may: ['engine'] },
  { what: 'purge dead letters', pub: '$JS.API.STREAM.PURGE.LF_DLQ', may: ['engine'] },
  // KV buckets.
  {
    what: "read the engines' attempt secret",
    pub: '$JS.API.DIRECT.GET.KV_LF_ENGINE.$KV.LF_ENGINE.attempt-secret',
    may: ['engine'],
  },
  { what: "write the engines' attempt secret", pub: '$KV.LF_ENGINE.attempt-secret', may: ['engine'] },
  { what: 'deploy a definition', pub: '$KV.LF_DEFINITIONS.wf.x.1', may: ['engine'] },
  { what: 'write the runs index', pub: '$KV.LF_RUNS_INDEX.r', may: ['engine'] },
  {
    what: 'enumerate the attempt ledger by sequence',
    pub: '$JS.API.DIRECT.GET.KV_LF_ATTEMPTS',
    body: '{"seq":1}',
    may: ['engine'],
  },
  { what: 'watch the attempt ledger', sub: '$KV.LF_ATTEMPTS.>', may: ['engine'] },
  {
    what: "claim an attempt of the default queue in the ledger (its key needs the attempt's token)",
    pub: '$KV.LF_ATTEMPTS.default.r.t.1.d',
    may: ['engine', 'worker'],
  },
  {
    what: 'claim an attempt of the vault queue in the ledger',
    pub: '$KV.LF_ATTEMPTS.vault.r.t.1.d',
    may: ['engine', 'vault'],
  },
  { what: 'write a ledger key outside every queue', pub: '$KV.LF_ATTEMPTS.r.t.1.d', may: ['engine'] },
  // The JetStream API.
  {
    what: "read a run's log message (people must see what they approve)",
    pub: '$JS.API.STREAM.MSG.GET.LF_EVENTS',
    body: '{"seq":1}',
    may: ['engine', 'alice'],
  },
  // What a person's reads ask besides (status, history, list, wait, stats: docs/nats.md), all read-only; never a consumer.
  { what: "look at the account's JetStream", pub: '$JS.API.INFO', may: ['engine', 'worker', 'vault', 'alice'] },
  {
    what: "look at the log's info (its subjects are the runs)",
    pub: '$JS.API.STREAM.INFO.LF_EVENTS',
    may: ['engine', 'alice'],
  },
  {
    what: 'make a consumer on the log delivering it to an approval subject',
    pub: '$JS.API.CONSUMER.CREATE.LF_EVENTS',
    body: '{"stream_name":"LF_EVENTS","config":{"deliver_subject":"lf.approvals.r.t.alice","ack_policy":"none","mem_storage":true,"inactive_threshold":1000000000}}',
    may: ['engine'],
  },
  { what: 'read the live progress', pub: '$JS.API.STREAM.MSG.GET.KV_LF_PROGRESS', body: '{"seq":1}', may: ['engine'] },
  {
    what: 'change the log stream',
    pub: '$JS.API.STREAM.UPDATE.LF_EVENTS',
    body: '{"name":"OTHER","subjects":["lf.events.>"]}',
    may: ['engine'],
  },
  {
    what: "delete a message of a run's log",
    pub: '$JS.API.STREAM.MSG.DELETE.LF_EVENTS',
    body: '{"seq":999999999}',
    may: ['engine'],
  },
  {
    what: "read the default queue's part of the attempt ledger by key",
    pub: '$JS.API.DIRECT.GET.KV_LF_ATTEMPTS.$KV.LF_ATTEMPTS.default.r.t.1.d',
    may: ['engine', 'worker'],
  },
  {
    what: "read the vault queue's claims with a wildcard direct get",
    pub: '$JS.API.DIRECT.GET.KV_LF_ATTEMPTS.$KV.LF_ATTEMPTS.vault.*.slow_vault.>',
    may: ['engine', 'vault'],
  },
  {
    what: "read every queue's claims with a wildcard direct get",
    pub: '$JS.API.DIRECT.GET.KV_LF_ATTEMPTS.$KV.LF_ATTEMPTS.*.*.slow_vault.>',
    may: ['engine'],
  },
  {
    what: 'read another stream by sequence',
    pub: '$JS.API.STREAM.MSG.GET.LF_TASKS',
    body: '{"seq":1}',
    may: ['engine'],
  },
  {
    what: 'create a stream',
    pub: '$JS.API.STREAM.CREATE.EVIL',
    body: '{"name":"EVIL","subjects":["evil.>"]}',
    may: ['engine'],
  },
  { what: 'delete the log', pub: '$JS.API.STREAM.DELETE.LF_EVENTS_PROBE', may: ['engine'] },
  {
    what: 'take over a queue with a durable consumer',
    pub: '$JS.API.CONSUMER.DURABLE.CREATE.LF_TASKS.evil',
    body: '{"stream_name":"LF_TASKS","config":{"durable_name":"evil","filter_subject":"lf.tasks.vault.>","ack_policy":"explicit"}}',
    may: ['engine'],
  },
  {
    what: 'take over a queue with a filtered consumer',
    pub: '$JS.API.CONSUMER.CREATE.LF_TASKS.evil.lf.tasks.vault.>',
    body: '{"stream_name":"LF_TASKS","config":{"name":"evil","filter_subject":"lf.tasks.vault.>","ack_policy":"explicit"}}',
    may: ['engine'],
  },
  {
    what: 'make a consumer of its own on its own queue',
    pub: '$JS.API.CONSUMER.DURABLE.CREATE.LF_TASKS_default.evil',
    body: '{"stream_name":"LF_TASKS_default","config":{"durable_name":"evil","ack_policy":"explicit"}}',
    may: ['engine'],
  },
  {
    what: 'make a filtered consumer on another queue',
    pub: '$JS.API.CONSUMER.CREATE.LF_TASKS_vault.evil.lf.q.vault.>',
    body: '{"stream_name":"LF_TASKS_vault","config":{"name":"evil","filter_subject":"lf.q.vault.>","ack_policy":"explicit"}}',
    may: ['engine'],
  },
  {
    what: "delete the engines' input consumer",
    pub: '$JS.API.CONSUMER.DELETE.LF_INPUTS.engines_probe',
    may: ['engine'],
  },
];

describe.skipIf(noNats)('the permission table of the shipped nats.conf', () => {
  const c = useCluster({ production: true });
  const conns = new Map<User, NatsConnection | Error>();

  beforeAll(async () => {
    // The streams and buckets exist, as on a cluster an engine has set up.
    await c.client.conn();
    for (const user of USERS) {
      try {
        // Each user's replies under its own inbox prefix, as ledgerflow's clients connect (store/jetstream/inbox.ts).
        const nc = await connect({
          servers: c.url,
          ...(user === 'anonymous' ? {} : { user, pass: PASSWORDS[user], inboxPrefix: `_INBOX_${user}` }),
          maxReconnectAttempts: 0,
        });
        c.defer(() => nc.close().catch(() => undefined));
        conns.set(user, nc);
      } catch (err) {
        conns.set(user, err as Error);
      }
    }
  });

  /** True when the server let `user` do it. */
  async function allowed(nc: NatsConnection, row: Row): Promise<boolean> {
    if (row.pub) {
      try {
        await nc.request(row.pub, new TextEncoder().encode(row.body ?? '{}'), { timeout: 2000 });
        return true;
      } catch (err) {
        const text = `${(err as { code?: string }).code ?? ''} ${(err as Error).message}`;
        if (/permission/i.test(text)) return false;
        // Let through, and nobody answered (no responders, or an API not enabled for it): not a refusal.
        if (/503|no responders|timeout/i.test(text)) return true;
        throw err;
      }
    }
    // nats.js closes a subscription the server refused (and its iterator throws the permission error).
    const sub = nc.subscribe(row.sub!, { callback: () => undefined });
    // A round trip after the SUB: the server's refusal, if any, comes before the PONG.
    await nc.flush();
    await nc.flush();
    const refused = sub.isClosed();
    if (!refused) sub.unsubscribe();
    return !refused;
  }

  it('a connection without credentials is refused, so nothing can be recorded as anyone', () => {
    const anonymous = conns.get('anonymous');
    expect(anonymous).toBeInstanceOf(Error);
    expect(String(anonymous)).toMatch(/authoriz/i);
  });

  it.each(rows.map((r) => [r.what, r] as const))('%s', async (_what, row) => {
    const got: Record<string, boolean> = {};
    const want: Record<string, boolean> = {};
    for (const user of USERS) {
      const nc = conns.get(user)!;
      got[user] = nc instanceof Error ? false : await allowed(nc, row);
      want[user] = row.may.includes(user);
    }
    expect(got).toEqual(want);
  });
});
