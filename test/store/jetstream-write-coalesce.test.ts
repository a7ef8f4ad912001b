/**
 * Every connection ledgerflow makes writes to its socket once per event-loop
 * turn (src/store/jetstream/write-coalesce.ts: a transport of our own around
 * the client's NodeTransport, no client code patched): several publishes
 * made in one turn go out in one socket write, nothing is lost on close, and
 * every append of the store lands.
 */
import type { Socket } from 'node:net';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Transport } from '@nats-io/nats-core/internal';
import { describe, expect, it } from 'vitest';
import { JetStreamEventStore } from '../../src/store/index.js';
import { CoalescingTransport, MAX_PENDING_BYTES, connect } from '../../src/store/jetstream/write-coalesce.js';
import { noNats, skipNote, uniqueId, useCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';
import { ev } from './helpers.js';

const shared = useCluster({ server: 'shared' });
const turn = () => new Promise<void>((r) => setImmediate(r));
const bytes = (s: string) => new TextEncoder().encode(s);

/** A transport that records what it is sent and closed with. */
function recording() {
  const log: string[] = [];
  const inner = {
    isClosed: false,
    lang: 'test',
    version: '0',
    send: (frame: Uint8Array) => {
      log.push(`send ${Buffer.from(frame).toString()}`);
    },
    close: async () => {
      log.push('close');
    },
    disconnect: () => {
      log.push('disconnect');
    },
    discard: () => {
      log.push('discard');
    },
  } as unknown as Transport;
  return { log, transport: new CoalescingTransport(inner) };
}

/** The connection's transport (ours) and a count of its socket's writes from now on. */
function socketWrites(nc: NatsConnection): { transport: unknown; writes: () => number } {
  const transport = (nc as unknown as { protocol: { transport: CoalescingTransport } }).protocol.transport;
  const socket = (transport.inner as unknown as { socket: Socket }).socket;
  let n = 0;
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  socket.write = ((...args: unknown[]) => {
    n++;
    return write(...args);
  }) as typeof socket.write;
  return { transport, writes: () => n };
}

describe('CoalescingTransport', () => {
  it("sends what one turn was given as one frame, in order, once the turn's I/O is done", async () => {
    const { log, transport } = recording();
    transport.send(bytes('PUB a 1\r\nx\r\n'));
    await Promise.resolve(); // a later microtask of the same turn
    transport.send(bytes('PUB b 1\r\ny\r\n'));
    expect(log).toEqual([]);
    await turn();
    expect(log).toEqual(['send PUB a 1\r\nx\r\nPUB b 1\r\ny\r\n']);
    transport.send(bytes('PING\r\n'));
    await turn();
    expect(log).toEqual(['send PUB a 1\r\nx\r\nPUB b 1\r\ny\r\n', 'send PING\r\n']);
  });

  it('writes at once what is past the size limit', () => {
    const { log, transport } = recording();
    transport.send(new Uint8Array(MAX_PENDING_BYTES - 1));
    expect(log).toEqual([]);
    transport.send(new Uint8Array(1));
    expect(log).toHaveLength(1);
    expect(log[0]!.length).toBe('send '.length + MAX_PENDING_BYTES);
  });

  it('writes what is pending before it closes, and drops it when the socket is lost', async () => {
    const closing = recording();
    closing.transport.send(bytes('PUB a 1\r\nx\r\n'));
    await closing.transport.close();
    expect(closing.log).toEqual(['send PUB a 1\r\nx\r\n', 'close']);
    const lost = recording();
    lost.transport.send(bytes('PUB a 1\r\nx\r\n'));
    lost.transport.disconnect();
    await turn();
    expect(lost.log).toEqual(['disconnect']);
  });
});

describe.skipIf(noNats)(`socket writes to nats-server${noNats ? skipNote : ''}`, () => {
  it('are one per turn for several publishes, and none is lost', async () => {
    const subject = `lfw.${uniqueId()}`;
    const listener = await connect({ servers: shared.url });
    const nc = await connect({ servers: shared.url });
    try {
      let got = 0;
      listener.subscribe(subject, {
        callback: () => {
          got++;
        },
      });
      await listener.flush();
      const { transport, writes } = socketWrites(nc);
      expect(transport).toBeInstanceOf(CoalescingTransport);
      // 50 publishes from promise continuations of their own, all in one turn.
      await Promise.all(
        Array.from({ length: 50 }, async (_, i) => {
          await Promise.resolve();
          nc.publish(subject, `m${i}`);
        }),
      );
      await turn();
      expect(writes()).toBe(1);
      await nc.flush();
      await waitFor('every publish delivered', () => got === 50);
    } finally {
      await nc.close();
      await listener.close();
    }
  });

  it('lose nothing published just before a close', async () => {
    const subject = `lfw.${uniqueId()}`;
    const listener = await connect({ servers: shared.url });
    try {
      let got = 0;
      listener.subscribe(subject, {
        callback: () => {
          got++;
        },
      });
      await listener.flush();
      const nc = await connect({ servers: shared.url });
      for (let i = 0; i < 20; i++) nc.publish(subject, `m${i}`);
      await nc.close();
      await waitFor('every publish made before the close delivered', () => got === 20);
    } finally {
      await listener.close();
    }
  });

  it("are coalesced on the store's connection, and every append lands", async () => {
    const id = uniqueId();
    const names = { stream: `LFW_${id}`, subjectPrefix: `lfw.${id}` };
    const store = new JetStreamEventStore({ servers: shared.url, ...names });
    try {
      const own = await store.connection();
      expect((own as unknown as { protocol: { transport: unknown } }).protocol.transport).toBeInstanceOf(
        CoalescingTransport,
      );
      const runs = Array.from({ length: 50 }, (_, i) => `w${i}`);
      // Each run's appends from promise continuations of their own, all in flight at once.
      await Promise.all(
        runs.map(async (runId) => {
          for (let seq = 1; seq <= 3; seq++)
            await store.append({ runId, expectedSeq: seq - 1, dedupId: `d${seq}`, events: [ev(runId, seq)] });
        }),
      );
      for (const runId of runs) expect((await store.read(runId)).map((e) => e.seq)).toEqual([1, 2, 3]);
    } finally {
      await store.close();
    }
    const reader = new JetStreamEventStore({ servers: shared.url, ...names });
    try {
      expect((await reader.read('w49')).length).toBe(3);
    } finally {
      await reader.close();
      const jsm = await shared.jsm();
      await jsm.streams.delete(names.stream).catch(() => undefined);
    }
  });
});
