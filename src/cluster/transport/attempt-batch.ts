/**
 * Offers signed a batch at a time: verifying an Ed25519 signature per attempt was 43% of a worker's CPU in `npm run
 * bench -- cluster`. The offers an engine makes in one turn of its event loop are instead the leaves of a Merkle tree
 * (RFC 6962's hashing: a leaf is SHA-256(0x00 ‖ body), a node SHA-256(0x01 ‖ left ‖ right)), whose root the engines
 * sign once; each offer carries that signature, its index and the hashes on its path. A worker hashes the body up the
 * path and verifies the root's signature once per batch; the hashes on a verified path are kept (bounded), so the next
 * offer of its batch stops hashing at the first of them it meets. An offer whose body or path was changed leads to
 * another root, which no engine signed. What is signed is `ROOT_CONTEXT ‖ root`, which no attempt's body can be
 * (bodies are JSON), so a root's signature is never a body's, nor the other way round.
 *
 * The header keeps its name (`Lf-Attempt-Sig`); the batch form is `m1.<signature>.<index>.<hash>…` (base64url), which a
 * worker from before it does not take: it answers the offer not taken, and the engine queues the attempt, signed alone
 * as before (task-queues.ts). So engines may be upgraded before their workers; offers go through the queue until they
 * are. A batch of one is signed alone, in the old form; so is the first offer of a turn while offers come one at a time
 * (no wait for a batch that will not come).
 */
import { createHash } from 'node:crypto';

/** What the engines sign for a batch: this, then its root (32 bytes). The NUL makes it no JSON body. */
export const ROOT_CONTEXT = Buffer.from('lf-attempt-batch-v1\0', 'latin1');
/** The most offers under one signature (a tree of depth 8): more in one turn start another batch. */
export const MAX_BATCH = 256;
const MAX_DEPTH = 8;
const PREFIX = 'm1.';
const LEAF = Buffer.from([0]);
const NODE = Buffer.from([1]);
/** The hash a tree's missing leaves have (its size rounded up to a power of two): no body hashes to it. */
const EMPTY = createHash('sha256')
  .update(Buffer.from([2]))
  .digest();

export function leafHash(body: Uint8Array): Buffer {
  return createHash('sha256').update(LEAF).update(body).digest();
}

function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(NODE).update(left).update(right).digest();
}

/** What the engines sign for a batch whose tree has this root. */
export function rootMessage(root: Uint8Array): Buffer {
  return Buffer.concat([ROOT_CONTEXT, root]);
}

/** The tree's root and each leaf's path (its sibling at each level, bottom up). */
export function merkleProofs(leaves: readonly Buffer[]): { root: Buffer; paths: Buffer[][] } {
  let level = [...leaves];
  while (level.length & (level.length - 1)) level.push(EMPTY);
  const paths: Buffer[][] = leaves.map(() => []);
  const at = leaves.map((_, i) => i);
  while (level.length > 1) {
    for (let i = 0; i < leaves.length; i++) paths[i]!.push(level[at[i]! ^ 1]!);
    const up: Buffer[] = [];
    for (let j = 0; j < level.length; j += 2) up.push(nodeHash(level[j]!, level[j + 1]!));
    for (let i = 0; i < leaves.length; i++) at[i] = at[i]! >> 1;
    level = up;
  }
  return { root: level[0]!, paths };
}

/** The header of a batched offer. */
export function batchHeader(signature: string, index: number, path: readonly Buffer[]): string {
  return `${PREFIX}${signature}.${index}${path.map((h) => `.${h.toString('base64url')}`).join('')}`;
}

/** A batched offer's header, read: its signature, index and path; null when it is not one (or one out of bounds). */
export function parseBatchHeader(header: string): { signature: string; index: number; path: Buffer[] } | null {
  if (!header.startsWith(PREFIX)) return null;
  const [signature, indexText, ...path] = header.slice(PREFIX.length).split('.');
  if (!signature || !/^[A-Za-z0-9_-]{86}$/.test(signature) || !indexText || !/^\d{1,3}$/.test(indexText)) return null;
  if (
    path.length > MAX_DEPTH ||
    Number(indexText) >= 2 ** path.length ||
    !path.every((h) => /^[A-Za-z0-9_-]{43}$/.test(h))
  )
    return null;
  return { signature, index: Number(indexText), path: path.map((h) => Buffer.from(h, 'base64url')) };
}

/** The node above `hash` and its `sibling`, `hash` being the right child when `right`. */
export function parentHash(hash: Uint8Array, sibling: Uint8Array, right: boolean): Buffer {
  return right ? nodeHash(sibling, hash) : nodeHash(hash, sibling);
}

/**
 * The engine's side: `sign(body)` answers, at the end of this turn of the event loop, the header for the body,
 * signed with the offers made in the same turn (the old form when it is alone). One offer at a time (the last
 * turn made one at most), the first of a turn is signed at once, alone: waiting out the turn would only delay
 * it, a step's worth of latency for every step of a run.
 */
export class BatchSigner {
  private pending: { body: Uint8Array; resolve: (header: string) => void; reject: (err: unknown) => void }[] = [];
  /** Offers asked for in this turn so far, and whether the last turn that made any made one at most. */
  private inTurn = 0;
  private quiet = true;

  /** `signBytes`: the engines' Ed25519 signature of some bytes (base64url, 86 characters). */
  constructor(private readonly signBytes: (data: Uint8Array) => string) {}

  sign(body: Uint8Array): Promise<string> {
    if (this.inTurn++ === 0) setImmediate(() => this.endTurn());
    if (this.quiet && this.inTurn === 1) {
      try {
        return Promise.resolve(this.signBytes(body));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return new Promise((resolve, reject) => {
      this.pending.push({ body, resolve, reject });
      if (this.pending.length >= MAX_BATCH) this.flush();
    });
  }

  private endTurn(): void {
    this.quiet = this.inTurn <= 1;
    this.inTurn = 0;
    this.flush();
  }

  private flush(): void {
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    try {
      if (batch.length === 1) {
        batch[0]!.resolve(this.signBytes(batch[0]!.body));
        return;
      }
      const { root, paths } = merkleProofs(batch.map((p) => leafHash(p.body)));
      const signature = this.signBytes(rootMessage(root));
      batch.forEach((p, i) => p.resolve(batchHeader(signature, i, paths[i]!)));
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }
}
