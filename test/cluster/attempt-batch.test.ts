/**
 * Offers signed a batch at a time (src/cluster/transport/attempt-batch.ts, docs/nats.md#attempts-are-signed-by-the-engines):
 * the offers of one turn of the engine's event loop share one Ed25519 signature of a Merkle root; a worker takes
 * an offer only when its body, index and path lead to a root the engines signed, and a lone offer keeps the old
 * form that workers from before batches read.
 */
import { headers, type Msg, type NatsConnection } from '@nats-io/nats-core';
import { describe, expect, it } from 'vitest';
import { subjects } from '../../src/cluster/index.js';
import { def } from '../helpers/engine.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';
import { AttemptTokens, AttemptVerifier, BatchSigner, ATTEMPT_SIG_HEADER } from '../../src/cluster/transport/index.js';
import { batchHeader, leafHash, merkleProofs, rootMessage } from '../../src/cluster/transport/attempt-batch.js';

const enc = new TextEncoder();
const tokens = AttemptTokens.fromSecret(new Uint8Array(32).fill(7));
const other = AttemptTokens.fromSecret(new Uint8Array(32).fill(9));
const body = (i: number) =>
  enc.encode(JSON.stringify({ runId: `r${i}`, taskId: 'charge', attempt: 1, input: { n: i } }));

async function verifier(key = tokens.publicKey()): Promise<AttemptVerifier> {
  return (await AttemptVerifier.open(null as unknown as NatsConnection, {
    pinned: key,
    stopped: () => false,
    log: () => {},
  }))!;
}
function withSig(sig: string) {
  const h = headers();
  h.set(ATTEMPT_SIG_HEADER, sig);
  return h;
}

describe('offers signed a batch at a time', () => {
  it('signs the offers of one turn once: each verifies, with one signature among them; offers one at a time are signed at once, alone, as before', async () => {
    let signed = 0;
    const signer = new BatchSigner((d) => {
      signed++;
      return tokens.sign(d);
    });
    const v = await verifier();
    const turn = () => new Promise((r) => setImmediate(r));
    // One at a time: signed alone, without waiting for the turn to end.
    let alone: string | undefined;
    void signer.sign(body(99)).then((s) => {
      alone = s;
    });
    await Promise.resolve();
    expect(alone).toMatch(/^[A-Za-z0-9_-]{86}$/);
    expect(v.verify(body(99), withSig(alone!))).toBe(true);
    await turn();
    // A burst after a quiet turn: its first alone, the rest under one signature; the next busy turn all under one.
    const bodies = Array.from({ length: 13 }, (_, i) => body(i));
    signed = 0;
    const first = await Promise.all(bodies.map((b) => signer.sign(b)));
    expect(signed).toBe(2);
    expect(first[0]).toMatch(/^[A-Za-z0-9_-]{86}$/);
    expect(new Set(first.slice(1).map((s) => s.split('.')[1])).size).toBe(1);
    signed = 0;
    const sigs = await Promise.all(bodies.map((b) => signer.sign(b)));
    expect(signed).toBe(1);
    expect(new Set(sigs.map((s) => s.split('.')[1])).size).toBe(1);
    for (let i = 0; i < bodies.length; i++) expect(v.verify(bodies[i]!, withSig(sigs[i]!))).toBe(true);
    // After a turn with one offer, offers are one at a time again.
    await signer.sign(body(100));
    await turn();
    let next: string | undefined;
    void signer.sign(body(101)).then((s) => {
      next = s;
    });
    await Promise.resolve();
    expect(next).toMatch(/^[A-Za-z0-9_-]{86}$/);
  });

  it('refuses an offer whose body, index or path was changed, or whose batch another key signed', async () => {
    const signer = new BatchSigner((d) => tokens.sign(d));
    const bodies = Array.from({ length: 5 }, (_, i) => body(i));
    const sigs = await Promise.all(bodies.map((b) => signer.sign(b)));
    const v = await verifier();
    // The batch's tree known to the worker first (every hash on a verified path is kept): forgeries still fail.
    expect(v.verify(bodies[2]!, withSig(sigs[2]!))).toBe(true);
    expect(v.verify(bodies[3]!, withSig(sigs[3]!))).toBe(true);
    // A hostile worker handed one offer keeps its header and changes the body (another run, a command of its own).
    expect(
      v.verify(
        enc.encode(JSON.stringify({ runId: 'r0', taskId: 'charge', attempt: 1, input: { cmd: 'id' } })),
        withSig(sigs[0]!),
      ),
    ).toBe(false);
    // Another offer's header on this body; the index changed; a path hash changed; a level dropped or added.
    expect(v.verify(bodies[0]!, withSig(sigs[1]!))).toBe(false);
    // To a worker that has not seen the batch yet, an index or path changed leads to a root no engine signed.
    const fresh = await verifier();
    const [m, sig, index, ...path] = sigs[2]!.split('.');
    expect(fresh.verify(bodies[2]!, withSig([m, sig, String(Number(index) ^ 1), ...path].join('.')))).toBe(false);
    expect(
      fresh.verify(
        bodies[2]!,
        withSig([m, sig, index, leafHash(bodies[4]!).toString('base64url'), ...path.slice(1)].join('.')),
      ),
    ).toBe(false);
    expect(fresh.verify(bodies[2]!, withSig([m, sig, index, ...path.slice(1)].join('.')))).toBe(false);
    expect(fresh.verify(bodies[2]!, withSig([m, sig, index, ...path, path[0]].join('.')))).toBe(false);
    // (A body the worker has verified is the engines' whatever header it comes with next: it is what they signed.)
    expect(v.verify(bodies[2]!, withSig([m, sig, String(Number(index) ^ 1), ...path].join('.')))).toBe(true);
    // The same batch signed by another key (engines of another cluster), and garbage.
    const { root, paths } = merkleProofs(bodies.map(leafHash));
    const forgedSig = other.sign(rootMessage(root));
    expect(fresh.verify(bodies[0]!, withSig(batchHeader(forgedSig, 0, paths[0]!)))).toBe(false);
    for (const junk of [
      'm1.',
      'm1.x.0',
      `m1.${sig}.999.${path.join('.')}`,
      `m1.${sig}.0${'.AAAA'.repeat(9)}`,
      `${sig}.0`,
    ])
      expect(v.verify(bodies[0]!, withSig(junk))).toBe(false);
    // A root's signature is no body's: presented as a lone signature of the root's bytes' body, it does not verify a body.
    expect(v.verify(bodies[0]!, withSig(sig!))).toBe(false);
  });

  it("hashes any batch size to one root that every offer's path leads to", async () => {
    for (const n of [2, 3, 4, 5, 8, 9, 31, 64, 256]) {
      const leaves = Array.from({ length: n }, (_, i) => body(i));
      const { root, paths } = merkleProofs(leaves.map(leafHash));
      const signature = tokens.sign(rootMessage(root));
      // Each offer checked by a worker that has seen none of its batch: its own path must reach the signed root.
      for (let i = 0; i < n; i++)
        expect((await verifier()).verify(leaves[i]!, withSig(batchHeader(signature, i, paths[i]!)))).toBe(true);
    }
  });
});

describe.skipIf(noNats)('engines upgraded before their workers (docs/nats.md: offers signed a batch at a time)', () => {
  const c = useCluster({
    engines: 1,
    deploy: [
      def(`
workflow:
  id: batch-upgrade
  version: 1
  input: { required: [n] }
  tasks:
    - { id: charge, type: SIMPLE, input: { n: "\${workflow.input.n}" } }
`),
    ],
  });

  it('a worker from before batches refuses a batched offer; its engine queues the attempt signed alone, and a worker pulling the queue runs it', async () => {
    const nc = await c.connect();
    const enc = new TextEncoder();
    // An older worker answers offers: one whose signature is not 86 characters it cannot check, so it does not take it.
    const refused: string[] = [];
    const old = nc.subscribe(subjects.offer('default', 'charge'), {
      callback: (_err, m: Msg) => {
        const sig = m.headers?.get('Lf-Attempt-Sig') ?? '';
        if (!/^[A-Za-z0-9_-]{86}$/.test(sig)) refused.push(sig);
        m.respond(enc.encode(JSON.stringify({ taken: false })));
      },
    });
    // What the engines put on the queue's stream, as published.
    const queued: string[] = [];
    const tap = nc.subscribe('lf.q.default.>', {
      callback: (_err, m: Msg) => {
        queued.push(m.headers?.get('Lf-Attempt-Sig') ?? '');
      },
    });
    const worker = await c.addWorker({
      directOffers: false,
      handlers: { charge: async (input) => ({ charged: input.n }) },
    });
    try {
      const runs = await Promise.all(Array.from({ length: 8 }, (_, n) => c.client.start('batch-upgrade', { n })));
      for (const [n, { runId }] of runs.entries()) {
        const view = await c.runs.wait(runId, { timeoutMs: 30_000 });
        expect(view.status).toBe('COMPLETED');
        expect(view.tasks.charge!.output).toEqual({ charged: n });
      }
      await waitFor('every attempt queued', () => queued.length >= 8);
      expect(refused.length).toBeGreaterThan(0);
      expect(refused.every((s) => s.startsWith('m1.'))).toBe(true);
      for (const sig of queued) expect(sig).toMatch(/^[A-Za-z0-9_-]{86}$/);
    } finally {
      old.unsubscribe();
      tap.unsubscribe();
      await c.stopWorker(worker);
    }
  }, 60_000);
});
