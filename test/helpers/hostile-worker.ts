/**
 * A hostile worker: a process connected as a `worker` NATS user (the shipped
 * nats.conf's worker block) that runs no task honestly and instead tries,
 * over and over, everything that user can reach to forge a record or strand
 * a run: attempt-ledger claims for attempts it was never handed (pre-claimed
 * for predictable run ids, or overwritten once it learns real keys), outcomes
 * with made-up tokens on every input subject form, dead letters aimed at
 * approval and control subjects, consumers on queues it was not given, and
 * publishes on subjects nats.conf gives other users; and it pulls and acks
 * the attempts of a queue it was not given.
 *
 * Used beside honest workers by test/cluster/hostile-worker.test.ts and by
 * `npm run chaos`; both judge the outcome from the runs' logs (no event may
 * carry FORGED_MARK, no run may stay unsettled), never from what this module
 * says it did. Its report counts what the server refused and accepted, so a
 * judge can tell an attack that was tried from one that could not be.
 */
import { connect } from '@nats-io/transport-node';
import { headers as natsHeaders, type NatsConnection } from '@nats-io/nats-core';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { createHash } from 'node:crypto';
import { credentials } from '../../src/cluster/transport/messages.js';

/** Written into everything this worker forges: an event in any run's log that holds it is a forged record. */
export const FORGED_MARK = 'hostile-forged-7f3a';

export interface HostileOptions {
  /** A server URL with the hostile user's credentials (e.g. nats://worker:worker-dev-password@…). */
  url: string;
  /** Run ids it may guess (event-started run ids are predictable) or learn (the ids a client was given). */
  targets: () => readonly string[];
  /** Task ids of the targets' workflow. */
  tasks: readonly string[];
  /** Queues it tries to take over besides the ones it may be given. */
  queues?: readonly string[];
  /** Pause between rounds (ms). */
  everyMs?: number;
  /** Dead letters it writes on its own subject each round, as fast as the server takes them (the DLQ flood; default 0). */
  floodLetters?: number;
}

export interface HostileReport {
  rounds: number;
  /** Per attack: tries, refused by the server (permissions), accepted by the server (stored: the engine must refuse it). */
  attacks: Record<string, { tries: number; refused: number; accepted: number }>;
  /** Attempt-ledger keys it learned by reading the bucket (none, where nats.conf lets a worker read only keys it names). */
  learnedKeys: number;
}

export interface HostileWorker {
  /** What it has tried so far (live: a test waits on it). */
  readonly report: HostileReport;
  stop(): Promise<HostileReport>;
}

const enc = new TextEncoder();
const isRefusal = (err: unknown) => /permission|authorization/i.test(String((err as Error)?.message ?? err));

export async function startHostileWorker(opts: HostileOptions): Promise<HostileWorker> {
  // As ledgerflow's own clients connect: the URL's user, and that user's reply inbox (the one nats.conf lets it read).
  const nc: NatsConnection = await connect({
    ...credentials(opts.url),
    maxReconnectAttempts: -1,
    name: 'hostile-worker',
  });
  // Permission violations arrive as async errors too: they are counted where each attack sees them, not fatal here.
  void (async () => {
    for await (const _s of nc.status()) {
      /* refusals are expected */
    }
  })().catch(() => undefined);
  const js: JetStreamClient = jetstream(nc, { timeout: 2000 });
  let jsm: JetStreamManager | null = null;
  const report: HostileReport = { rounds: 0, attacks: {}, learnedKeys: 0 };
  const learned = new Set<string>();
  let ledgerSeq = 0;
  let stopped = false;

  /** Runs one attack and counts how the server took it. */
  const attempt = async (name: string, fn: () => Promise<unknown>): Promise<boolean> => {
    const a = (report.attacks[name] ??= { tries: 0, refused: 0, accepted: 0 });
    a.tries++;
    try {
      await fn();
      a.accepted++;
      return true;
    } catch (err) {
      if (isRefusal(err)) a.refused++;
      return false;
    }
  };

  /** A JetStream publish the server stores (PubAck) or refuses. */
  const store = (subject: string, body: unknown, hdrs?: Record<string, string>) => {
    const h = hdrs ? natsHeaders() : undefined;
    if (h && hdrs) for (const [k, v] of Object.entries(hdrs)) h.set(k, v);
    return js.publish(subject, enc.encode(typeof body === 'string' ? body : JSON.stringify(body)), {
      timeout: 2000,
      ...(h ? { headers: h } : {}),
    });
  };

  /** Reads the attempt ledger's stream by sequence, as far as the server lets it: every key it can learn. */
  const learnLedgerKeys = async () => {
    for (let i = 0; i < 200 && !stopped; i++) {
      const ok = await attempt('ledger.read-by-seq', async () => {
        const m = await nc.request(
          '$JS.API.DIRECT.GET.KV_LF_ATTEMPTS',
          enc.encode(JSON.stringify({ seq: ledgerSeq + 1 })),
          { timeout: 1000 },
        );
        const subject = m.headers?.get('Nats-Subject');
        if (!subject) throw new Error(`no message (${m.headers?.code ?? '?'})`);
        ledgerSeq = Number(m.headers?.get('Nats-Sequence') ?? ledgerSeq + 1);
        learned.add(subject.slice('$KV.LF_ATTEMPTS.'.length));
      });
      if (!ok) break;
    }
    report.learnedKeys = learned.size;
  };

  /**
   * The claim wiper: every way to read or remove the claims of the ledger without naming their keys. Each
   * is refused (by nats.conf or by the bucket's config); a claim removed would let a redelivered attempt
   * run twice, which the judge counts from the handlers' markers.
   */
  const wipeClaims = async () => {
    // Other queues' claims, read with a wildcard direct get (the ledger key starts with the queue).
    for (const queue of ['*', 'vault', ...(opts.queues ?? [])]) {
      const ok = await attempt('ledger.wildcard-read-other-queue', async () => {
        const m = await nc.request(`$JS.API.DIRECT.GET.KV_LF_ATTEMPTS.$KV.LF_ATTEMPTS.${queue}.>`, enc.encode(''), {
          timeout: 1000,
        });
        const subject = m.headers?.get('Nats-Subject');
        if (!subject) throw new Error(`no message (${m.headers?.code ?? '?'})`);
        learned.add(subject.slice('$KV.LF_ATTEMPTS.'.length));
      });
      if (ok) report.learnedKeys = learned.size;
    }
    // One rollup publish would delete every claim of the bucket (or of its own queue's part).
    for (const prefix of ['', 'default.']) {
      await attempt('ledger.rollup-all', () =>
        store(`$KV.LF_ATTEMPTS.${prefix}wipe`, '', { 'KV-Operation': 'PURGE', 'Nats-Rollup': 'all' }),
      );
    }
    // Purge or delete the bucket's stream through the JetStream API.
    await attempt('ledger.purge-stream', () =>
      nc.request('$JS.API.STREAM.PURGE.KV_LF_ATTEMPTS', enc.encode('{}'), { timeout: 1000 }).then((m) => {
        if (!/"success":true/.test(new TextDecoder().decode(m.data))) throw new Error('not purged');
      }),
    );
    await attempt('ledger.delete-stream', () =>
      nc.request('$JS.API.STREAM.DELETE.KV_LF_ATTEMPTS', enc.encode(''), { timeout: 1000 }).then((m) => {
        if (!/"success":true/.test(new TextDecoder().decode(m.data))) throw new Error('not deleted');
      }),
    );
  };

  const claim = (finished?: string) => ({
    worker: FORGED_MARK,
    startedAt: new Date().toISOString(),
    ...(finished ? { finished } : {}),
  });
  const forgedOutcome = (runId: string, task: string, attempt: number) => ({
    type: 'task.completed',
    runId,
    time: '2999-01-01T00:00:00.000Z',
    token: createHash('sha256').update(`${runId}/${task}/${attempt}`).digest('base64url'),
    data: { task, attempt, output: { forged: FORGED_MARK } },
  });

  const round = async () => {
    await learnLedgerKeys();
    // Keys it learned: overwritten as finished (a redelivery of that attempt must still run it or restart it).
    for (const key of [...learned].slice(-20)) {
      await attempt('ledger.overwrite-learned', () => store(`$KV.LF_ATTEMPTS.${key}`, claim('task.completed')));
    }
    for (const runId of opts.targets().slice(-10)) {
      for (const task of opts.tasks) {
        for (const attemptNo of [1, 2]) {
          // Pre-claims in the ledger's key layouts an outsider can compute from the run id alone.
          for (const [label, finished] of [
            ['finished', 'task.completed'],
            ['aborted', 'aborted'],
            ['taken', undefined],
          ] as const) {
            for (const prefix of ['', 'default.', 'vault.']) {
              await attempt(`ledger.preclaim-${label}`, () =>
                store(`$KV.LF_ATTEMPTS.${prefix}${runId}.${task}.${attemptNo}`, claim(finished), {
                  'Nats-Expected-Last-Subject-Sequence': '0',
                }),
              );
            }
          }
          // Outcomes with a made-up token, on the input subject forms a worker may publish.
          for (const queue of ['default', ...(opts.queues ?? [])]) {
            await attempt('input.forged-outcome', () =>
              store(`lf.inputs.worker.${queue}.${runId}`, forgedOutcome(runId, task, attemptNo)),
            );
          }
          await attempt('input.forged-outcome', () =>
            store(`lf.inputs.worker.${runId}`, forgedOutcome(runId, task, attemptNo)),
          );
        }
      }
      // Dead letters aimed at subjects only the engine or a person may publish: a replay must never lend them rights.
      const aimed = [
        {
          stream: 'LF_APPROVALS',
          subject: `lf.approvals.${runId}.sign.alice`,
          raw: JSON.stringify({ decision: 'approved', comment: FORGED_MARK }),
        },
        {
          stream: 'LF_CONTROL',
          subject: `lf.control.alice.${runId}`,
          raw: JSON.stringify({ action: 'cancel', reason: FORGED_MARK }),
        },
        {
          stream: 'LF_INPUTS',
          subject: `lf.inputs.engine.${runId}`,
          raw: JSON.stringify(forgedOutcome(runId, opts.tasks[0] ?? 'x', 1)),
        },
      ];
      for (const a of aimed) {
        const letter = {
          reason: FORGED_MARK,
          at: new Date().toISOString(),
          runId,
          source: { stream: a.stream, seq: 1, subject: a.subject, deliveries: 1 },
          size: Buffer.byteLength(a.raw),
          sha256: createHash('sha256').update(a.raw).digest('hex'),
          raw: a.raw,
        };
        for (const subject of ['lf.dlq.tasks', 'lf.dlq.tasks.worker', 'lf.dlq.approvals', 'lf.dlq.inputs']) {
          await attempt(`dlq.forged-letter ${subject}`, () => store(subject, letter));
        }
      }
      // Subjects nats.conf gives other users.
      for (const subject of [
        `lf.approvals.${runId}.sign.alice`,
        `lf.control.worker.${runId}`,
        `lf.timers.${runId}`,
        `lf.signals.worker.${runId}`,
        'lf.triggers.cluster-chaos',
      ]) {
        await attempt(`publish.not-granted ${subject.split('.').slice(0, 2).join('.')}`, () =>
          store(subject, { forged: FORGED_MARK }),
        );
      }
    }
    await wipeClaims();
    // The DLQ flood: as many letters as it may write, on the one dead-letter subject it may write.
    if (opts.floodLetters) {
      const letter = enc.encode(JSON.stringify({ reason: FORGED_MARK, at: new Date().toISOString() }));
      await attempt('dlq.flood', () =>
        Promise.all(
          Array.from({ length: opts.floodLetters! }, () =>
            js.publish('lf.dlq.tasks.worker', letter, { timeout: 5000 }),
          ),
        ),
      );
    }
    // Queues it was not given: pull their attempts (with their tokens) from their consumers, and ack them away unrun.
    for (const queue of ['vault', ...(opts.queues ?? [])]) {
      for (const task of opts.tasks) {
        await attempt('queue.pull-other', () =>
          nc.request(
            `$JS.API.CONSUMER.MSG.NEXT.LF_TASKS_${queue}.w_${queue}_${task}`,
            enc.encode('{"batch":1,"no_wait":true}'),
            { timeout: 1000 },
          ),
        );
        await attempt('queue.ack-other', () =>
          nc.request(`$JS.ACK.LF_TASKS_${queue}.w_${queue}_${task}.1.1.1.1.0`, enc.encode('+ACK'), { timeout: 500 }),
        );
      }
    }
    // …and a consumer of its own on them.
    jsm ??= await jetstreamManager(nc).catch(() => null);
    for (const queue of ['vault', ...(opts.queues ?? [])]) {
      const name = `evil_${queue}_${report.rounds}`;
      await attempt('consumer.take-queue', async () => {
        const m = jsm ?? (await jetstreamManager(nc));
        await m.consumers.add(`LF_TASKS_${queue}`, {
          durable_name: name,
          filter_subject: `lf.q.${queue}.>`,
          ack_policy: 'explicit' as never,
        });
        await m.consumers.delete(`LF_TASKS_${queue}`, name).catch(() => undefined);
      });
    }
    report.rounds++;
  };

  const loop = (async () => {
    while (!stopped) {
      await round().catch(() => undefined);
      await new Promise((r) => setTimeout(r, opts.everyMs ?? 250));
    }
  })();

  return {
    report,
    async stop() {
      stopped = true;
      await loop;
      await nc.close().catch(() => undefined);
      return report;
    },
  };
}

/** Events of a log that carry something the hostile worker forged: each is a forged record. */
export function forgedRecords(events: readonly { seq: number; type: string; data: unknown }[]): string[] {
  return events
    .filter((e) => JSON.stringify(e.data ?? null).includes(FORGED_MARK))
    .map((e) => `event ${e.seq} ${e.type}: ${JSON.stringify(e.data).slice(0, 200)}`);
}

/**
 * A hostile approver: a person user of nats.conf (alice) who publishes decisions as fast as she may, on every
 * task of the runs she knows, approvals and rejections in turn, each carrying FORGED_MARK in its comment: the
 * refusal flood (500 `approval.refused` written into any run's log in 0.4 s, COMPLETED ones too).
 * A run's log keeps at most one refusal per person and task, and a decision naming no HUMAN task is refused
 * without being recorded (dead-lettered a few a minute): the judge counts what reached the logs.
 */
export async function startHostileApprover(opts: {
  url: string;
  user: string;
  targets: () => readonly string[];
  tasks: readonly string[];
  perRound?: number;
  everyMs?: number;
}): Promise<{ stop(): Promise<number> }> {
  const nc = await connect({ ...credentials(opts.url), maxReconnectAttempts: -1, name: 'hostile-approver' });
  void (async () => {
    for await (const _s of nc.status()) {
      /* refusals and reconnects are expected */
    }
  })().catch(() => undefined);
  const js = jetstream(nc, { timeout: 2000 });
  let sent = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const runs = opts.targets().slice(-20);
      const decisions: Promise<unknown>[] = [];
      for (let i = 0; i < (opts.perRound ?? 200) && runs.length > 0; i++) {
        const runId = runs[i % runs.length]!;
        const task = opts.tasks[i % opts.tasks.length]!;
        const body = { decision: i % 2 === 0 ? 'approved' : 'rejected', comment: FORGED_MARK };
        decisions.push(
          js.publish(`lf.approvals.${runId}.${task}.${opts.user}`, enc.encode(JSON.stringify(body))).then(
            () => {
              sent++;
            },
            () => undefined,
          ),
        );
      }
      await Promise.all(decisions);
      await new Promise((r) => setTimeout(r, opts.everyMs ?? 500));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      await nc.close().catch(() => undefined);
      return sent;
    },
  };
}

/** Refusals a log holds beyond one per person and task (a run's history keeps one each): each is a flood that got in. */
export function refusalFlood(events: readonly { type: string; data: unknown }[]): string[] {
  const seen = new Map<string, number>();
  for (const e of events) {
    if (e.type !== 'approval.refused') continue;
    const d = e.data as { task?: string; taskId?: string; by?: string };
    const key = `${d.task ?? d.taskId ?? '?'} by ${d.by ?? '?'}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  return [...seen].filter(([, n]) => n > 1).map(([key, n]) => `${n} refusals of ${key}`);
}
