/**
 * The naive event-sourcing floor on a nats-server: a "workflow" is seven
 * one-event appends to its own subject, one at a time, each with the expected
 * last subject sequence and a message id (what any event-sourced engine must
 * do at least), on a stream configured as the JetStream store configures its
 * own, with the client options the store uses.
 */
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { commitHeaders } from '../src/store/jetstream/codec.js';
import { resolveOptions } from '../src/store/jetstream/options.js';
import { now, pool } from './kit.js';

export interface Floor {
  /** Workflows/s of `workflows` naive workflows, `concurrency` at a time. */
  round(workflows: number, concurrency: number): Promise<number>;
  close(): Promise<void>;
}

/** One naive workflow: seven one-event appends of `body` to `naive.events.bench.<runId>`, each after the last is acknowledged (also the jetstream section's floor). */
export async function naiveWorkflow(js: JetStreamClient, body: Uint8Array, runId: string): Promise<void> {
  let last = 0;
  for (let i = 1; i <= 7; i++) {
    const ack = await js.publish(`naive.events.bench.${runId}`, body, {
      msgID: `${runId}/${runId}/${i}`,
      headers: commitHeaders(runId, i, i),
      expect: { lastSubjectSequence: last },
    });
    last = ack.seq;
  }
}

export async function naiveFloor(url: string, eventBytes = 300): Promise<Floor> {
  const nc: NatsConnection = await connect({ servers: url, noAsyncTraces: true, name: 'ledgerflow-bench-floor' });
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc, { timeout: 30_000 });
  await jsm.streams.add(
    resolveOptions({ servers: url, stream: 'BENCH_NAIVE', subjectPrefix: 'naive.events' }).streamConfig,
  );
  const body = new TextEncoder().encode(JSON.stringify({ pad: 'x'.repeat(Math.max(0, eventBytes - 12)) }));
  const workflow = (runId: string) => naiveWorkflow(js, body, runId);
  let tag = 0;
  const round = async (workflows: number, concurrency: number) => {
    const r = tag++;
    const t = now();
    await pool(workflows, concurrency, (i) => workflow(`n${r}-${i}`));
    return workflows / ((now() - t) / 1000);
  };
  await round(Math.min(300, 64 * 4), 64); // warm-up: stream, connection, JIT
  return { round, close: () => nc.close() };
}
