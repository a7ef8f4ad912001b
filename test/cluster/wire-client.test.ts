/**
 * A third-party client written from docs/asyncapi.yaml alone, with the
 * @nats-io packages (not the `nats` client ledgerflow uses): it publishes a
 * business event that starts a run, waits for the run's HUMAN task, approves
 * it as alice, and reads the run's events from LF_EVENTS. Every payload it
 * sends or reads is checked against the document's schemas. The only parts
 * of ledgerflow here are an engine and the definition deployed to it.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { jetstream, type JsMsg } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDefinitionFile } from '../../src/files/index.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';

const ROOT = join(import.meta.dirname, '..', '..');

// What the document says, read as any client would read it.
const asyncapi = parse(readFileSync(join(ROOT, 'docs', 'asyncapi.yaml'), 'utf8'));
const ajv = new Ajv({ allErrors: true, validateFormats: false });
const schema = (name: string): ValidateFunction => ajv.compile(asyncapi.components.schemas[name]);
const valid = {
  trigger: schema('TriggerEvent'),
  approval: schema('Approval'),
  commit: schema('Commit'),
  deadLetter: schema('DeadLetter'),
  taskAttempt: schema('TaskAttempt'),
  input: schema('Input'),
};
const commitHeaders = ajv.compile(asyncapi.components.messages.Commit.headers);

function checked(validate: ValidateFunction, value: unknown, what: string): void {
  expect(validate(value), `${what}: ${ajv.errorsText(validate.errors)}`).toBe(true);
}

/** The run an event starts for a workflow, by the document's formula. */
const runIdFor = (eventId: string, workflowId: string) =>
  `ev-${createHash('sha256').update(`${eventId}/${workflowId}`).digest('hex').slice(0, 20)}`;

interface RunEvent {
  runId: string;
  seq: number;
  type: string;
  state: { status: string };
  data: Record<string, unknown>;
}

describe.skipIf(noNats)('a client built from docs/asyncapi.yaml with @nats-io/jetstream', () => {
  const engineLog: string[] = [];
  const c = useCluster({ engines: 1, engine: { log: (l) => engineLog.push(l) } });
  // The connections are @nats-io/transport-node's (the library under test here), not ledgerflow's.
  let producer: NatsConnection;
  let alice: NatsConnection;

  beforeAll(async () => {
    await c.engines[0]!.registry.deploy(
      loadDefinitionFile(join(ROOT, 'test', 'fixtures', 'wire-approval.yaml')).definition,
    );
    producer = await connect({ servers: c.url, user: 'engine', pass: 'engine-dev-password' });
    alice = await connect({ servers: c.url, user: 'alice', pass: 'alice-dev-password', inboxPrefix: '_INBOX_alice' });
    c.defer(() => producer.close());
    c.defer(() => alice.close());
  });

  /** Reads one subject of a stream from its start with an ordered consumer; `next` waits for the next message. */
  async function follow(stream: string, subject: string) {
    const consumer = await jetstream(producer).consumers.get(stream, { filter_subjects: subject });
    const messages = await consumer.consume();
    const it = messages[Symbol.asyncIterator]();
    return {
      async next(): Promise<JsMsg> {
        const r = await it.next();
        if (r.done) throw new Error(`${subject}: the consumer stopped`);
        expect(r.value.subject).toBe(subject);
        return r.value;
      },
      stop: () => messages.stop(),
    };
  }

  it('starts a run with a trigger event, approves its HUMAN task as alice and reads the run completed from LF_EVENTS', async () => {
    const event = {
      id: `po-${randomUUID()}`,
      type: 'purchase_requested',
      time: new Date().toISOString(),
      source: 'wire-test',
      data: { amount: 1200, item: 'laptop' },
    };
    checked(valid.trigger, event, 'trigger event');
    const js = jetstream(producer);
    const ack = await js.publish(`lf.triggers.${event.type}`, JSON.stringify(event), { msgID: event.id });
    expect(ack).toMatchObject({ stream: 'LF_TRIGGERS', duplicate: false });
    // The same event again, same message id: the stream drops it.
    expect((await js.publish(`lf.triggers.${event.type}`, JSON.stringify(event), { msgID: event.id })).duplicate).toBe(
      true,
    );

    const runId = runIdFor(event.id, 'wire-approval');
    const log = await follow('LF_EVENTS', `lf.events.wire-approval.${runId}`);
    const events: RunEvent[] = [];
    /** Reads commits until an event satisfies `stop`, checking each against the document. */
    const readUntil = async (stop: (e: RunEvent) => boolean): Promise<void> => {
      for (;;) {
        const m = await log.next();
        const commit = m.json<{ dedupId: string; events: RunEvent[] }>();
        checked(valid.commit, commit, `commit at stream sequence ${m.seq}`);
        const headers = Object.fromEntries(
          ['Nats-Msg-Id', 'Lf-Run-Id', 'Lf-First-Seq', 'Lf-Last-Seq'].map((h) => [h, m.headers?.get(h)]),
        );
        checked(commitHeaders, headers, 'commit headers');
        expect(headers).toEqual({
          'Nats-Msg-Id': `${runId}/${commit.dedupId}`,
          'Lf-Run-Id': runId,
          'Lf-First-Seq': String(commit.events[0]!.seq),
          'Lf-Last-Seq': String(commit.events.at(-1)!.seq),
        });
        events.push(...commit.events);
        if (commit.events.some(stop)) return;
      }
    };

    try {
      await readUntil((e) => e.state.status === 'WAITING');
      expect(events[0]).toMatchObject({
        runId,
        seq: 1,
        type: 'run.started',
        data: { input: { amount: 1200, item: 'laptop' }, source: { event: event.id } },
      });

      const approval = { decision: 'approved', comment: 'within budget' };
      checked(valid.approval, approval, 'approval');
      const approved = await jetstream(alice).publish(`lf.approvals.${runId}.sign.alice`, JSON.stringify(approval));
      expect(approved.stream).toBe('LF_APPROVALS');

      await readUntil((e) => e.state.status === 'COMPLETED');
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      expect(events.filter((e) => e.type === 'approval.recorded').map((e) => e.data)).toEqual([
        { task: 'sign', decision: 'approved', by: 'alice', comment: 'within budget' },
      ]);
      expect(events.filter((e) => e.type === 'run.started')).toHaveLength(1);
    } finally {
      log.stop();
    }
  }, 30_000);

  it("runs a small purchase's SIMPLE task as the worker user: the attempt pulled from its queue's own stream, its outcome reported on the queue's subject; another queue's stream is refused", async () => {
    const worker = await connect({
      servers: c.url,
      user: 'worker',
      pass: 'worker-dev-password',
      inboxPrefix: '_INBOX_worker',
    });
    try {
      const event = {
        id: `po-${randomUUID()}`,
        type: 'purchase_requested',
        time: new Date().toISOString(),
        source: 'wire-test',
        data: { amount: 20, item: 'pen' },
      };
      await jetstream(producer).publish(`lf.triggers.${event.type}`, JSON.stringify(event), { msgID: event.id });
      const runId = runIdFor(event.id, 'wire-approval');
      // Where the document says attempts of queue `default`, handler `record` are.
      const tasks = asyncapi.channels.tasks;
      const fill = (s: string, queue: string) => s.replace('{queue}', queue).replace('{handler}', 'record');
      const [stream, consumerName, subject] = [
        fill(tasks['x-stream'], 'default'),
        fill(tasks['x-consumers'][0], 'default'),
        fill(tasks.address, 'default'),
      ];
      // The engines create the stream and consumer as they hand out the first attempt: wait for them.
      const consumer = await waitFor(`${consumerName} on ${stream}`, () =>
        jetstream(worker)
          .consumers.get(stream, consumerName)
          .catch(() => undefined),
      );
      const m = await waitFor('the attempt', async () => (await consumer.next({ expires: 1000 })) ?? undefined);
      expect(m.subject).toBe(subject);
      const attempt = m.json<{ runId: string; taskId: string; attempt: number; token: string }>();
      checked(valid.taskAttempt, attempt, 'task attempt');
      expect(attempt).toMatchObject({ runId, taskId: 'record', attempt: 1 });
      const outcome = {
        type: 'task.completed',
        runId,
        time: new Date().toISOString(),
        token: attempt.token,
        data: { task: 'record', attempt: 1, output: { recorded: true } },
      };
      checked(valid.input, outcome, 'outcome');
      expect(
        (await jetstream(worker).publish(`lf.inputs.worker.default.${runId}`, JSON.stringify(outcome))).stream,
      ).toBe('LF_INPUTS');
      m.ack();
      const log = await follow('LF_EVENTS', `lf.events.wire-approval.${runId}`);
      try {
        for (let done = false; !done; )
          done = (await log.next()).json<{ events: RunEvent[] }>().events.some((e) => e.state.status === 'COMPLETED');
      } finally {
        log.stop();
      }
      // Another queue's stream is not the worker user's to read.
      await expect(
        jetstream(worker).consumers.get(fill(tasks['x-stream'], 'vault'), fill(tasks['x-consumers'][0], 'vault')),
      ).rejects.toThrow(/permission/i);
    } finally {
      await worker.close();
    }
  }, 30_000);

  it('finds a malformed approval on lf.dlq.approvals with the reason', async () => {
    const dlq = await follow('LF_DLQ', 'lf.dlq.approvals');
    try {
      const body = JSON.stringify({ decision: 'yes' });
      expect(valid.approval(JSON.parse(body))).toBe(false);
      await jetstream(alice).publish('lf.approvals.some-run.sign.alice', body);
      const entry = (await dlq.next()).json();
      checked(valid.deadLetter, entry, 'dead letter');
      expect(entry).toMatchObject({
        raw: body,
        reason: expect.stringContaining('malformed approval on lf.approvals.some-run.sign.alice'),
      });
    } finally {
      dlq.stop();
    }
  }, 30_000);
});
