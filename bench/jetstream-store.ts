/**
 * `npx tsx bench/jetstream-store.ts [--n 20000]`: the JetStream store's
 * append and read rates next to raw JetStream publishes with the same
 * options (msgID + expected last subject sequence, same payload), on a
 * nats-server started here from nats.conf (file storage), or on
 * $LEDGERFLOW_NATS_URL. Not a test: it prints numbers and ratios.
 */
import { randomBytes } from 'node:crypto';
import { connect } from '@nats-io/transport-node';
import type { EventEnvelope } from '../src/events/index.js';
import { JetStreamEventStore } from '../src/store/index.js';
import { startNatsServer, type NatsServer } from '../test/helpers/nats.js';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';

const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : d;
};
const N = arg('n', 20_000);
const WINDOW = arg('window', 256);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** A ~200-byte task.completed envelope. */
function event(runId: string, seq: number): EventEnvelope {
  return {
    runId,
    workflowId: 'bench',
    version: 1,
    seq,
    time: new Date(Date.UTC(2026, 0, 1) + seq).toISOString(),
    state: { status: 'RUNNING', hash: 'h' },
    type: 'task.completed',
    data: { task: 'step', attempt: 1, output: { v: seq } },
  };
}

async function timed(label: string, count: number, fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  const rate = count / ((performance.now() - t0) / 1000);
  console.log(`${label.padEnd(58)} ${fmt(rate).padStart(8)} /s`);
  return rate;
}

/** `total` operations spread over `window` workers, worker w doing op(w, i) for its share. */
async function windowed(
  total: number,
  window: number,
  op: (worker: number, i: number) => Promise<void>,
): Promise<void> {
  const per = Math.ceil(total / window);
  await Promise.all(
    Array.from({ length: window }, async (_, w) => {
      for (let i = 0; i < per; i++) await op(w, i);
    }),
  );
}

let server: NatsServer | undefined;
const url = process.env.LEDGERFLOW_NATS_URL || (server = await startNatsServer()).url;
const tag = randomBytes(3).toString('hex');
const sample = JSON.stringify({ dedupId: 'd-000001', events: [event('run-000000', 1)] });
console.log(`nats ${url}, ${N} commits of 1 event, commit body ${Buffer.byteLength(sample)} bytes, window ${WINDOW}\n`);

// Raw publishes with ledgerflow's options, on their own stream.
const nc = await connect({ servers: url });
const jsm = await jetstreamManager(nc);
const js = jetstream(nc);
const raw = `BENCH_RAW_${tag}`;
await jsm.streams.add({ name: raw, subjects: [`bench.raw.${tag}.>`], duplicate_window: 120_000_000_000 });
const bytes = new TextEncoder().encode(sample);
let rawSeq = 0;
const rawSeqRate = await timed('raw publish, sequential (msgID + expected subject seq)', N, async () => {
  for (let i = 0; i < N; i++) {
    const ack = await js.publish(`bench.raw.${tag}.wf.one`, bytes, {
      msgID: `s${i}`,
      expect: { lastSubjectSequence: rawSeq },
    });
    rawSeq = ack.seq;
  }
});
const last = new Map<number, number>();
const rawWinRate = await timed(`raw publish, ${WINDOW} in flight on ${WINDOW} subjects`, N, () =>
  windowed(N, WINDOW, async (w, i) => {
    const ack = await js.publish(`bench.raw.${tag}.wf.r${w}`, bytes, {
      msgID: `w${w}-${i}`,
      expect: { lastSubjectSequence: last.get(w) ?? 0 },
    });
    last.set(w, ack.seq);
  }),
);

const stream = `BENCH_LF_${tag}`;
const store = new JetStreamEventStore({ servers: url, stream, subjectPrefix: `bench.lf.${tag}` });
await store.connect();
const seqRate = await timed('store.append, sequential awaited, one run', N, async () => {
  for (let s = 1; s <= N; s++)
    await store.append({ runId: 'one', expectedSeq: s - 1, dedupId: `d${s}`, events: [event('one', s)] });
});
const winRate = await timed(`store.append, ${WINDOW} in flight, one run each`, N, () =>
  windowed(N, WINDOW, async (w, i) => {
    const runId = `run-${w}`;
    await store.append({ runId, expectedSeq: i, dedupId: `d${i}`, events: [event(runId, i + 1)] });
  }),
);
const reader = new JetStreamEventStore({ servers: url, stream, subjectPrefix: `bench.lf.${tag}` });
let got = 0;
const readRate = await timed(`store.read of one ${N}-commit run (cold instance)`, N, async () => {
  got = (await reader.read('one')).length;
});
if (got !== N) throw new Error(`read ${got} events, expected ${N}`);

console.log(
  `\nratios: sequential append / raw ${(seqRate / rawSeqRate).toFixed(2)}, windowed append / raw ${(winRate / rawWinRate).toFixed(2)}, read ${fmt(readRate)} events/s`,
);

await Promise.all([store.close(), reader.close()]);
await jsm.streams.delete(raw);
await jsm.streams.delete(stream);
await nc.close();
await server?.dispose();
